"""The working-day calendar is data (R-SUP-3): shipped from the maintained package, read by
everyone, edited by administrators for new years, and what the rules compute with."""

from datetime import date, datetime

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM
from domain.workcalendar import BUSINESS_ZONE
from services import calendar
from services.context import Ctx
from services.db import set_scope
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth

URL = "/api/v1/calendar"


async def test_the_shipped_year_has_spring_festival_and_its_saturdays(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(URL, params={"year": 2026}, headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    days = {d["day"]: d for d in r.json()}
    assert days["2026-02-16"]["kind"] == "off" and days["2026-02-16"]["name"] == "春节"
    assert days["2026-02-14"]["kind"] == "work"
    assert days["2026-10-10"]["kind"] == "work"
    assert "2026-02-21" not in days  # a Saturday inside the holiday: off by the plain week
    assert all(d["source"] == "package" for d in r.json())


async def test_an_admin_edits_a_new_year_and_the_rules_follow(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    r = await client.put(f"{URL}/2027-02-08", json={"kind": "off", "name": "春节"}, headers=headers)
    assert r.status_code == 204, r.text
    r = await client.put(f"{URL}/2027-02-06", json={"kind": "work"}, headers=headers)
    assert r.status_code == 204
    listed = (await client.get(URL, params={"year": 2027}, headers=headers)).json()
    assert [(d["day"], d["kind"], d["source"]) for d in listed] == [
        ("2027-02-06", "work", "admin"),
        ("2027-02-08", "off", "admin"),
    ]
    ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
    await set_scope(session, "*")
    cal = await calendar.work_calendar(ctx)
    assert cal.is_working_day(date(2027, 2, 6)) and not cal.is_working_day(date(2027, 2, 8))
    # Friday 5 Feb 2027 00:00 + 2 working days: Fri, Sat (worked) → Sunday 00:00.
    start = datetime(2027, 2, 5, tzinfo=BUSINESS_ZONE)
    assert cal.add_working_days(start, 2) == datetime(2027, 2, 7, tzinfo=BUSINESS_ZONE)
    await client.put(f"{URL}/2027-02-06", json={"kind": "normal"}, headers=headers)
    assert not (await calendar.work_calendar(ctx)).is_working_day(date(2027, 2, 6))
    await set_scope(session, "*")
    audited = await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = 'calendar.set'")
    )
    assert audited == 3


async def test_only_admins_edit_and_bad_input_is_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    denied = await client.put(
        f"{URL}/2027-01-01", json={"kind": "off"}, headers=auth(world.worker_g1, clock)
    )
    assert_problem(denied, 403, "permission_denied")
    headers = auth(world.admin_d, clock)
    assert_problem(
        await client.put(f"{URL}/2027-01-01", json={"kind": "holiday"}, headers=headers),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.put(f"{URL}/2027-02-30", json={"kind": "off"}, headers=headers),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(URL, params={"year": 1800}, headers=headers), 422, "validation_failed"
    )
