"""`python -m bench.run --scale 2m`: build the scale's data set if needed, serve the product
and the floor side by side, run every scenario against both, print the figures and write
`bench/results/LATEST.md`."""

import argparse
import asyncio
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.dataset import SCALES, build, database_name, raw_dsn
from bench.report import Outcome, write_report
from bench.scenarios import http_scenarios, sample, sweep_scenarios
from services.settings import get_settings

RESULTS = Path(__file__).parent / "results" / "LATEST.md"
USER = "district_operator"
PASSWORD = "demo12345"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _uvicorn(target: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen([*command, "--factory"] if factory else command, env=env)


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


@contextmanager
def servers(scope: str) -> Iterator[tuple[str, str]]:
    """The product (the API app, one process) and the floor, each on its own port."""
    settings = get_settings()
    product_port, floor_port = _free_port(), _free_port()
    env = {**os.environ, "BENCH_DSN": raw_dsn(settings.database_url), "BENCH_SCOPE": scope}
    product = _uvicorn("api.app:create_app", product_port, env, factory=True)
    floor = _uvicorn("bench.floor:app", floor_port, env, factory=False)
    try:
        product_url, floor_url = (
            f"http://127.0.0.1:{product_port}",
            f"http://127.0.0.1:{floor_port}",
        )
        _wait(f"{product_url}/healthz", product)
        _wait(f"{floor_url}/", floor)
        yield product_url, floor_url
    finally:
        for process in (product, floor):
            process.terminate()
            process.wait(timeout=30)


def _login(product_url: str) -> str:
    response = httpx.post(
        f"{product_url}/api/v1/auth/token", json={"username": USER, "password": PASSWORD}
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="2m")
    parser.add_argument("--seconds", type=int, default=10, help="load per scenario and side")
    args = parser.parse_args()
    scale = SCALES[args.scale]
    os.environ["GRID_DATABASE_URL"] = (
        f"postgresql+asyncpg://grid_app@127.0.0.1:5432/{database_name(scale)}"
    )
    # Tokens outlive the run; the bench user signs in once.
    os.environ.setdefault("GRID_ACCESS_TOKEN_MINUTES", "240")
    get_settings.cache_clear()
    build_timings = asyncio.run(build(scale))
    # Other work on the machine skews every figure; the report says how busy it was.
    load = os.getloadavg()[0]
    samples = asyncio.run(sample(get_settings().owner_url, USER))
    outcomes: list[Outcome] = []
    with servers(samples.scope) as (product_url, floor_url):
        token = _login(product_url)
        for scenario in http_scenarios(samples):
            outcome = scenario.measure(product_url, floor_url, token, args.seconds)
            print(outcome.line(), flush=True)
            outcomes.append(outcome)
    for outcome in asyncio.run(sweep_scenarios(get_settings().owner_url)):
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    write_report(
        RESULTS,
        scale=scale,
        when=datetime.now(UTC),
        machine=(
            f"{platform.node()} · {os.cpu_count()} cores · {platform.platform()}"
            f" · load average {load:.1f} when the run began"
        ),
        build_timings=build_timings,
        outcomes=outcomes,
    )
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
