"""The demo's year of events (`gridctl seed demo`): played through the real workflow over the
last year, in every category and in open and closed states, routed by the demo district's
rules, with the automatic cards and their deductions that lateness earned on the way, and a
history that is consistent end to end."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from domain.assessment import Kind
from domain.events import Category
from domain.workflow import State
from services import assessment_scores, bootstrap
from services.assessment_scores import ScoreFilter
from services.demo_layout import kashgar_layout
from services.models import OrgUnit
from tests.conftest import MovableClock
from tests.factories import system_ctx

EVENTS = 150


@dataclass
class Demo:
    session: AsyncSession
    district: OrgUnit
    now: Any


@pytest.fixture(scope="module")
async def demo(engine: AsyncEngine, clock: MovableClock) -> AsyncIterator[Demo]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
            ctx = await system_ctx(s, clock)
            assert await bootstrap.load_demo_city(ctx, people=200, events=EVENTS)
            district = await s.scalar(select(OrgUnit).where(OrgUnit.code == kashgar_layout().code))
            assert district is not None
            yield Demo(s, district, ctx.now())
        await transaction.rollback()


async def rows(demo: Demo, sql: str) -> list[dict[str, Any]]:
    result = await demo.session.execute(text(sql), {"root": demo.district.path})
    return [dict(row._mapping) for row in result]


async def test_a_year_of_events_in_every_category_open_and_closed(demo: Demo) -> None:
    found = await rows(
        demo,
        "SELECT category, state, created_at FROM events WHERE path <@ CAST(:root AS ltree)",
    )
    assert len(found) == EVENTS
    assert {r["category"] for r in found} == {c.value for c in Category}
    states = {r["state"] for r in found}
    assert State.CLOSED.value in states and len(states) >= 3
    assert states <= {s.value for s in State}
    spread = max(r["created_at"] for r in found) - min(r["created_at"] for r in found)
    assert spread > timedelta(days=180)
    assert all(r["created_at"] <= demo.now for r in found)


async def test_city_components_arrive_at_urban_management_by_rule(demo: Demo) -> None:
    firsts = await rows(
        demo,
        """SELECT d.code, s.routing_rule_id FROM events e
           JOIN event_steps s ON s.event_id = e.id AND s.seq = 1
           LEFT JOIN departments d ON d.id = s.department_id
           WHERE e.category = 'city_component' AND s.outcome IS DISTINCT FROM 'resolved'""",
    )
    assert firsts and all(r["code"] == "CG" and r["routing_rule_id"] for r in firsts)


async def test_lateness_earned_cards_and_each_card_its_deduction_once(demo: Demo) -> None:
    cards = await rows(
        demo,
        """SELECT c.id, c.level, c.rule, c.due_at, c.issued_at, c.deduction,
                  (SELECT count(*) FROM assessment_ledger l WHERE l.supervision_id = c.id) AS lines
           FROM supervisions c WHERE c.source = 'auto'""",
    )
    assert {c["level"] for c in cards} == {"yellow", "red"}
    for card in cards:
        # Swept as simulated time passed: issued the moment it fell due.
        assert card["issued_at"] == card["due_at"]
        assert card["lines"] == (1 if card["deduction"] else 0)


async def test_every_history_starts_with_the_report_and_ends_where_the_event_is(
    demo: Demo,
) -> None:
    broken = await rows(
        demo,
        """SELECT e.id FROM events e
           WHERE (SELECT a.action FROM event_actions a WHERE a.event_id = e.id
                  ORDER BY a.serial LIMIT 1) NOT IN ('report', 'resolve')
              OR (SELECT a.to_state FROM event_actions a WHERE a.event_id = e.id
                  ORDER BY a.serial DESC LIMIT 1) <> e.state
              OR (e.state = 'closed') <> (e.closed_at IS NOT NULL)
              OR NOT EXISTS (SELECT 1 FROM event_steps s
                             WHERE s.id = e.current_step_id AND s.event_id = e.id)""",
    )
    assert broken == []
    # Actions are taken in time order, each by the unit the story gives it to.
    disorder = await rows(
        demo,
        """SELECT a.event_id FROM event_actions a JOIN event_actions b
             ON b.event_id = a.event_id AND b.serial > a.serial AND b.at < a.at""",
    )
    assert disorder == []


async def test_the_demo_year_is_assessed_into_ledgers_scores_and_rankings(demo: Demo) -> None:
    """Issue 4 item 6: the district's rule sets of last year and this year are enabled for
    every kind; the year's signals are in the ledger, each automatic line once; the monthly
    bulletin ranks the communities with scores that differ."""
    sets = await rows(
        demo,
        "SELECT year, kind, state FROM assessment_rule_sets "
        "WHERE owner_path = CAST(:root AS ltree)",
    )
    years = {r["year"] for r in sets}
    assert len(years) == 2 and all(r["state"] == "enabled" for r in sets)
    assert {r["kind"] for r in sets} == {kind.value for kind in Kind}
    found = await rows(
        demo,
        "SELECT item_code, count(*) AS n FROM assessment_ledger "
        "WHERE path <@ CAST(:root AS ltree) GROUP BY item_code",
    )
    codes = {r["item_code"] for r in found}
    assert {"supervision_yellow", "accept_overdue", "entries_top3", "entries_none"} <= codes
    assert "joint_liability" in codes
    twice = await rows(
        demo,
        "SELECT cause_key FROM assessment_ledger WHERE cause_key IS NOT NULL "
        "GROUP BY cause_key HAVING count(*) > 1",
    )
    assert twice == []
    ctx = await system_ctx(demo.session, MovableClock(demo.now))
    month = (demo.now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    page = await assessment_scores.list_scores(
        ctx, ScoreFilter(period=month, kind=Kind.COMMUNITY), limit=500, cursor=None
    )
    assert page.total == 21
    assert page.items[0]["rank"] == 1
    assert len({item["score"] for item in page.items}) > 1
    assert {item["band"] for item in page.items} <= {"good", "pass", "fail"}
