"""The automatic deductions and bonuses (R-ASM-3) and joint liability (R-ASM-4): each line
once in the ledger with its cause, re-runs change nothing, points from the applicable rule
set, joint liability crossing exactly one level at a time, concurrent runs writing once."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli.main import app as cli
from domain.assessment import Kind
from services import assessment_accrual, assessment_rules, supervision
from services.models import LedgerLine, User
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user, system_ctx
from tests.routes.events import make_event
from tests.territory import SUPERUSER_DSN, Committed, committed_territory, remove_events
from workers.settings import WorkerSettings
from workers.supervision import assess as assess_job

ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
NOTHING = {"lines": 0, "deductions": 0, "bonuses": 0, "reversals": 0, "joint": 0}
DECEMBER = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 +08:00


async def accrue(session: AsyncSession, clock: MovableClock, as_of: datetime) -> dict[str, int]:
    ctx = await system_ctx(session, clock)
    return await assessment_accrual.accrue(ctx, as_of)


async def sweep(session: AsyncSession, clock: MovableClock, as_of: datetime) -> None:
    await supervision.sweep(await system_ctx(session, clock), as_of)


async def lines(session: AsyncSession, **where: Any) -> list[LedgerLine]:
    await system_ctx(session, MovableClock())
    stmt = select(LedgerLine).order_by(LedgerLine.item_code, LedgerLine.created_at)
    for column, value in where.items():
        stmt = stmt.where(getattr(LedgerLine, column) == value)
    return list(await session.scalars(stmt))


def codes(found: list[LedgerLine]) -> list[tuple[str, Decimal]]:
    return [(line.item_code, line.points) for line in found]


async def act(
    client: AsyncClient,
    user: User,
    clock: MovableClock,
    event_id: Any,
    action: str,
    body: dict[str, Any],
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/events/{event_id}/actions/{action}", json=body, headers=auth(user, clock)
    )
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def test_r_asm_3_sign_for_lateness_pays_its_worst_tier_once(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """An unaccepted step: the 24 h card also costs −1 for sign-for overdue; 3 days beyond
    the limit it has cost −3 in all, 30 days beyond −10; each line once, caused by the
    step."""
    event = await make_event(session, clock, world)
    step_id = event["current_step"]["id"]
    assigned = clock.now()
    await sweep(session, clock, assigned + timedelta(hours=48))
    first = await accrue(session, clock, assigned + timedelta(hours=48))
    assert first["lines"] == 1
    [overdue] = await lines(session, item_code="accept_overdue")
    assert (overdue.unit_id, int(overdue.points), overdue.step_id) == (world.c1.id, -1, step_id)
    assert overdue.event_id == event["id"] and overdue.cause_key == f"accept_overdue:{step_id}"
    assert await accrue(session, clock, assigned + timedelta(hours=48)) == NOTHING
    # A minute before the 3-day tier nothing more; at it, −2 more (−3 in all).
    tier = assigned + timedelta(hours=24, days=3)
    await accrue(session, clock, tier - timedelta(minutes=1))
    assert await lines(session, step_id=step_id, item_code="accept_overdue_3d") == []
    await accrue(session, clock, tier)
    late = assigned + timedelta(hours=24, days=30)
    await accrue(session, clock, late)
    await accrue(session, clock, late)
    tiers = [
        line
        for line in await lines(session, step_id=step_id)
        if line.item_code.startswith("accept_overdue")
    ]
    assert codes(tiers) == [
        ("accept_overdue", Decimal(-1)),
        ("accept_overdue_30d", Decimal(-7)),
        ("accept_overdue_3d", Decimal(-2)),
    ]
    assert sum(line.points for line in tiers) == -10
    assert all(line.cause_key for line in tiers)


async def test_r_asm_3_card_points_come_from_the_enabled_rule_set(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-ASM-1/3: the district's enabled 2026 community rules make a yellow card cost −3 and
    drop the sign-for item; a street's own enabled set would win below it."""
    ctx = await system_ctx(session, clock)
    items = assessment_rules.to_items(
        [
            {
                "code": "supervision_yellow",
                "text": "黄牌",
                "points": -3,
                "signal": "supervision_yellow",
            },
            {"code": "supervision_red", "text": "红牌", "points": -8, "signal": "supervision_red"},
        ]
    )
    rules = await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=world.district.id,
        year=2026,
        kind=Kind.COMMUNITY,
        name="细则",
        items=items,
    )
    await assessment_rules.set_state(ctx, rules["id"], "enabled", expected_version=None)
    event = await make_event(session, clock, world)
    await sweep(session, clock, clock.now() + timedelta(hours=48))
    await accrue(session, clock, clock.now() + timedelta(hours=48))
    assert codes(await lines(session, event_id=event["id"])) == [
        ("supervision_red", Decimal(-8)),
        ("supervision_yellow", Decimal(-3)),
    ]


