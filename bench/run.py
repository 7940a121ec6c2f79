"""`python -m bench.run --scale 2m`: build the scale's data set if needed, serve the product
and the floor side by side (each API with an arq worker beside it), run every scenario
against both, print the figures and write `bench/results/LATEST.md`."""

import argparse
import asyncio
import os
import platform
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.dataset import SCALES, build, database_name, raw_dsn
from bench.export import ExportScenario
from bench.harness import Drain, Harness
from bench.imports import IMPORTS
from bench.pickup import PickupScenario
from bench.polling import PollingScenario
from bench.report import Outcome, Side, write_report
from bench.scenarios import http_scenarios, sample, sweep_scenarios
from bench.serve import bench_env, servers
from services.settings import get_settings

RESULTS = Path(__file__).parent / "results" / "LATEST.md"
USER = "district_operator"
PASSWORD = "demo12345"
# The run's own Redis database: no other worker on the machine takes its jobs.
REDIS_URL = "redis://127.0.0.1:6379/14"


def _login(product_url: str) -> str:
    response = httpx.post(
        f"{product_url}/api/v1/auth/token", json={"username": USER, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def _user(owner_url: str) -> tuple[str, str]:
    """The bench user's id and their unit's (a district)."""
    raw = await asyncpg.connect(raw_dsn(owner_url))
    try:
        row = await raw.fetchrow("SELECT id, unit_id FROM users WHERE username = $1", USER)
    finally:
        await raw.close()
    return str(row["id"]), str(row["unit_id"])


# Counters kept by triggers, a few thousand rows each updated by every bulk statement: a
# bulk load leaves their old versions behind in pages no vacuum gives back (board_versions
# of the 2m city: 4,320 rows in 122 MB, and every poll read them all, 17 ms instead of 2).
COUNTERS = ("board_versions", "person_counts", "map_cells")


async def _autovacuum(owner_url: str) -> str:
    """The server's autovacuum setting. With it off, what earlier runs' writers left behind
    stays until a reader prunes it, and every read wades through it: the run then vacuums
    the data set once before measuring, as autovacuum would have on a server that runs it.
    Either way the counters are rewritten compactly, as after a city's initial load (the
    report says so)."""
    raw = await asyncpg.connect(raw_dsn(owner_url))
    try:
        setting = str(await raw.fetchval("SHOW autovacuum"))
        if setting == "off":
            await raw.execute("VACUUM (ANALYZE)")
        await raw.execute(f"VACUUM (FULL, ANALYZE) {', '.join(COUNTERS)}")
        # The rewrite's pages are written out now, not by a checkpoint during the scenarios.
        await raw.execute("CHECKPOINT")
        return setting
    finally:
        await raw.close()


def _measured(scenario: Any, h: Harness) -> Outcome:
    """The scenario's outcome; one that broke is reported as missed, and the run goes on."""
    try:
        outcome: Outcome = scenario.measure(h)
    except Exception as exc:
        traceback.print_exc()
        return Outcome(
            scenario.group, scenario.name, Side(), Side(), None, [(f"ran: {exc!r}", False)]
        )
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="2m")
    parser.add_argument("--seconds", type=int, default=10, help="load per scenario and side")
    parser.add_argument("--redis-url", default=REDIS_URL, help="the run's Redis database")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated target numbers (e.g. 7,8): run those scenarios only; the report"
        " says which",
    )
    args = parser.parse_args()
    wanted = tuple(f"{n.strip()} " for n in args.only.split(",") if n.strip())
    scale = SCALES[args.scale]
    os.environ["GRID_DATABASE_URL"] = (
        f"postgresql+asyncpg://grid_app@127.0.0.1:5432/{database_name(scale)}"
    )
    os.environ["GRID_REDIS_URL"] = args.redis_url
    # Tokens outlive the run; the bench user signs in once.
    os.environ.setdefault("GRID_ACCESS_TOKEN_MINUTES", "240")
    get_settings.cache_clear()
    settings = get_settings()
    build_timings = asyncio.run(build(scale))
    # Other work on the machine skews every figure; the report says how busy it was.
    load = os.getloadavg()[0]
    autovacuum = asyncio.run(_autovacuum(settings.owner_url))
    samples = asyncio.run(sample(settings.owner_url, USER))
    user_id, district_id = asyncio.run(_user(settings.owner_url))
    outcomes: list[Outcome] = []
    owner_dsn, app_dsn = raw_dsn(settings.owner_url), raw_dsn(settings.database_url)
    with tempfile.TemporaryDirectory(prefix="grid-bench-") as work:
        workdir = Path(work)
        env = bench_env(app_dsn, samples.scope, workdir / "storage")
        with servers(env, workdir) as running:
            drain = Drain(owner_dsn, (running.product_url, running.floor_url))
            h = Harness(
                servers=running,
                token=_login(running.product_url),
                seconds=args.seconds,
                scale=scale.name,
                user_id=user_id,
                district_id=district_id,
                scope=samples.scope,
                owner_dsn=owner_dsn,
                app_dsn=app_dsn,
                workdir=workdir,
                drain=drain,
            )
            scenarios = [
                *http_scenarios(samples),
                PollingScenario(),
                *IMPORTS,
                ExportScenario(),
                PickupScenario(),
            ]
            for scenario in scenarios:
                if wanted and not scenario.group.startswith(wanted):
                    continue
                outcome = _measured(scenario, h)
                print(outcome.line(), flush=True)
                outcomes.append(outcome)
            if not wanted or "5 ".startswith(wanted):
                for outcome in asyncio.run(sweep_scenarios(h)):
                    print(outcome.line(), flush=True)
                    outcomes.append(outcome)
            drain.close()
    write_report(
        RESULTS,
        scale=scale,
        when=datetime.now(UTC),
        machine=(
            f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()}"
            f" · load average {load:.1f} when the run began · PostgreSQL autovacuum {autovacuum}"
            + (" (the data set vacuumed before the run)" if autovacuum == "off" else "")
            + f" · counters rewritten before the run ({', '.join(COUNTERS)})"
            + (f" · targets {args.only} only" if wanted else "")
        ),
        build_timings=build_timings,
        outcomes=outcomes,
    )
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
