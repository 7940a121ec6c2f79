"""Rule sets (R-ASM-1), scores and rankings (R-ASM-2, R-ASM-5) and the manual reviews
(R-ASM-5) over the API: validation, states, If-Match, audit and jurisdiction."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import DEFAULT_ITEMS, Kind
from services import assessment_rules
from services.db import system_session
from services.models import LedgerLine, OrgUnit, Review, User
from tests import territory
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.places import audit_actions
from tests.territory import SUPERUSER_DSN, committed_territory

RULE_SETS = "/api/v1/assessment/rule-sets"
REVIEWS = "/api/v1/assessment/reviews"
SCORES = "/api/v1/assessment/scores"


def rule_set_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "owner_unit_id": str(world.district.id),
        "year": 2025,
        "kind": "community",
        "name": "2025年社区考核细则",
        **values,
    }


async def test_r_asm_1_a_rule_set_starts_from_the_defaults_is_enabled_and_copied(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    admin = auth(world.admin_d, clock)
    created = await client.post(RULE_SETS, json=rule_set_body(world), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "draft" and created.headers["ETag"] == '"1"'
    assert [i["code"] for i in body["items"]] == [i.code for i in DEFAULT_ITEMS[Kind.COMMUNITY]]
    # R-ASM-3: every shipped item is automatic, the resolvable dispute pushed up included.
    assert all(i["automatic"] for i in body["items"])
    assert {"petition_uncollected", "dispute_pushed_up", "close_late"} <= {
        i["code"] for i in body["items"]
    }
    url = f"{RULE_SETS}/{body['id']}"
    stale = await client.post(f"{url}/enable", headers={**admin, "If-Match": '"0"'})
    assert_problem(stale, 412, "precondition_failed")
    enabled = await client.post(f"{url}/enable", headers={**admin, "If-Match": '"1"'})
    assert enabled.json()["state"] == "enabled"
    # Enabled rules are fixed; a second enabled set of the owner, year and kind is refused.
    fixed = await client.patch(url, json={"name": "改名"}, headers=admin)
    assert_problem(fixed, 409, "rule_set_state")
    twin = await client.post(RULE_SETS, json=rule_set_body(world), headers=admin)
    twin_enable = await client.post(f"{RULE_SETS}/{twin.json()['id']}/enable", headers=admin)
    assert_problem(twin_enable, 409, "rule_set_enabled_exists")
    copied = await client.post(f"{url}/copy", json={"year": 2026}, headers=admin)
    assert copied.status_code == 201, copied.text
    assert copied.json()["name"] == "2026年社区考核细则"
    assert copied.json()["copied_from_id"] == body["id"]
    assert copied.json()["items"] == body["items"] and copied.json()["state"] == "draft"
    archived = await client.post(f"{url}/archive", headers=admin)
    assert archived.json()["state"] == "archived"
    actions = await audit_actions(session, body["id"])
    assert actions == [
        "assessment_rule_set.create",
        "assessment_rule_set.enable",
        "assessment_rule_set.archive",
    ]
    # A community user reads the district's rules that assess it, but cannot change them.
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    seen = await client.get(url, headers=auth(staff, clock))
    assert seen.status_code == 200
    listed = await client.get(RULE_SETS, params={"year": 2026}, headers=auth(staff, clock))
    assert [r["id"] for r in listed.json()["items"]] == [copied.json()["id"]]


@pytest.mark.parametrize(
    ("item", "field", "code"),
    [
        ({"code": "Bad-Code", "text": "x", "points": -1}, "code", "assessment_item_code_invalid"),
        (
            {"code": "c", "text": "x", "points": -2.5, "signal": "supervision_red"},
            "points",
            "assessment_card_points_whole",
        ),
        ({"code": "c", "text": "x", "points": -3, "cap": 2}, "cap", "assessment_cap_invalid"),
    ],
)
async def test_r_asm_1_items_are_validated_and_nothing_is_stored(
    client: AsyncClient,
    world: World,
    clock: MovableClock,
    item: dict[str, Any],
    field: str,
    code: str,
) -> None:
    admin = auth(world.admin_d, clock)
    r = await client.post(RULE_SETS, json=rule_set_body(world, items=[item]), headers=admin)
    body = assert_problem(r, 422, "assessment_rules_invalid")
    assert body["errors"][0]["field"] == f"items[0].{field}"
    listed = await client.get(RULE_SETS, headers=admin)
    assert listed.json()["total"] == 0


async def test_r_asm_1_duplicate_codes_and_signals_and_zero_points_are_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    admin = auth(world.admin_d, clock)
    twice = [
        {"code": "a", "text": "x", "points": -1, "signal": "verify_late"},
        {"code": "a", "text": "y", "points": -1, "signal": "verify_late"},
    ]
    r = await client.post(RULE_SETS, json=rule_set_body(world, items=twice), headers=admin)
    fields = {e["field"] for e in assert_problem(r, 422, "assessment_rules_invalid")["errors"]}
    assert fields == {"items[1].code", "items[1].signal"}
    zero = [{"code": "a", "text": "x", "points": 0}]
    r = await client.post(RULE_SETS, json=rule_set_body(world, items=zero), headers=admin)
    assert_problem(r, 422, "assessment_rules_invalid")
    extra = await client.post(RULE_SETS, json=rule_set_body(world, owner="x"), headers=admin)
    assert extra.status_code == 422
    unknown_signal = [{"code": "a", "text": "x", "points": -1, "signal": "nope"}]
    r = await client.post(RULE_SETS, json=rule_set_body(world, items=unknown_signal), headers=admin)
    assert r.status_code == 422
    english = await client.post(
        RULE_SETS,
        json=rule_set_body(world, items=zero),
        headers={**admin, "Accept-Language": "en"},
    )
    assert "invalid" in english.json()["title"].lower() or english.json()["detail"]


async def _line(session: AsyncSession, unit: Any, period: str, points: str) -> None:
    session.add(
        LedgerLine(
            unit_id=unit.id,
            path=unit.path,
            period=period,
            points=Decimal(points),
            item_code="wrong_submission",
            reason="测试",
            created_at=datetime(2026, 11, 25, tzinfo=UTC),
        )
    )
    await session.flush()


async def test_r_asm_2_annual_scores_fail_below_80_and_rank_within_the_area(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """79.9 fails, 80 passes; ranks by kind, competition style; the area filter; a sibling's
    area is 404 and its units are not listed."""
    await system_ctx(session, clock)
    await _line(session, world.c1, "2026-03", "-20.1")
    await _line(session, world.c2, "2026-04", "-20")
    await _line(session, world.c2, "2026-05", "3")
    await _line(session, world.c2, "2026-05", "-3")
    admin = auth(world.admin_d, clock)
    r = await client.get(SCORES, params={"period": "2026", "level": "community"}, headers=admin)
    assert r.status_code == 200, r.text
    scores = {item["unit_id"]: item for item in r.json()["items"]}
    c1, c2, c3 = scores[str(world.c1.id)], scores[str(world.c2.id)], scores[str(world.c3.id)]
    assert (c1["score"], c1["passed"], c1["band"], c1["rank"]) == (79.9, False, "fail", 3)
    assert (c2["score"], c2["passed"], c2["deductions"], c2["bonuses"]) == (80, True, 23, 3)
    assert (c3["score"], c3["rank"], c3["lines"]) == (100, 1, 0)
    monthly = await client.get(SCORES, params={"period": "2026-03"}, headers=admin)
    c1_march = next(i for i in monthly.json()["items"] if i["unit_id"] == str(world.c1.id))
    assert (c1_march["score"], c1_march["passed"]) == (79.9, None)
    area = await client.get(
        SCORES,
        params={"period": "2026", "level": "community", "unit_id": str(world.s1.id)},
        headers=admin,
    )
    assert {i["unit_id"] for i in area.json()["items"]} == {str(world.c1.id), str(world.c2.id)}
    assert [i["rank"] for i in area.json()["items"]] == [1, 2]
    sibling = auth(world.admin_s2, clock)
    outside = await client.get(
        SCORES, params={"period": "2026", "unit_id": str(world.s1.id)}, headers=sibling
    )
    assert_problem(outside, 404, "org_unit_not_found")
    mine = await client.get(SCORES, params={"period": "2026"}, headers=sibling)
    assert str(world.c1.id) not in {i["unit_id"] for i in mine.json()["items"]}
    paged = await client.get(SCORES, params={"period": "2026", "limit": 2}, headers=admin)
    rest = await client.get(
        SCORES,
        params={"period": "2026", "limit": 500, "cursor": paged.json()["next_cursor"]},
        headers=admin,
    )
    total = paged.json()["total"]
    assert len(paged.json()["items"]) + len(rest.json()["items"]) == total
    bad = await client.get(SCORES, params={"period": "2026-13"}, headers=admin)
    assert bad.status_code == 422


@pytest.fixture
async def street(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["street_operator"], unit=world.s1)


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def enable_manual_rules(session: AsyncSession, world: World, clock: MovableClock) -> None:
    """The district's enabled 2026 community rules: an automatic item and two scored by
    hand (the shipped defaults are all automatic)."""
    ctx = await system_ctx(session, clock)
    created = await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=world.district.id,
        year=2026,
        kind=Kind.COMMUNITY,
        name="2026年社区考核细则",
        items=assessment_rules.to_items(
            [
                {"code": "verify_late", "text": "未评价", "points": -1, "signal": "verify_late"},
                {"code": "wrong_submission", "text": "错报", "points": -1, "cap": 10},
                {"code": "year_no_wrong_submission", "text": "全年无错报", "points": 5},
            ]
        ),
    )
    await assessment_rules.set_state(ctx, created["id"], "enabled", expected_version=None)


async def test_r_asm_5_self_evaluation_superior_scoring_submit_and_archive(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    staff: User,
    street: User,
) -> None:
    await enable_manual_rules(session, world, clock)
    mine, boss = auth(staff, clock), auth(street, clock)
    opened = await client.post(
        REVIEWS, json={"unit_id": str(world.c1.id), "period": "2026-11"}, headers=mine
    )
    assert opened.status_code == 201, opened.text
    url = f"{REVIEWS}/{opened.json()['id']}"
    again = await client.post(
        REVIEWS, json={"unit_id": str(world.c1.id), "period": "2026-11"}, headers=boss
    )
    assert_problem(again, 409, "review_exists")
    own = {"scores": [{"code": "year_no_wrong_submission", "points": 5}], "comment": "无错报"}
    edited = await client.patch(url, json=own, headers={**mine, "If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert edited.json()["self_scores"] == [
        {"code": "year_no_wrong_submission", "points": 5.0, "note": None}
    ]
    # The superior cannot score before the self-evaluation is submitted, nor submit it.
    assert_problem(await client.post(f"{url}/submit", headers=boss), 403, "review_not_yours")
    stale = await client.post(f"{url}/submit", headers={**mine, "If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")
    submitted = await client.post(f"{url}/submit", headers=mine)
    assert submitted.json()["state"] == "submitted"
    assert_problem(await client.patch(url, json=own, headers=mine), 403, "review_not_yours")
    # Scores only for manual items, with the item's sign and within its points or cap.
    for wrong in (
        [{"code": "verify_late", "points": -1}],
        [{"code": "wrong_submission", "points": 1}],
        [{"code": "wrong_submission", "points": -10.5}],
    ):
        refused = await client.patch(url, json={"scores": wrong}, headers=boss)
        assert_problem(refused, 422, "assessment_scores_invalid")
    scores = [
        {"code": "wrong_submission", "points": -2.5, "note": "两次错报"},
        {"code": "year_no_wrong_submission", "points": 0},
    ]
    scored = await client.patch(url, json={"scores": scores, "comment": "整改"}, headers=boss)
    assert scored.status_code == 200, scored.text
    done = await client.post(f"{url}/submit", headers=boss)
    assert done.json()["state"] == "scored" and done.json()["scored_at"]
    assert_problem(
        await client.post(f"{url}/submit", headers=boss), 409, "review_transition_not_allowed"
    )
    charged = list(
        await session.scalars(select(LedgerLine).where(LedgerLine.review_id == done.json()["id"]))
    )
    assert [(c.unit_id, c.points, c.item_code, c.period) for c in charged] == [
        (world.c1.id, Decimal("-2.5"), "wrong_submission", "2026-11")
    ]
    archived = await client.post(f"{url}/archive", headers=boss)
    assert archived.json()["state"] == "archived"
    assert_problem(
        await client.patch(url, json=own, headers=boss), 409, "review_transition_not_allowed"
    )
    actions = await audit_actions(session, done.json()["id"])
    assert actions == [
        "assessment_review.open",
        "assessment_review.edit",
        "assessment_review.submit",
        "assessment_review.edit",
        "assessment_review.submit",
        "assessment_review.archive",
    ]


async def test_r_asm_5_only_the_unit_and_its_direct_superior_open_a_review(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The district is C1's grand-superior: it may not open C1's review; a missing or double
    holder is 422; a department is assessed like a unit, by its own unit."""
    r = await client.post(
        REVIEWS,
        json={"unit_id": str(world.c1.id), "period": "2026"},
        headers=auth(world.admin_d, clock),
    )
    assert_problem(r, 403, "review_not_yours")
    grid = await client.post(
        REVIEWS,
        json={"unit_id": str(world.g1.id), "period": "2026"},
        headers=auth(world.worker_g1, clock),
    )
    # Grid workers do not hold `assessment:review`: their grid's leader units do.
    assert_problem(grid, 403, "permission_denied")
    both = await client.post(
        REVIEWS,
        json={
            "unit_id": str(world.c1.id),
            "department_id": str(world.dept_s1.id),
            "period": "2026",
        },
        headers=auth(world.admin_s1, clock),
    )
    assert_problem(both, 422, "review_holder_required")
    dept = await client.post(
        REVIEWS,
        json={"department_id": str(world.dept_s1.id), "period": "2026"},
        headers=auth(world.admin_s1, clock),
    )
    assert dept.status_code == 201, dept.text
    assert dept.json()["kind"] == "department"


