"""R-ANA-1 statistics, chart-ready: registries and events by region (per child unit), by type
and by trend with year-on-year (同比) and month-on-month (环比), inside the jurisdiction and
behind each registry's own read permission."""

from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from domain.people import Kind
from services.models import User
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.events import make_event
from tests.routes.people import make_person

URL = "/api/v1/analysis"


async def stat(
    client: AsyncClient, user: User, clock: MovableClock, path: str, **params: Any
) -> dict[str, Any]:
    r = await client.get(f"{URL}/{path}", params=params, headers=auth(user, clock))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_r_ana_1_events_by_region_per_child_unit(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_event(session, clock, world)
    await make_event(session, clock, world, grid_id=world.g2.id)
    await make_event(session, clock, world, grid_id=world.g3.id)
    district = await stat(client, world.admin_d, clock, "events/by-region")
    assert district["total"] == 3 and district["unit_id"] == str(world.district.id)
    assert [(i["key"], i["name"], i["level"], i["value"]) for i in district["items"]] == [
        (str(world.s1.id), world.s1.name, "street", 2),
        (str(world.s2.id), world.s2.name, "street", 1),
    ]
    # A named unit: its children, here C1's two grids.
    c1 = await stat(client, world.admin_d, clock, "events/by-region", unit_id=str(world.c1.id))
    assert [(i["code"], i["value"]) for i in c1["items"]] == [
        (world.g1.code, 1),
        (world.g2.code, 1),
    ]
    # The sibling street sees its own only, and S1 does not exist for it.
    sibling = await stat(client, world.admin_s2, clock, "events/by-region")
    assert sibling["total"] == 1
    assert [(i["key"], i["value"]) for i in sibling["items"]] == [(str(world.c3.id), 1)]
    r = await client.get(
        f"{URL}/events/by-type",
        params={"unit_id": str(world.s1.id)},
        headers=auth(world.admin_s2, clock),
    )
    assert_problem(r, 404, "org_unit_not_found")


async def test_r_ana_1_people_by_type_counts_active_records_with_names(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_person(session, clock, world.g1)
    await make_person(session, clock, world.g1)
    await make_person(session, clock, world.g3, kind=Kind.FLOATING)
    gone = await make_person(session, clock, world.g1, kind=Kind.FLOATING)
    r = await client.post(
        f"/api/v1/people/{gone['id']}/deregister",
        json={"reason": "迁出"},
        headers={**auth(world.admin_d, clock), "If-Match": f'"{gone["version"]}"'},
    )
    assert r.status_code == 200, r.text
    body = await stat(client, world.admin_d, clock, "people/by-type")
    assert body["total"] == 3
    assert body["items"] == [
        {"key": "registered", "name": "户籍人口", "value": 2},
        {"key": "floating", "name": "流动人口", "value": 1},
    ]
    s1 = await stat(client, world.admin_s1, clock, "people/by-type")
    assert s1["items"] == [{"key": "registered", "name": "户籍人口", "value": 2}]
    # A window on the registration date.
    later = await stat(client, world.admin_d, clock, "people/by-type", since="2026-11-24")
    assert later == {
        "subject": "people",
        "unit_id": str(world.district.id),
        "total": 0,
        "items": [],
    }


async def test_r_ana_1_trend_by_month_with_year_on_year_and_month_on_month(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    for moment in (
        datetime(2025, 11, 10, 4, tzinfo=UTC),
        datetime(2026, 10, 5, 4, tzinfo=UTC),
        # 1 November 00:30 in Kashgar's business zone (+08:00) is still 31 October in UTC.
        datetime(2026, 10, 31, 16, 30, tzinfo=UTC),
        datetime(2026, 11, 23, 2, tzinfo=UTC),
    ):
        clock.current = moment
        await make_event(session, clock, world)
    body = await stat(
        client,
        world.admin_d,
        clock,
        "events/trend",
        granularity="month",
        since="2026-10-01",
        until="2026-11-23",
    )
    assert body["granularity"] == "month"
    assert body["items"] == [
        {
            "start": "2026-10-01",
            "value": 1,
            "year_before": 0,
            "previous": 0,
            "yoy": None,
            "mom": None,
        },
        {
            "start": "2026-11-01",
            "value": 2,
            "year_before": 1,
            "previous": 1,
            "yoy": 1.0,
            "mom": 1.0,
        },
    ]
    # Twelve months up to today by default; weeks and days on request.
    assert len((await stat(client, world.admin_d, clock, "events/trend"))["items"]) == 12
    weeks = await stat(client, world.admin_d, clock, "events/trend", granularity="week")
    assert len(weeks["items"]) == 8 and weeks["items"][-1]["start"] == "2026-11-23"
    assert weeks["items"][-1]["value"] == 1
    days = await stat(client, world.admin_d, clock, "events/trend", granularity="day")
    assert len(days["items"]) == 30 and days["items"][-1]["value"] == 1


async def test_r_ana_1_bad_windows_and_missing_permissions_are_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    r = await client.get(
        f"{URL}/events/trend",
        params={"since": "2026-11-02", "until": "2026-11-01"},
        headers=headers,
    )
    assert_problem(r, 422, "analysis_window_invalid")
    r = await client.get(
        f"{URL}/events/trend",
        params={"granularity": "day", "since": "2020-01-01", "until": "2026-11-01"},
        headers=headers,
    )
    assert_problem(r, 422, "analysis_window_too_long")
    # A department handler reads events, never the population registry (R-JUR-2).
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    r = await client.get(f"{URL}/people/by-type", headers=auth(handler, clock))
    assert_problem(r, 403, "permission_denied")
    r = await client.get(f"{URL}/nothing/by-type", headers=headers)
    assert r.status_code == 422
