"""R-SUP-2 / R-SUP-5: the automatic supervision sweep — a minute before and at each limit
(24 h, 48 h, 12 h for major or urgent events, 5 and 10 working days after acceptance),
feedback stopping the handling clock, completion clearing the cards (R-SUP-1), legacy events
exempt, each deduction once in the ledger with its cause, catching up after an outage, two
concurrent sweeps on real commits, the arq cron job and `gridctl escalate`."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli.main import app as cli
from domain.principal import SYSTEM, SYSTEM_SCOPE
from services import assessment_rules, events, supervision
from services.context import Ctx
from services.db import set_scope, system_session
from services.models import AuditEntry, EventStep, LedgerLine, Supervision
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user
from tests.routes.events import make_event
from tests.routes.places import audit_actions
from tests.territory import Committed, committed_territory, remove_events
from workers.settings import WorkerSettings
from workers.supervision import sweep as sweep_job

URL = "/api/v1/events"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
ZERO = {"issued": 0, "yellow": 0, "red": 0, "deductions": 0}
MINUTE = timedelta(minutes=1)


async def sweep_at(session: AsyncSession, clock: MovableClock, as_of: datetime) -> dict[str, int]:
    return await supervision.sweep(Ctx(session=session, principal=SYSTEM, clock=clock), as_of)


async def cards(session: AsyncSession, event_id: Any) -> list[dict[str, Any]]:
    return await supervision.cards_of(session, event_id)


async def ledger(session: AsyncSession, event_id: Any) -> list[LedgerLine]:
    rows = await session.scalars(
        select(LedgerLine).where(LedgerLine.event_id == event_id).order_by(LedgerLine.points)
    )
    return list(rows)


async def act(
    client: AsyncClient,
    user: Any,
    clock: MovableClock,
    event_id: Any,
    action: str,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    r = await client.post(
        f"{URL}/{event_id}/actions/{action}", json=body or {}, headers=auth(user, clock)
    )
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> Any:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def test_r_sup_2_accept_24h_yellow_and_48h_red_at_the_minute(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-SUP-2: unaccepted 24 h → yellow, 48 h → red; not a minute earlier; the red card
    keeps the yellow one; each deduction once in the ledger with its cause (R-SUP-5)."""
    event = await make_event(session, clock, world)
    assigned = clock.now()
    assert await sweep_at(session, clock, assigned + timedelta(hours=24) - MINUTE) == ZERO
    yellow = await sweep_at(session, clock, assigned + timedelta(hours=24))
    assert yellow == {"issued": 1, "yellow": 1, "red": 0, "deductions": 1}
    assert await sweep_at(session, clock, assigned + timedelta(hours=24)) == ZERO
    assert await sweep_at(session, clock, assigned + timedelta(hours=48) - MINUTE) == ZERO
    red = await sweep_at(session, clock, assigned + timedelta(hours=48))
    assert red == {"issued": 1, "yellow": 0, "red": 1, "deductions": 1}
    assert await sweep_at(session, clock, assigned + timedelta(days=9)) == ZERO
    got = await cards(session, event["id"])
    assert [(c["rule"], c["level"], c["source"], c["deduction"]) for c in got] == [
        ("accept_24h", "yellow", "auto", -5),
        ("accept_48h", "red", "auto", -10),
    ]
    assert [c["due_at"] for c in got] == [
        assigned + timedelta(hours=24),
        assigned + timedelta(hours=48),
    ]
    assert all(c["cleared_at"] is None for c in got)
    lines = await ledger(session, event["id"])
    assert [(x.points, x.item_code, x.period) for x in lines] == [
        (Decimal(-10), "supervision_red", "2026-11"),
        (Decimal(-5), "supervision_yellow", "2026-11"),
    ]
    # Charged to the step's unit (community C1) under its path, naming the card and cause.
    assert {(x.unit_id, x.department_id, x.path) for x in lines} == {
        (world.c1.id, None, world.c1.path)
    }
    assert {x.supervision_id for x in lines} == {c["id"] for c in got}
    assert all(event["service_no"] in x.reason and "未签收" in x.reason for x in lines)
    assert "event.supervision_issued" in await audit_actions(session, event["id"])