async def test_r_asm_3_an_upheld_appeal_reverses_the_deduction_and_charges_the_evaluator(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    event = await make_event(session, clock, world)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    await act(client, staff, clock, event["id"], "complete", {"result": "已调解"})
    judged = await act(
        client,
        world.worker_g1,
        clock,
        event["id"],
        "verify",
        {"satisfaction": "unsatisfied", "method": "phone"},
    )
    assert (await accrue(session, clock, clock.now()))["deductions"] == 1
    [charged] = await lines(session, item_code="verify_unsatisfied")
    assert (charged.unit_id, int(charged.points)) == (world.c1.id, -2)
    assert str(charged.step_id) == judged["steps"][0]["id"] and charged.action_id is not None
    await act(client, staff, clock, event["id"], "appeal", {"reason": "恶意评价"})
    await act(client, street, clock, event["id"], "decide-appeal", {"upheld": True})
    second = await accrue(session, clock, clock.now())
    assert (second["reversals"], second["deductions"]) == (1, 1)
    assert await accrue(session, clock, clock.now()) == NOTHING
    [reversal] = await lines(session, reverses_id=charged.id)
    assert (reversal.unit_id, int(reversal.points), reversal.appeal_id) == (
        world.c1.id,
        2,
        reversal.appeal_id,
    )
    assert reversal.appeal_id is not None
    [evaluator] = await lines(session, item_code="appeal_upheld")
    assert (evaluator.unit_id, int(evaluator.points)) == (world.g1.id, -2)
    assert evaluator.appeal_id == reversal.appeal_id and evaluator.event_id == event["id"]


async def test_r_asm_3_a_late_verification_costs_the_verifier_and_a_major_success_pays(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    event = await make_event(session, clock, world, is_major=True)
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    await act(client, staff, clock, event["id"], "complete", {"result": "已处置"})
    clock.advance(timedelta(days=1))
    await act(
        client,
        world.worker_g1,
        clock,
        event["id"],
        "verify",
        {"satisfaction": "satisfied", "method": "on_site"},
    )
    await accrue(session, clock, clock.now())
    # The verification is the evaluation and the 办结 click at once: both were late.
    assert [
        (x.item_code, x.unit_id, int(x.points)) for x in await lines(session, event_id=event["id"])
    ] == [
        ("close_late", world.g1.id, -1),
        ("major_satisfied", world.c1.id, 2),
        ("verify_late", world.g1.id, -1),
    ]


async def test_r_asm_3_monthly_entries_once_the_month_has_ended(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """November's bulletin: C1 and G1 entered an event (top three, +2); the others none
    (−5); nothing before December begins, nothing twice."""
    await make_event(session, clock, world)
    await accrue(session, clock, DECEMBER - timedelta(minutes=1))
    assert await lines(session, period="2026-11") == []
    await accrue(session, clock, DECEMBER)
    await accrue(session, clock, DECEMBER + timedelta(days=3))
    got = {
        (line.unit_id, line.item_code, int(line.points))
        for line in await lines(session, period="2026-11")
        if line.item_code.startswith("entries")
    }
    assert got == {
        (world.c1.id, "entries_top3", 2),
        (world.g1.id, "entries_top3", 2),
        (world.c2.id, "entries_none", -5),
        (world.c3.id, "entries_none", -5),
        (world.g2.id, "entries_none", -5),
        (world.g3.id, "entries_none", -5),
    }


async def _charge(session: AsyncSession, unit: Any, period: str, *points: str) -> None:
    """Deductions of a unit written by hand (a superior's scores), one case each."""
    for n, value in enumerate(points):
        session.add(
            LedgerLine(
                unit_id=unit.id,
                path=unit.path,
                period=period,
                points=Decimal(value),
                item_code="wrong_submission",
                reason="错报",
                cause_key=f"test:{unit.id}:{n}",
                created_at=datetime(2026, 11, 25, tzinfo=UTC),
            )
        )
    await session.flush()


async def test_r_asm_4_joint_liability_crosses_one_level_at_a_time(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """C1 loses 5 points in two cases → S1 −1 per case; C2's 4.9 charge nothing; C3 (of S2)
    → S2; S1's own 5 points (its joint lines not counted) → the district −1; a grid's
    deductions never reach its community."""
    ctx = await system_ctx(session, clock)
    # Community rules without the entries items keep this month's bulletin out of the sums.
    rules = await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=world.district.id,
        year=2026,
        kind=Kind.COMMUNITY,
        name="细则",
        items=assessment_rules.to_items(
            [{"code": "wrong_submission", "text": "错报", "points": -1, "cap": 10}]
        ),
    )
    await assessment_rules.set_state(ctx, rules["id"], "enabled", expected_version=None)
    for kind in (Kind.GRID_WORKER,):
        grid_rules = await assessment_rules.create_rule_set(
            ctx,
            owner_unit_id=world.district.id,
            year=2026,
            kind=kind,
            name="网格细则",
            items=assessment_rules.to_items([{"code": "x", "text": "错报", "points": -1}]),
        )
        await assessment_rules.set_state(ctx, grid_rules["id"], "enabled", expected_version=None)
    await make_event(session, clock, world)
    await _charge(session, world.c1, "2026-11", "-3", "-2")
    await _charge(session, world.c2, "2026-11", "-4.9")
    await _charge(session, world.c3, "2026-11", "-6")
    await _charge(session, world.s1, "2026-11", "-5")
    await _charge(session, world.g1, "2026-11", "-10")
    result = await accrue(session, clock, DECEMBER)
    assert result["joint"] == 4
    joint = [
        (line.unit_id, int(line.points))
        for line in await lines(session, item_code="joint_liability")
    ]
    assert sorted(joint, key=str) == sorted(
        [(world.s1.id, -1), (world.s1.id, -1), (world.s2.id, -1), (world.district.id, -1)],
        key=str,
    )
    assert await accrue(session, clock, DECEMBER + timedelta(days=1)) == NOTHING


@pytest.fixture
async def committed(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    async with committed_territory(app, clock, region="653023", west=85.0, south=45.0) as data:
        try:
            yield data
        finally:
            await remove_events(data.grid_id)
            conn = await asyncpg.connect(SUPERUSER_DSN)
            try:
                await conn.execute(
                    "DELETE FROM assessment_ledger WHERE unit_id IN "
                    "(SELECT id FROM org_units WHERE code LIKE '653023%')"
                )
            finally:
                await conn.close()


async def test_r_asm_3_two_concurrent_accruals_write_each_line_once(
    app: FastAPI, clock: MovableClock, committed: Committed, client: AsyncClient
) -> None:
    from tests.api.test_sweep import _report

    event_id = await _report(app, clock, committed)
    maker = app.state.sessionmaker
    as_of = clock.now() + timedelta(days=5)
    await supervision.sweep_as_system(maker, clock, as_of)
    results = await asyncio.gather(
        assessment_accrual.accrue_as_system(maker, clock, as_of),
        assessment_accrual.accrue_as_system(maker, clock, as_of),
    )
    # Sign-for overdue and its 3-day tier, once between the two runs.
    assert sorted(r["lines"] for r in results) == [0, 2]
    async with maker() as session:
        from services.db import set_scope

        await set_scope(session, "*")
        count = await session.scalar(
            select(func.count()).where(
                LedgerLine.event_id == event_id, LedgerLine.cause_key.is_not(None)
            )
        )
    assert count == 2


def test_gridctl_assess_prints_one_json_line_and_is_idempotent(committed: Committed) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["assess", "--as-of", "2026-11-26T10:00:00+08:00"])
    assert first.exit_code == 0, first.output
    assert set(json.loads(first.stdout.strip())) == set(NOTHING)
    again = runner.invoke(cli, ["assess", "--as-of", "2026-11-26T10:00:00+08:00"])
    assert json.loads(again.stdout) == NOTHING
    assert uuid.UUID(str(committed.grid_id))


async def _enabled(
    session: AsyncSession, clock: MovableClock, owner: Any, kind: Kind, items: list[dict[str, Any]]
) -> None:
    ctx = await system_ctx(session, clock)
    rules = await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=owner.id,
        year=2026,
        kind=kind,
        name=f"{owner.name}细则",
        items=assessment_rules.to_items(items),
    )
    await assessment_rules.set_state(ctx, rules["id"], "enabled", expected_version=None)


async def test_r_asm_1_the_nearest_owner_wins_and_caps_bound_an_item_per_month(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """S1's own community rules win over the district's for C1; their cap of 1 point lets
    one of two sign-for overdue steps be charged in the month."""
    yellow = {"code": "supervision_yellow", "text": "黄牌", "signal": "supervision_yellow"}
    await _enabled(session, clock, world.district, Kind.COMMUNITY, [{**yellow, "points": -3}])
    await _enabled(
        session,
        clock,
        world.s1,
        Kind.COMMUNITY,
        [
            {**yellow, "points": -2},
            {
                "code": "late",
                "text": "签收超时",
                "points": -1,
                "signal": "accept_overdue",
                "cap": 1,
            },
        ],
    )
    first = await make_event(session, clock, world)
    second = await make_event(session, clock, world)
    await sweep(session, clock, clock.now() + timedelta(hours=30))
    await accrue(session, clock, clock.now() + timedelta(hours=30))
    charged = [
        *await lines(session, event_id=first["id"]),
        *await lines(session, event_id=second["id"]),
    ]
    assert sorted(codes(charged)) == [
        ("late", Decimal(-1)),
        ("supervision_yellow", Decimal(-2)),
        ("supervision_yellow", Decimal(-2)),
    ]


async def test_r_asm_3_a_departments_month_and_year_of_accepted_cases_earn_bonuses(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    """13 cases accepted in November, on time and none judged badly: +1 for ten and +1 for
    three more, +2 for a clean month; the year's most completed cases among the district's
    departments +5, and C1, the only community that completed a dispute, +5."""
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    for n in range(13):
        event = await make_event(session, clock, world, target_department_id=world.dept_s1.id)
        await act(client, handler, clock, event["id"], "accept", ACCEPT)
        if n == 0:
            await act(client, handler, clock, event["id"], "complete", {"result": "已处置"})
    own = await make_event(session, clock, world)
    await act(client, staff, clock, own["id"], "accept", ACCEPT)
    await act(client, staff, clock, own["id"], "complete", {"result": "已调解"})
    await accrue(session, clock, DECEMBER)
    november = await lines(session, department_id=world.dept_s1.id, period="2026-11")
    assert codes(november) == [("monthly_accepted", Decimal(2)), ("monthly_clean", Decimal(2))]
    assert all(line.cause_key and line.reason for line in november)
    new_year = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    await accrue(session, clock, new_year - timedelta(minutes=1))
    assert await lines(session, period="2026-12", item_code="year_most_cases") == []
    await accrue(session, clock, new_year)
    await accrue(session, clock, new_year + timedelta(days=2))
    yearly = await lines(session, period="2026-12")
    assert {(x.unit_id or x.department_id, x.item_code, int(x.points)) for x in yearly} >= {
        (world.dept_s1.id, "year_most_cases", 5),
        (world.c1.id, "year_disputes_top3", 5),
    }
    # C1 and its grid G1 entered events all year and no wrong submission was found: +5 each.
    assert sorted(
        (x.item_code, str(x.unit_id or x.department_id))
        for x in yearly
        if x.item_code.startswith("year_")
    ) == sorted(
        [
            ("year_disputes_top3", str(world.c1.id)),
            ("year_most_cases", str(world.dept_s1.id)),
            ("year_no_wrong_submission", str(world.c1.id)),
            ("year_no_wrong_submission", str(world.g1.id)),
        ]
    )


async def test_r_asm_2_the_ledger_api_names_each_lines_cause(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world)
    await sweep(session, clock, clock.now() + timedelta(hours=25))
    await accrue(session, clock, clock.now() + timedelta(hours=25))
    r = await client.get(
        "/api/v1/assessment/ledger",
        params={"unit_id": str(world.c1.id), "period": "2026-11"},
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 200, r.text
    got = {(i["item_code"], i["points"], i["event_id"], i["step_id"]) for i in r.json()["items"]}
    event_id, step = str(event["id"]), str(event["current_step"]["id"])
    assert got == {
        ("supervision_yellow", -5.0, event_id, step),
        ("accept_overdue", -1.0, event_id, step),
    }
    card = next(i for i in r.json()["items"] if i["item_code"] == "supervision_yellow")
    assert card["supervision_id"] and card["reverses_id"] is None


def test_the_accrual_is_a_unique_cron_job_run_at_startup() -> None:
    job = next(j for j in WorkerSettings.cron_jobs or () if j.coroutine is assess_job)
    assert (job.unique, job.run_at_startup) == (True, True)
    assert job.minute == set(range(2, 60, 10))
