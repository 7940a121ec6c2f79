"""Concurrent writers never double-apply: stale versions lose (412) and duplicates lose (409)
even when the requests race on separate connections with real commits."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests import territory
from tests.conftest import MovableClock
from tests.factories import geojson, square
from tests.territory import Committed, committed_territory

# A territory of its own (Bole, 652701) so committed rows never meet the rolled-back worlds.
BOLE = "652701"
COMMUNITY = f"{BOLE}001001"

real_client = territory.real_client


@pytest.fixture
async def committed(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    async with committed_territory(app, clock, region=BOLE, west=81.0, south=44.0) as data:
        yield data


async def test_racing_updates_with_the_same_etag_apply_once(
    real_client: AsyncClient, committed: Committed
) -> None:
    """R-GRID-2 / API.md If-Match: of two writers holding version 1, exactly one wins."""

    async def rename(name: str) -> int:
        response = await real_client.patch(
            f"/api/v1/grids/{committed.grid_id}",
            json={"name": name},
            headers={**committed.headers, "If-Match": '"1"'},
        )
        return response.status_code

    statuses = sorted(await asyncio.gather(rename("甲"), rename("乙")))
    assert statuses == [200, 412]
    history = await real_client.get(
        f"/api/v1/grids/{committed.grid_id}/history", headers=committed.headers
    )
    assert [v["version"] for v in history.json()] == [1, 2]


async def test_racing_creates_of_one_code_create_one_grid(
    real_client: AsyncClient, committed: Committed
) -> None:
    """R-ORG-1: codes are unique among live units, decided by the database under a race."""
    body = {
        "code": COMMUNITY + "002",
        "name": "并发网格",
        "parent_id": str(committed.community_id),
        "geometry": geojson(square(81.05, 44.0, 81.1, 44.05)),
    }

    async def create() -> int:
        response = await real_client.post("/api/v1/grids", json=body, headers=committed.headers)
        return response.status_code

    statuses = sorted(await asyncio.gather(create(), create()))
    assert statuses[0] == 201
    assert statuses[1] in (409, 422)  # the code clash, or the overlap with the winner
    listed = await real_client.get(
        "/api/v1/grids",
        params={"parent_id": str(committed.community_id)},
        headers=committed.headers,
    )
    assert listed.json()["total"] == 2
