"""The working calendar (R-SUP-3) and the system settings are held per process, each for the
stamp its table's trigger draws at every change (migration 0051): a request given the stamps
with its principal reads them without a round trip; a change by any writer is seen by the
next request; a session reads its own change afresh; a change rolled back leaves the stamp
as it was, and with it what the processes hold."""

from collections.abc import AsyncIterator
from datetime import date

import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services import calendar, reference_data, routing, settings_store
from services.models import Event
from services.reference_data import CALENDAR, ROUTING, SETTINGS, Held
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user
from tests.routes.events import event_body
from tests.routes.mobile import as_user
from tests.routes.routing import make_rule, rule_fields
from tests.statements import recorded

STAMP = text("SELECT stamp FROM reference_stamps WHERE name = :name")
# A weekday the shipped calendar leaves alone.
DAY = date(2027, 3, 3)


@pytest.fixture
async def other(conn: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A second session in the test's transaction, for a writer other than the reader."""
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as s:
        yield s


async def test_a_routed_report_reads_no_reference_table_once_they_are_held(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    rule = await make_rule(session, clock, world)
    headers = auth(world.worker_g1, clock)
    first = await client.post("/api/v1/events", json=event_body(world.g1.id), headers=headers)
    assert first.status_code == 201, first.text
    async with recorded(conn) as statements:
        r = await client.post("/api/v1/events", json=event_body(world.g1.id), headers=headers)
    assert r.status_code == 201, r.text
    # Routed by the held rule (R-WF-3), deadlines from the held calendar (R-SUP-3).
    assert r.json()["steps"][0]["routing_rule_id"] == str(rule["id"])
    assert r.json()["current_step"]["department_id"] == str(world.dept_s1.id)
    assert r.json()["steps"][0]["accept_red_at"] is not None
    assert [s for s in statements if "reference_stamps" in s], "stamps read with the principal"
    tables = ("calendar_days", "system_settings", "routing_rules")
    assert [s for s in statements if any(table in s for table in tables)] == []


SETTING_CHANGE = (
    "INSERT INTO system_settings (key, value, version, updated_at)"
    " VALUES ('tag_link_mode', '1', 1, now()) ON CONFLICT (key) DO UPDATE SET value = '1'"
)


@pytest.mark.parametrize(
    ("name", "change"),
    [
        (CALENDAR, "INSERT INTO calendar_days (day, kind) VALUES ('2027-03-03', 'off')"),
        (CALENDAR, "UPDATE calendar_days SET name = name || '!'"),
        (CALENDAR, "DELETE FROM calendar_days WHERE day < '2020-01-01'"),
        (SETTINGS, SETTING_CHANGE),
        (ROUTING, "UPDATE routing_rules SET priority = priority + 1"),
    ],
)
async def test_every_statement_that_changes_a_reference_table_restamps_it(
    session: AsyncSession, name: str, change: str
) -> None:
    others = [other for other in (CALENDAR, SETTINGS, ROUTING) if other != name]
    before = {n: await session.scalar(STAMP, {"name": n}) for n in (name, *others)}
    await session.execute(text(change))
    assert await session.scalar(STAMP, {"name": name}) not in {None, before[name]}
    assert {n: await session.scalar(STAMP, {"name": n}) for n in others} == {
        n: before[n] for n in others
    }


async def test_a_change_rolled_back_leaves_the_stamp_as_it_was(session: AsyncSession) -> None:
    before = await session.scalar(STAMP, {"name": CALENDAR})
    savepoint = await session.begin_nested()
    await session.execute(
        text("INSERT INTO calendar_days (day, kind) VALUES ('2027-03-03', 'off')")
    )
    assert await session.scalar(STAMP, {"name": CALENDAR}) != before
    await savepoint.rollback()
    assert await session.scalar(STAMP, {"name": CALENDAR}) == before


async def test_a_change_by_another_writer_is_seen_by_the_next_request(
    session: AsyncSession, other: AsyncSession, world: World, clock: MovableClock
) -> None:
    reader = await as_user(session, clock, world.worker_g1)
    assert (await calendar.work_calendar(reader)).is_working_day(DAY)
    assert await settings_store.get_value(reader, settings_store.DUPLICATE_RADIUS_M) != 777
    await other.execute(
        text("INSERT INTO calendar_days (day, kind) VALUES (:day, 'off')"), {"day": DAY}
    )
    await other.execute(
        text(
            "INSERT INTO system_settings (key, value, version, updated_at)"
            " VALUES ('event_duplicate_radius_m', '777', 1, now())"
        )
    )
    # The same request holds to the stamps it was given; the next one is given the new ones.
    assert (await calendar.work_calendar(reader)).is_working_day(DAY)
    next_request = await as_user(session, clock, world.worker_g1)
    assert not (await calendar.work_calendar(next_request)).is_working_day(DAY)
    assert await settings_store.get_value(next_request, settings_store.DUPLICATE_RADIUS_M) == 777


async def test_a_session_reads_its_own_change_afresh(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    admin = await as_user(session, clock, world.admin_d)
    assert (await calendar.work_calendar(admin)).is_working_day(DAY)
    await calendar.set_day(admin, DAY, "off", "调休")
    assert not (await calendar.work_calendar(admin)).is_working_day(DAY)
    assert await settings_store.get_value(admin, settings_store.DUPLICATE_RADIUS_M) != 321
    await settings_store.put_setting(
        admin, settings_store.DUPLICATE_RADIUS_M, 321, expected_version=None
    )
    assert await settings_store.get_value(admin, settings_store.DUPLICATE_RADIUS_M) == 321


async def test_a_rule_made_in_the_session_routes_its_next_event(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    ctx = await as_user(session, clock, operator)
    event = Event(category="dispute", subtype="neighbour", path=world.g1.path, title="t")
    event.description = "d"
    assert await routing.route(ctx, event, world.c1) is None
    rule = await routing.create_rule(ctx, rule_fields(world))
    routed = await routing.route(ctx, event, world.c1)
    assert routed is not None and routed.rule_id == rule["id"]
    await routing.update_rule(ctx, rule["id"], {"enabled": False}, expected_version=None)
    assert await routing.route(ctx, event, world.c1) is None


async def test_a_table_is_loaded_once_per_stamp_and_for_every_caller_without_one(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    loads: list[str] = []

    async def load(_: AsyncSession) -> int:
        loads.append("loaded")
        return len(loads)

    stamped, unstamped = Held(CALENDAR, load), Held("no_such_table", load)
    ctx = await as_user(session, clock, world.worker_g1)
    assert [await stamped.get(ctx.session) for _ in range(3)] == [1, 1, 1]
    assert [await unstamped.get(ctx.session) for _ in range(2)] == [2, 3]
    reference_data.changed(ctx.session, CALENDAR)
    # Asked of the database now, the stamp is the same one: nothing is loaded again.
    assert await stamped.get(ctx.session) == 1