real_client = territory.real_client


@pytest.fixture
async def committed_review(
    app: FastAPI, clock: MovableClock
) -> AsyncIterator[tuple[dict[str, str], uuid.UUID]]:
    """A submitted review of a committed community, scored −1.5, and its street's operator;
    everything removed afterwards."""
    async with committed_territory(app, clock, region="653024", west=86.0, south=45.0) as data:
        async with system_session(app.state.sessionmaker) as s:
            community = await s.get_one(OrgUnit, data.community_id)
            street = await s.get_one(OrgUnit, community.parent_id)
            operator = await make_user(s, roles=["street_operator"], unit=street)
            review = Review(
                unit_id=community.id,
                path=community.path,
                kind=Kind.COMMUNITY.value,
                period="2026-11",
                state="submitted",
                scores=[{"code": "wrong_submission", "points": "-1.5", "note": None}],
                created_at=clock.now(),
                updated_at=clock.now(),
            )
            s.add(review)
            await s.flush()
            review_id, headers = review.id, auth(operator, clock)
        try:
            yield headers, review_id
        finally:
            conn = await asyncpg.connect(SUPERUSER_DSN)
            try:
                await conn.execute(
                    f"DELETE FROM assessment_ledger WHERE review_id = '{review_id}';"
                    f"DELETE FROM assessment_reviews WHERE id = '{review_id}';"
                )
            finally:
                await conn.close()


async def test_r_asm_5_two_racing_submits_of_the_scores_charge_them_once(
    real_client: AsyncClient, app: FastAPI, committed_review: tuple[dict[str, str], uuid.UUID]
) -> None:
    headers, review_id = committed_review

    async def submit() -> int:
        r = await real_client.post(f"{REVIEWS}/{review_id}/submit", headers=headers)
        return r.status_code

    statuses = sorted(await asyncio.gather(submit(), submit()))
    assert statuses[0] == 200 and statuses[1] in (409, 412), statuses
    async with system_session(app.state.sessionmaker) as s:
        charged = list(
            await s.scalars(select(LedgerLine.points).where(LedgerLine.review_id == review_id))
        )
    assert charged == [Decimal("-1.5")]
