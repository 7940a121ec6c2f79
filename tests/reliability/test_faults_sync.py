"""R-MOB-2: one offline batch sent three times at once — the app resending while the first
answer is still on its way — on real commits over separate connections leaves one set of
records: each operation applied once, the other two answers replays of it."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.api.test_sync import op, track
from tests.conftest import MovableClock
from tests.reliability.fault_territory import FaultTerritory, fault_territory
from tests.routes.events import event_body
from tests.territory import SUPERUSER_DSN, real_client

__all__ = ["real_client"]

REPLAYS = 3


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[FaultTerritory]:
    async with fault_territory(app, clock, region="654024", west=87.5, south=46.0) as data:
        yield data


def _batch(grid_id: uuid.UUID) -> list[dict[str, Any]]:
    point = {"type": "Point", "coordinates": [87.52, 46.02]}
    report = {k: v for k, v in event_body(grid_id).items() if k in ("title", "category", "subtype")}
    return [
        *(
            op(
                "visit.create",
                {
                    "grid_id": str(grid_id),
                    "visited_at": "2026-11-23T09:30:00+08:00",
                    "topic": "visit",
                    "content": f"离线走访 {n}",
                },
            )
            for n in range(3)
        ),
        op(
            "event.report",
            {
                **report,
                "occurred_at": "2026-11-23T09:00:00+08:00",
                "location": point,
                "crs": "wgs84",
            },
        ),
        op("check_in", {"location": point}),
        *(op("track.upload", track(m)) for m in (0, 5, 10)),
    ]


async def _stored(grid_id: uuid.UUID) -> dict[str, int]:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    users = "SELECT user_id FROM sync_operations"
    try:
        return {
            "visit_logs": await conn.fetchval(
                "SELECT count(*) FROM visit_logs WHERE grid_id = $1", grid_id
            ),
            "events": await conn.fetchval(
                "SELECT count(*) FROM events WHERE grid_id = $1", grid_id
            ),
            "check_ins": await conn.fetchval(
                f"SELECT count(*) FROM check_ins WHERE user_id IN ({users})"
            ),
        }
    finally:
        await conn.close()


async def test_r_mob_2_one_batch_replayed_three_times_at_once_makes_one_set(
    real_client: AsyncClient, territory: FaultTerritory
) -> None:
    batch = _batch(territory.grid_id)
    answers = await asyncio.gather(
        *(
            real_client.post(
                "/api/v1/sync",
                json={"operations": batch},
                headers=territory.reporter_on_clock,
            )
            for _ in range(REPLAYS)
        )
    )
    assert [a.status_code for a in answers] == [200] * REPLAYS, answers[0].text
    by_op: dict[str, list[str]] = {o["op_id"]: [] for o in batch}
    for answer in answers:
        for result in answer.json()["results"]:
            by_op[result["op_id"]].append(result["status"])
    for statuses in by_op.values():
        assert sorted(statuses).count("already_applied") == REPLAYS - 1, statuses
    assert await _stored(territory.grid_id) == {"visit_logs": 3, "events": 1, "check_ins": 1}
