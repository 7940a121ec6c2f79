"""R-SUP-6 reminders before deadlines: 2 hours before the acceptance limit (24 h, or 12 h for a
major or urgent event), 1 working day before the 5-working-day handling limit; once per step
and kind, not for legacy events, not once the deadline has passed, in-app and by SMS."""

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli.main import app as cli
from domain.principal import SYSTEM
from services import reminders
from services.context import Ctx
from services.models import OutboxMessage
from tests.api.test_routing import kinds
from tests.api.test_sweep import act, committed_event  # noqa: F401  (fixture)
from tests.conftest import MovableClock
from tests.factories import World, make_user
from tests.routes.events import make_event

ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
NONE = {"reminded": 0, "notified": 0}
MINUTE = timedelta(minutes=1)
ZONE = ZoneInfo("Asia/Shanghai")


async def remind_at(session: AsyncSession, clock: MovableClock, as_of: datetime) -> Any:
    return await reminders.remind(Ctx(session=session, principal=SYSTEM, clock=clock), as_of)


async def test_r_sup_6_two_hours_before_the_acceptance_limit_once(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900001111")
    event = await make_event(session, clock, world)
    step = event["steps"][0]
    reported = clock.now()
    assert step["accept_remind_at"] == datetime(2026, 11, 24, 8, tzinfo=ZONE)
    assert await remind_at(session, clock, reported + timedelta(hours=22) - MINUTE) == NONE
    due = reported + timedelta(hours=22)
    assert await remind_at(session, clock, due) == {"reminded": 1, "notified": 1}
    assert await remind_at(session, clock, due + timedelta(hours=1)) == NONE
    assert (await kinds(session, staff)).count("remind_accept") == 1
    texts = await session.scalars(
        select(OutboxMessage.payload["text"].astext).where(
            OutboxMessage.payload["event_id"].astext == str(event["id"])
        )
    )
    assert any("即将超过签收时限" in t for t in texts)


async def test_r_sup_6_a_major_event_is_reminded_ten_hours_in(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world, is_major=True)
    assert event["steps"][0]["accept_remind_at"] == datetime(2026, 11, 23, 20, tzinfo=ZONE)


async def test_r_sup_6_one_working_day_before_the_handling_limit(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    event = await make_event(session, clock, world)
    accepted = await act(client, staff, clock, event["id"], "accept", ACCEPT)
    step = accepted["steps"][0]
    # Accepted Monday 10:00: 4 working days on is Friday 10:00; the limit next Monday 10:00.
    assert step["accept_remind_at"] is None
    assert step["handle_remind_at"] == "2026-11-27T10:00:00+08:00"
    friday = datetime.fromisoformat(step["handle_remind_at"])
    assert await remind_at(session, clock, friday - MINUTE) == NONE
    assert await remind_at(session, clock, friday) == {"reminded": 1, "notified": 1}
    assert "remind_handle" in await kinds(session, staff)


async def test_r_sup_6_no_reminder_after_feedback_for_legacy_or_past_the_deadline(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    fed = await make_event(session, clock, world)
    await act(client, staff, clock, fed["id"], "accept", ACCEPT)
    await act(client, staff, clock, fed["id"], "feedback", {"note": "处理中"})
    legacy = await make_event(session, clock, world)
    await act(client, world.admin_d, clock, legacy["id"], "mark-legacy")
    late = await make_event(session, clock, world)
    # The worker was down through the reminder time and the 24-hour limit: the card speaks.
    past = clock.now() + timedelta(hours=24)
    assert await remind_at(session, clock, past) == NONE
    assert late["steps"][0]["accept_remind_at"] is not None


def test_gridctl_remind_prints_one_json_line_and_is_idempotent(
    committed_event: Any,  # noqa: F811
) -> None:
    runner = CliRunner()
    # Reported Monday 10:00 (+08:00): reminded 22 hours later, before the 24-hour card. The
    # territory has no community staff, so nobody is notified, but the reminder is spent.
    first = runner.invoke(cli, ["remind", "--as-of", "2026-11-24T08:30:00+08:00"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) == {"reminded": 1, "notified": 0}
    # Without an offset the instant is read in the business zone: the same moment.
    again = runner.invoke(cli, ["remind", "--as-of", "2026-11-24T08:30:00"])
    assert json.loads(again.stdout) == NONE


async def test_two_workers_reminding_at_once_remind_once(
    app: FastAPI,
    clock: MovableClock,
    committed_event: Any,  # noqa: F811
) -> None:
    """Real commits, two passes at the same instant: the (step, kind) key lets one win."""
    maker = app.state.sessionmaker
    as_of = clock.now() + timedelta(hours=23)
    results = await asyncio.gather(
        reminders.remind_as_system(maker, clock, as_of),
        reminders.remind_as_system(maker, clock, as_of),
    )
    assert sorted(r["reminded"] for r in results) == [0, 1]