@pytest.mark.parametrize("flag", ["is_major", "is_urgent"])
async def test_r_sup_2_major_or_urgent_gets_one_red_card_at_12h(
    session: AsyncSession, world: World, clock: MovableClock, flag: str
) -> None:
    """R-SUP-2: a major OR urgent event unaccepted for 12 h → red; no 24 h / 48 h cards."""
    event = await make_event(session, clock, world, **{flag: True})
    assigned = clock.now()
    assert await sweep_at(session, clock, assigned + timedelta(hours=12) - MINUTE) == ZERO
    red = await sweep_at(session, clock, assigned + timedelta(hours=12))
    assert red == {"issued": 1, "yellow": 0, "red": 1, "deductions": 1}
    assert await sweep_at(session, clock, assigned + timedelta(hours=72)) == ZERO
    got = await cards(session, event["id"])
    assert [(c["rule"], c["level"], c["deduction"]) for c in got] == [
        ("accept_12h_priority", "red", -10)
    ]


async def test_r_sup_2_handling_limits_count_working_days_after_acceptance(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock, staff: Any
) -> None:
    """R-SUP-2/R-SUP-3: accepted Monday 10:00 with no feedback → yellow 5 working days later
    (next Monday 10:00), red after 10 (the Monday after); not a minute earlier."""
    event = await make_event(session, clock, world)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    yellow_at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    red_at = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
    step = await session.get_one(EventStep, event["current_step"]["id"], populate_existing=True)
    assert (step.handle_yellow_at, step.handle_red_at) == (yellow_at, red_at)
    # Accepted in time: the acceptance rules never fire.
    assert await sweep_at(session, clock, yellow_at - MINUTE) == ZERO
    assert (await sweep_at(session, clock, yellow_at))["yellow"] == 1
    assert await sweep_at(session, clock, red_at - MINUTE) == ZERO
    assert (await sweep_at(session, clock, red_at))["red"] == 1
    got = await cards(session, event["id"])
    assert [(c["rule"], c["due_at"]) for c in got] == [
        ("handle_5wd", yellow_at),
        ("handle_10wd", red_at),
    ]
    assert [x.item_code for x in await ledger(session, event["id"])] == [
        "supervision_red",
        "supervision_yellow",
    ]


async def test_r_sup_2_feedback_stops_the_handling_clock(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock, staff: Any
) -> None:
    event = await make_event(session, clock, world)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    clock.advance(timedelta(days=1))
    await act(client, staff, clock, event["id"], "feedback", {"note": "已上门调解"})
    assert await sweep_at(session, clock, clock.now() + timedelta(days=40)) == ZERO
    assert await cards(session, event["id"]) == []


async def test_r_sup_2_the_phase_is_rechecked_whatever_the_stored_deadline(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock, staff: Any
) -> None:
    """A stale stored acceptance deadline on an accepted step issues nothing."""
    event = await make_event(session, clock, world)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    step = await session.get_one(EventStep, event["current_step"]["id"], populate_existing=True)
    step.accept_yellow_at = clock.now()
    await session.flush()
    assert await sweep_at(session, clock, clock.now() + timedelta(hours=30)) == ZERO


async def test_r_sup_1_completion_clears_the_cards_and_the_deductions_stand(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock, staff: Any
) -> None:
    event = await make_event(session, clock, world)
    clock.advance(timedelta(hours=25))
    assert (await sweep_at(session, clock, clock.now()))["issued"] == 1
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    done = await act(client, staff, clock, event["id"], "complete", {"result": "已处理"})
    # Shown in business time: Tuesday 11:00 (+08:00) is when the step finished.
    assert [c["cleared_at"] for c in done["supervisions"]] == ["2026-11-24T11:00:00+08:00"]
    assert len(await ledger(session, event["id"])) == 1
    # The finished step earns no more cards.
    assert await sweep_at(session, clock, clock.now() + timedelta(days=30)) == ZERO


