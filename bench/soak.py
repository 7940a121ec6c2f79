"""`python -m bench.soak`: load held (`make soak`). The API, one process on the loopback,
serves the demo city (database `grid_soak`, migrated and seeded) while one wrk per role
(grid worker, community staff, street and district operators, leader) replays that role's
own reads for a bounded time. Every 5 s the API's RSS and its PostgreSQL connections are
sampled. It asserts an error rate under 0.1 %, connections within the pool (its size and
overflow, `services.settings`) and a flat RSS, prints a summary and writes
`bench/results/SOAK.md`."""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

from bench.load import LoadResult, Request, run_wrk
from bench.serve import free_port, uvicorn, wait_http
from services.settings import get_settings

DATABASE = "grid_soak"
PASSWORD = "demo12345"
POOL_LIMIT = get_settings().db_pool_size + get_settings().db_max_overflow
MAX_ERROR_RATE = 0.001
# RSS is flat when the last minute's median is within this of the first minute's.
RSS_GROWTH = 1.15
SAMPLE_SECONDS = 5.0
WARM_UP_SECONDS = 30.0
RESULTS = Path(__file__).parent / "results" / "SOAK.md"
GRIDCTL = str(Path(sys.executable).parent / "gridctl")

# Each role's own screens: what its console or app polls.
PLANS: dict[str, list[str]] = {
    "grid_worker": [
        "/api/v1/mobile/summary",
        "/api/v1/events?limit=20",
        "/api/v1/people?limit=20",
        "/api/v1/notifications?limit=20",
    ],
    "community_staff": [
        "/api/v1/events?limit=20",
        "/api/v1/people?limit=20",
        "/api/v1/houses?limit=20",
        "/api/v1/notifications?limit=20",
    ],
    "street_operator": ["/api/v1/events?limit=20", "/api/v1/grids?limit=20"],
    "district_operator": [
        "/api/v1/events?limit=20",
        "/api/v1/command-centre/summary",
        "/api/v1/grids?limit=20",
    ],
    "leader": ["/api/v1/command-centre/summary", "/api/v1/events?limit=20"],
}


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "GRID_DATABASE_URL": f"postgresql+asyncpg://grid_app@127.0.0.1:5432/{DATABASE}",
        "GRID_OWNER_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}",
    }


def _prepare(env: dict[str, str]) -> None:
    for command in (["migrate"], ["seed", "demo"]):
        subprocess.run([GRIDCTL, *command], env=env, check=True)


def _token(base: str, username: str) -> str:
    r = httpx.post(f"{base}/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return str(r.json()["access_token"])


def _check_plan(base: str, token: str, paths: list[str]) -> None:
    """Every path of a role's plan answers it 200 before the load starts."""
    for path in paths:
        r = httpx.get(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200, f"{path}: {r.status_code} {r.text[:200]}"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def _connections() -> int:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:5432/{DATABASE}")
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND usename = 'grid_app'"
            )
        )
    finally:
        await conn.close()


def _sample(pid: int, stop: threading.Event, into: list[tuple[float, int, int]]) -> None:
    started = time.monotonic()
    while not stop.wait(SAMPLE_SECONDS):
        into.append((time.monotonic() - started, _rss_kib(pid), asyncio.run(_connections())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--connections", type=int, default=4, help="per role")
    args = parser.parse_args()
    env = _env()
    _prepare(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = uvicorn("api.app:create_app", port, env, factory=True)
    samples: list[tuple[float, int, int]] = []
    stop = threading.Event()
    try:
        wait_http(f"{base}/healthz", api)
        tokens = {role: _token(base, role) for role in PLANS}
        for role, paths in PLANS.items():
            _check_plan(base, tokens[role], paths)
        sampler = threading.Thread(target=_sample, args=(api.pid, stop, samples))
        sampler.start()
        with ThreadPoolExecutor(len(PLANS)) as pool:
            futures = {
                role: pool.submit(
                    run_wrk,
                    base,
                    [Request("GET", path) for path in paths],
                    token=tokens[role],
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=1,
                )
                for role, paths in PLANS.items()
            }
            results: dict[str, LoadResult] = {role: f.result() for role, f in futures.items()}
        stop.set()
        sampler.join()
    finally:
        stop.set()
        api.terminate()
        api.wait(timeout=30)
    _report(results, samples, args.seconds)


def _report(
    results: dict[str, LoadResult], samples: list[tuple[float, int, int]], seconds: int
) -> None:
    requests = sum(r.requests for r in results.values())
    failures = sum(r.failures for r in results.values())
    rate = failures / requests if requests else 1.0
    steady = [s for s in samples if s[0] >= WARM_UP_SECONDS]
    first = statistics.median(s[1] for s in steady if s[0] < WARM_UP_SECONDS + 60)
    last = statistics.median(s[1] for s in steady if s[0] >= steady[-1][0] - 60)
    peak_connections = max(s[2] for s in samples)
    summary = {
        "seconds": seconds,
        "requests": requests,
        "failures": failures,
        "error_rate": rate,
        "rate_per_s": round(requests / seconds, 1),
        "per_role": {
            role: {"requests": r.requests, "failures": r.failures, "p95_ms": r.p95_ms}
            for role, r in results.items()
        },
        "rss_first_minute_mib": round(first / 1024, 1),
        "rss_last_minute_mib": round(last / 1024, 1),
        "peak_db_connections": peak_connections,
        "pool_limit": POOL_LIMIT,
    }
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    RESULTS.write_text(
        f"# Soak ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)\n\n```json\n"
        + json.dumps(summary, ensure_ascii=False, indent=2)
        + "\n```\n"
    )
    assert rate < MAX_ERROR_RATE, f"error rate {rate:.4%}"
    assert peak_connections <= POOL_LIMIT, f"{peak_connections} connections"
    assert last <= first * RSS_GROWTH, f"RSS grew from {first} to {last} KiB"


if __name__ == "__main__":
    main()
