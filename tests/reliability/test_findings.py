"""What the fuzzing found (docs/reliability.md, "Fuzzing"), each pinned by the request that
broke it: every one answered 500 before its fix and is now a clear 4xx with nothing written,
or the answer it should have been."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Supervision, TrackPoint
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes import collect, prepare
from tests.routes.events import make_event

SCOPED = collect().scoped


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/api-keys/{key_id}", "operations"),
        ("/api/v1/daily/ledgers/{entry_id}", "occurred_on"),
        ("/api/v1/handbooks/{handbook_id}", "title"),
        ("/api/v1/mobile/visits/{visit_id}", "content"),
    ],
)
async def test_a_patch_cannot_null_a_field_that_always_has_a_value(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    path: str,
    field: str,
) -> None:
    """Null for a required column was passed on to the database (500); now 422 naming the
    field, and the record reads as before (API.md: absent stays, null clears only what can
    be empty)."""
    call = await prepare(SCOPED[("PATCH", path)], session, world, clock)
    headers = auth(world.admin_d, clock)
    before = await client.get(call.path, headers=headers)
    assert before.status_code == 200, before.text
    r = await client.patch(call.path, json={field: None}, headers=headers)
    body = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == [field]
    after = await client.get(call.path, headers=headers)
    assert after.json() == before.json()


async def _count(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_nul_character_in_text_is_refused_and_nothing_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """PostgreSQL text cannot hold U+0000 (500 before): 422 `value_unstorable`, no card."""
    event = await make_event(session, clock, world)
    url = f"/api/v1/events/{event['id']}/actions/supervise"
    headers = auth(world.admin_d, clock)
    cards = await _count(session, Supervision)
    r = await client.post(
        url, json={"level": "yellow", "opinion": "限期\u0000办结"}, headers=headers
    )
    assert_problem(r, 422, "value_unstorable")
    assert await _count(session, Supervision) == cards
    ok = await client.post(url, json={"level": "yellow", "opinion": "限期办结"}, headers=headers)
    assert ok.status_code == 200, ok.text


async def test_a_nul_character_in_a_calendar_day_name_r_sup_3(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    r = await client.put(
        "/api/v1/calendar/2026-12-31", json={"name": "调\u0000休", "kind": "off"}, headers=headers
    )
    assert_problem(r, 422, "value_unstorable")
    r = await client.get("/api/v1/calendar", params={"year": 2026}, headers=headers)
    assert "2026-12-31" not in r.text


async def test_an_accuracy_the_database_cannot_hold_r_mob_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """An accuracy of 7e-87 m underflowed the single-precision column (500 before): 422, and
    none of the batch's points is stored."""
    points = [
        {"recorded_at": "2026-11-23T09:00:00+08:00", "lon": 75.91, "lat": 39.42},
        {
            "recorded_at": "2026-11-23T09:01:00+08:00",
            "lon": 75.92,
            "lat": 39.42,
            "accuracy_m": 7e-87,
        },
    ]
    stored = await _count(session, TrackPoint)
    r = await client.post(
        "/api/v1/mobile/tracks", json={"points": points}, headers=auth(world.worker_g1, clock)
    )
    assert_problem(r, 422, "value_unstorable")
    assert await _count(session, TrackPoint) == stored


async def test_a_department_handler_opens_the_command_centre_r_jur_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The red-card list joined the current step and the department filter's subquery
    correlated to nothing (500 for every department user); now the board answers and lists
    no event that was never dispatched to the department."""
    red = await make_event(session, clock, world)
    r = await client.post(
        f"/api/v1/events/{red['id']}/actions/supervise",
        json={"level": "red", "opinion": "立即处置"},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200, r.text
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    r = await client.get("/api/v1/command-centre/summary", headers=auth(handler, clock))
    assert r.status_code == 200, r.text
    assert r.json()["red_events"] == []
