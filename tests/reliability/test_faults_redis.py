"""Redis stopped under write load (R-WF-5): the API keeps serving and accepting events, each
event's SMS waits in the outbox (PostgreSQL), the arq worker exits with Redis and is started
again by its supervisor (`scripts/supervise.sh`), and once Redis is back the restarted worker
delivers everything queued meanwhile — nothing lost.

Real processes on a Redis of the test's own: the API under uvicorn, the worker under the
supervisor. The outage is real time, so its length is a parameter:
`GRID_FAULT_REDIS_OUTAGE_SECONDS` (a few seconds under `make test`; `make soak` sets 60)."""

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from fastapi import FastAPI

from tests.conftest import MovableClock
from tests.reliability.fault_territory import FaultTerritory, fault_territory
from tests.reliability.harness import (
    api_server,
    redis_server,
    service_env,
    supervised_worker,
    until,
)
from tests.routes.events import event_body
from tests.territory import SUPERUSER_DSN
from workers.jobs import HEARTBEAT_KEY

OUTAGE_SECONDS = float(os.environ.get("GRID_FAULT_REDIS_OUTAGE_SECONDS", "4"))
WRITERS = 3
# A worker retries its Redis connection for about five seconds before it gives up.
WORKER_EXIT_SECONDS = 30.0
# After Redis is back: the supervisor's back-off (10 s at most), start-up, the next drain.
CATCH_UP_SECONDS = 90.0


@dataclass
class WriteLoad:
    """Writers reporting events through the API until stopped, and a reader listing them;
    every answer is kept."""

    http: httpx.AsyncClient
    territory: FaultTerritory
    accepted: list[uuid.UUID] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    reads: int = 0
    running: bool = True

    async def _write(self, writer: int) -> None:
        n = 0
        while self.running:
            n += 1
            body = event_body(self.territory.grid_id, title=f"故障演练 {writer}-{n}")
            try:
                r = await self.http.post(
                    "/api/v1/events", json=body, headers=self.territory.reporter
                )
            except httpx.HTTPError as exc:
                self.failures.append(f"POST: {exc!r}")
                continue
            if r.status_code == 201:
                self.accepted.append(uuid.UUID(r.json()["id"]))
            else:
                self.failures.append(f"POST {r.status_code}: {r.text[:300]}")

    async def _read(self) -> None:
        while self.running:
            r = await self.http.get(
                "/api/v1/events", params={"limit": 5}, headers=self.territory.staff
            )
            if r.status_code == 200:
                self.reads += 1
            else:
                self.failures.append(f"GET {r.status_code}: {r.text[:300]}")

    async def run(self) -> None:
        await asyncio.gather(*(self._write(w) for w in range(WRITERS)), self._read())


async def _sms_by_event(grid_id: uuid.UUID) -> dict[uuid.UUID, tuple[int, int]]:
    """Per event of the grid: SMS messages in the outbox, and how many of them were sent."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        rows = await conn.fetch(
            """
            SELECT e.id, count(o.id) AS queued, count(o.sent_at) AS sent
            FROM events e
            LEFT JOIN outbox o ON o.kind = 'sms' AND o.payload->>'event_id' = e.id::text
            WHERE e.grid_id = $1
            GROUP BY e.id
            """,
            grid_id,
        )
    finally:
        await conn.close()
    return {row["id"]: (row["queued"], row["sent"]) for row in rows}


async def test_r_wf_5_redis_stopped_under_write_load_loses_nothing(
    app: FastAPI, clock: MovableClock, tmp_path: Path
) -> None:
    async with fault_territory(app, clock, region="654021", west=86.0, south=46.0) as territory:
        with redis_server(tmp_path) as redis, (tmp_path / "api.log").open("wb") as api_log:
            env = service_env(redis_url=redis.url())
            beat = aioredis.Redis.from_url(redis.url(), socket_connect_timeout=1)
            with (
                api_server(env, api_log) as base,
                supervised_worker(env, tmp_path / "worker.log") as worker,
            ):
                await _run_outage(base, territory, redis, beat, worker)
            await beat.aclose()


async def _heartbeat(beat: aioredis.Redis) -> bool:
    try:
        return bool(await beat.exists(HEARTBEAT_KEY))
    except aioredis.RedisError:
        return False


async def _run_outage(
    base: str, territory: FaultTerritory, redis: Any, beat: aioredis.Redis, worker: Any
) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        await until(lambda: _heartbeat(beat), seconds=60, what="the worker's first heartbeat")

        async def serving() -> bool:
            return (await http.get("/healthz", timeout=90)).status_code == 200

        await until(serving, seconds=90, what="the API")
        load = WriteLoad(http, territory)
        running = asyncio.create_task(load.run())

        async def accepted_more(than: int) -> bool:
            assert load.failures == [], load.failures[:5]
            return len(load.accepted) > than

        await until(lambda: accepted_more(5), seconds=60, what="events before the outage")
        first_worker = worker.worker()
        before = len(load.accepted)
        redis.kill()
        started = time.monotonic()

        async def worker_exited() -> bool:
            return worker.restarts() >= 1

        await until(worker_exited, seconds=WORKER_EXIT_SECONDS, what="the worker to exit")
        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
        during = len(load.accepted) - before
        reads_during = load.reads
        redis.start()
        outage = time.monotonic() - started
        await until(lambda: accepted_more(before + during + 5), seconds=30, what="events after")
        load.running = False
        await running

    assert load.failures == [], load.failures[:5]
    assert during > 0 and reads_during > 0, "the API stopped serving while Redis was down"

    async def caught_up() -> bool:
        return await _heartbeat(beat) and all(
            queued == sent for queued, sent in (await _sms_by_event(territory.grid_id)).values()
        )

    await until(caught_up, seconds=CATCH_UP_SECONDS, what="the worker to catch up")
    sms = await _sms_by_event(territory.grid_id)
    # Every accepted event is stored, with its notice's SMS queued once and sent.
    assert set(sms) == set(load.accepted)
    assert set(sms.values()) == {(1, 1)}
    assert worker.worker() not in (None, first_worker)
    print(
        f"redis outage {outage:.1f} s: {len(load.accepted)} events accepted "
        f"({during} during the outage), {load.reads} reads, 0 failed, "
        f"{len(sms)} SMS delivered after {worker.restarts()} worker restart(s), 0 lost"
    )
