"""Grid workers' last positions (R-MAP-1 "grid workers' last positions"): the mobile app
reports the caller's position (GCJ-02 from phones, R-GRID-4), each report replaces the last,
every report is audited (R-AUD-1), and the map shows them as a layer inside jurisdiction."""

from datetime import timedelta
from typing import Any

import prcoords
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, WorkerPosition
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user

URL = "/api/v1/me/position"
HERE = (75.921, 39.421)  # inside grid G1


def at(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


async def rows(session: AsyncSession) -> tuple[int, int]:
    await set_scope(session, "*")
    positions = await session.scalar(select(func.count()).select_from(WorkerPosition))
    audits = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "position.report")
    )
    return int(positions or 0), int(audits or 0)


async def layer(client: AsyncClient, user: Any, clock: MovableClock) -> list[dict[str, Any]]:
    r = await client.post(
        "/api/v1/map/query",
        json={"layers": ["worker_positions"], "bbox": [75.8, 39.3, 76.2, 39.7], "geojson": True},
        headers=auth(user, clock),
    )
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["layers"]["worker_positions"]["items"]
    return items


async def test_a_grid_worker_reports_from_a_phone_and_the_last_report_wins(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    gcj = prcoords.wgs_gcj((HERE[1], HERE[0]))
    headers = auth(world.worker_g1, clock)
    r = await client.put(
        URL,
        json={"location": at(gcj.lon, gcj.lat), "accuracy_m": 12.5},
        params={"crs": "gcj02"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    out = r.json()
    lon, lat = out["location"]["coordinates"]
    assert abs(lon - HERE[0]) < 1e-5 and abs(lat - HERE[1]) < 1e-5  # stored as WGS-84
    assert (out["user_id"], out["full_name"], out["accuracy_m"]) == (
        str(world.worker_g1.id),
        world.worker_g1.full_name,
        12.5,
    )
    assert out["reported_at"] == "2026-11-23T10:00:00+08:00"
    clock.advance(timedelta(minutes=5))
    r = await client.put(
        URL, json={"location": at(75.93, 39.43)}, headers=auth(world.worker_g1, clock)
    )
    assert r.status_code == 200, r.text
    assert await rows(session) == (1, 2)  # one position, every report audited
    [item] = await layer(client, world.admin_d, clock)
    assert item["id"] == str(world.worker_g1.id)
    assert item["geometry"]["coordinates"] == [75.93, 39.43]
    assert (item["full_name"], item["accuracy_m"]) == (world.worker_g1.full_name, None)
    assert item["reported_at"] == "2026-11-23T10:05:00+08:00"
    await set_scope(session, "*")
    entry = (
        await session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "position.report")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        )
    ).scalar_one()
    assert (entry.actor_id, entry.unit_path, entry.target_id) == (
        world.worker_g1.id,
        world.g1.path,
        str(world.worker_g1.id),
    )


async def test_positions_are_seen_inside_jurisdiction_only(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.put(URL, json={"location": at(*HERE)}, headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    assert len(await layer(client, world.admin_s1, clock)) == 1
    assert len(await layer(client, world.worker_g1, clock)) == 1
    assert await layer(client, world.admin_s2, clock) == []


async def test_bad_reports_are_refused_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    before = await rows(session)
    polygon = {
        "type": "Polygon",
        "coordinates": [[[75.9, 39.4], [76.0, 39.4], [76.0, 39.5], [75.9, 39.4]]],
    }
    for body, code, field in (
        ({}, "validation_failed", "location"),
        ({"location": polygon}, "geometry_type", "location"),
        ({"location": at(75.9, 95.0)}, "coordinate_out_of_range", "location"),
        ({"location": at(*HERE), "accuracy_m": -1}, "validation_failed", "accuracy_m"),
        ({"location": at(*HERE), "user_id": str(world.admin_d.id)}, "validation_failed", "user_id"),
    ):
        r = await client.put(URL, json=body, headers=headers)
        problem = assert_problem(r, 422, code)
        assert field in [e["field"] for e in problem["errors"]], body
    # Reporting a position is the field roles' (and administrators') permission.
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    r = await client.put(URL, json={"location": at(*HERE)}, headers=auth(staff, clock))
    assert_problem(r, 403, "permission_denied")
    assert await rows(session) == before