async def test_r_aud_1_a_sweep_audits_each_event_once_naming_its_cards(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-AUD-1: one entry per carded event, written in one statement, naming the event's
    cards and the sweep's moment, linked into the chain like any entry."""
    first, second = [await make_event(session, clock, world) for _ in range(2)]
    as_of = clock.now() + timedelta(hours=48)
    assert (await sweep_at(session, clock, as_of))["issued"] == 4
    await set_scope(session, SYSTEM_SCOPE)
    for event in (first, second):
        [entry] = (
            await session.execute(
                select(AuditEntry.after, AuditEntry.unit_path, AuditEntry.actor_name).where(
                    AuditEntry.target_id == str(event["id"]),
                    AuditEntry.action == "event.supervision_issued",
                )
            )
        ).all()
        issued = {(str(c["id"]), c["rule"], c["level"]) for c in await cards(session, event["id"])}
        assert {(c["id"], c["rule"], c["level"]) for c in entry.after["cards"]} == issued
        assert entry.after["as_of"] == as_of.isoformat()
        assert (entry.unit_path, entry.actor_name) == (world.g1.path, SYSTEM.username)
    sound = await session.scalar(
        text("SELECT bool_and(hash = audit_hash(a)) FROM audit_log a WHERE action = :action"),
        {"action": "event.supervision_issued"},
    )
    assert sound


async def test_r_asm_3_each_card_is_priced_by_the_rules_of_the_unit_it_charges(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-ASM-3: in one sweep, a card charged to a community under a street with its own
    enabled rule set costs that set's points; one charged elsewhere, the shipped default."""
    admin = auth(world.admin_d, clock)
    created = await client.post(
        "/api/v1/assessment/rule-sets",
        json={
            "owner_unit_id": str(world.s1.id),
            "year": 2026,
            "kind": "community",
            "name": "街道社区考核细则",
            "items": [
                {
                    "code": "street_yellow",
                    "text": "黄牌",
                    "points": -3,
                    "signal": "supervision_yellow",
                }
            ],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    enabled = await client.post(
        f"/api/v1/assessment/rule-sets/{created.json()['id']}/enable",
        headers={**admin, "If-Match": '"1"'},
    )
    assert enabled.status_code == 200, enabled.text
    under_s1 = [await make_event(session, clock, world) for _ in range(2)]
    elsewhere = await make_event(session, clock, world, grid_id=world.g3.id)
    assert (await sweep_at(session, clock, clock.now() + timedelta(hours=24)))["issued"] == 3
    for event, points, code in (
        *((e, -3, "street_yellow") for e in under_s1),
        (elsewhere, -5, "supervision_yellow"),
    ):
        [card] = await cards(session, event["id"])
        [line] = await ledger(session, event["id"])
        assert (card["deduction"], line.points, line.item_code) == (points, Decimal(points), code)


async def test_r_sup_2_legacy_events_are_exempt(
    session: AsyncSession, client: AsyncClient, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world)
    await act(client, world.admin_d, clock, event["id"], "mark-legacy")
    assert await sweep_at(session, clock, clock.now() + timedelta(days=5)) == ZERO
    assert await cards(session, event["id"]) == []
    assert await ledger(session, event["id"]) == []


async def test_r_sup_2_a_late_sweep_catches_up_with_true_due_times(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A worker back after an outage: a step assigned 3 days before gets both acceptance
    cards once, due 24 h / 48 h after assignment, issued now."""
    event = await make_event(session, clock, world)
    assigned = clock.now()
    as_of = assigned + timedelta(days=3)
    assert await sweep_at(session, clock, as_of) == {
        "issued": 2,
        "yellow": 1,
        "red": 1,
        "deductions": 2,
    }
    assert await sweep_at(session, clock, as_of) == ZERO
    got = await cards(session, event["id"])
    assert [(c["due_at"], c["issued_at"]) for c in got] == [
        (assigned + timedelta(hours=24), as_of),
        (assigned + timedelta(hours=48), as_of),
    ]


async def test_r_sup_2_the_sweep_reads_only_the_steps_that_are_due(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Every minute, whatever the number of open steps: the due steps are found by the index
    of the open steps' next deadline (migration 0048), each one's event by its key. However
    small the tables, with plain scans ruled out only an index condition on the deadline
    expression can find them (the expression must match the index's exactly)."""
    for _ in range(3):
        await make_event(session, clock, world)
    await set_scope(session, SYSTEM_SCOPE)
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    explained = await session.execute(
        text("EXPLAIN " + str(supervision.SWEEP)),
        {
            "as_of": clock.now() + timedelta(days=3),
            "zone": "Asia/Shanghai",
            "defaults": assessment_rules.DEFAULTS,
        },
    )
    plan = "\n".join(explained.scalars())
    await session.execute(text("SET LOCAL enable_seqscan = on"))
    lines = plan.splitlines()
    (at,) = (i for i, line in enumerate(lines) if "ix_event_steps_next_deadline" in line)
    assert "Index Cond: (CASE WHEN (accepted_at IS NULL) THEN LEAST(" in lines[at + 1], plan
    assert "Index Cond: (id = s.event_id)" in plan, plan


def test_the_sweep_is_a_minutely_unique_cron_job_run_at_startup() -> None:
    job = next(j for j in WorkerSettings.cron_jobs or () if j.coroutine is sweep_job)
    assert (job.second, job.unique, job.run_at_startup) == (0, True, True)
    assert job.minute is None


@pytest.fixture
async def committed_event(app: FastAPI, clock: MovableClock) -> AsyncIterator[uuid.UUID]:
    """An unaccepted event committed in a territory of its own; removed afterwards."""
    async with committed_territory(app, clock, region="653022", west=84.0, south=45.0) as data:
        yield await _report(app, clock, data)
        await remove_events(data.grid_id)


async def _report(app: FastAPI, clock: MovableClock, data: Committed) -> uuid.UUID:
    async with system_session(app.state.sessionmaker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        fields = {
            "title": "并发督办",
            "category": "other",
            "subtype": "other",
            "grid_id": data.grid_id,
            "occurred_at": clock.now(),
            "description": "无人签收",
        }
        event = await events.report_event(ctx, fields, resolve_on_spot=False, result=None)
        event_id: uuid.UUID = event["id"]
        return event_id


async def _committed_counts(app: FastAPI, event_id: uuid.UUID) -> tuple[int, int]:
    async with system_session(app.state.sessionmaker) as session:
        issued = await session.scalar(select(func.count()).where(Supervision.event_id == event_id))
        charged = await session.scalar(select(func.count()).where(LedgerLine.event_id == event_id))
        return int(issued or 0), int(charged or 0)


async def test_r_sup_2_two_concurrent_sweeps_issue_each_card_once(
    app: FastAPI, clock: MovableClock, committed_event: uuid.UUID
) -> None:
    """Two workers sweeping at once on real commits: the unique (step, rule) index lets each
    card and its ledger line be written once."""
    as_of = clock.now() + timedelta(hours=49)
    maker = app.state.sessionmaker
    results = await asyncio.gather(
        supervision.sweep_as_system(maker, clock, as_of),
        supervision.sweep_as_system(maker, clock, as_of),
    )
    assert sum(r["issued"] for r in results) == 2
    assert sum(r["deductions"] for r in results) == 2
    assert await _committed_counts(app, committed_event) == (2, 2)


async def test_the_cron_job_sweeps_as_of_the_clock_and_commits(
    app: FastAPI, clock: MovableClock, committed_event: uuid.UUID
) -> None:
    ctx = {"sessionmaker": app.state.sessionmaker, "clock": clock}
    clock.advance(timedelta(hours=24))
    assert await sweep_job(ctx) == {"issued": 1, "yellow": 1, "red": 0, "deductions": 1}
    assert await sweep_job(ctx) == ZERO
    assert await _committed_counts(app, committed_event) == (1, 1)


def test_gridctl_escalate_prints_one_json_line_and_is_idempotent(
    committed_event: uuid.UUID,
) -> None:
    """API.md: `gridctl escalate --as-of ISO8601` prints one JSON line; a second run zeros."""
    runner = CliRunner()
    # Reported Monday 10:00 (+08:00): 72 hours later both acceptance cards are due.
    first = runner.invoke(cli, ["escalate", "--as-of", "2026-11-26T10:00:00+08:00"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"issued": 2, "yellow": 1, "red": 1, "deductions": 2}
    again = runner.invoke(cli, ["escalate", "--as-of", "2026-11-26T10:00:00+08:00"])
    assert json.loads(again.stdout) == ZERO
    assert runner.invoke(cli, ["escalate", "--as-of", "yesterday"]).exit_code != 0
