"""Route table of assessment (R-JUR-1): rule sets owned by street S1, reviews of S1 (its
superior is the district), findings against community C1, the scores list."""

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.assessment import FindingKind, Kind, ReviewState
from services import assessment_findings, assessment_rules
from services.clock import Clock
from services.models import Review
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup
from tests.routes.events import make_event

RULE_SETS = "/api/v1/assessment/rule-sets"
REVIEWS = "/api/v1/assessment/reviews"
FINDINGS = "/api/v1/assessment/findings"


async def s1_rule_set(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    """A draft rule set of S1 for its communities, from the shipped defaults."""
    ctx = await system_ctx(session, clock)
    return await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=world.s1.id,
        year=2026,
        kind=Kind.COMMUNITY,
        name="2026年社区考核细则",
        items=None,
    )


async def s1_review(
    session: AsyncSession, world: World, clock: Clock, state: ReviewState
) -> Review:
    """A review of street S1 for 2026-11 in `state`, written directly."""
    await system_ctx(session, clock)
    review = Review(
        unit_id=world.s1.id,
        path=world.s1.path,
        kind=Kind.STREET.value,
        period="2026-11",
        state=state.value,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(review)
    await session.flush()
    return review


async def c1_finding(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    """A wrong-submission finding against C1 on an event reported in its grid G1."""
    event = await make_event(session, clock, world)
    ctx = await system_ctx(session, clock)
    return await assessment_findings.create_finding(
        ctx,
        kind=FindingKind.WRONG_SUBMISSION,
        event_id=event["id"],
        unit_id=world.c1.id,
        note="错报引起投诉",
    )


async def _new_finding(session: AsyncSession, world: World, clock: Clock) -> Call:
    event = await make_event(session, clock, world)
    body = {
        "kind": "dispute_pushed_up",
        "event_id": str(event["id"]),
        "unit_id": str(world.c1.id),
        "note": "本可就地化解",
    }
    return Call(FINDINGS, body)


def _on_finding(path: str, json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        finding = await c1_finding(session, world, clock)
        return Call(path.format(id=finding["id"]), json)

    return setup


async def _seed_findings(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await c1_finding(session, world, clock))["id"]]


def _on_rule_set(path: str, json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        rule_set = await s1_rule_set(session, world, clock)
        return Call(path.format(id=rule_set["id"]), json)

    return setup


def _on_review(
    path: str, state: ReviewState, json: dict[str, Any] | None = None
) -> Callable[[AsyncSession, World, Clock], Any]:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        review = await s1_review(session, world, clock, state)
        return Call(path.format(id=review.id), json)

    return setup


async def _seed_rule_sets(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await s1_rule_set(session, world, clock))["id"]]


async def _seed_reviews(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await s1_review(session, world, clock, ReviewState.SELF_EVALUATING)).id]


UNSCOPED = {
    ("GET", "/api/v1/assessment/scores"),
    ("GET", "/api/v1/assessment/scores/export"),
    ("GET", RULE_SETS),
    ("GET", f"{RULE_SETS}/export"),
    ("GET", REVIEWS),
    ("GET", f"{REVIEWS}/export"),
    ("GET", FINDINGS),
    ("GET", f"{FINDINGS}/export"),
}

LISTS: list[ListEntry] = [
    (RULE_SETS, _seed_rule_sets),
    (REVIEWS, _seed_reviews),
    (FINDINGS, _seed_findings),
]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", RULE_SETS): lambda w: Call(
        RULE_SETS,
        {"owner_unit_id": str(w.s1.id), "year": 2027, "kind": "community", "name": "细则"},
    ),
    ("GET", f"{RULE_SETS}/{{rule_set_id}}"): _on_rule_set(f"{RULE_SETS}/{{id}}"),
    ("PATCH", f"{RULE_SETS}/{{rule_set_id}}"): _on_rule_set(
        f"{RULE_SETS}/{{id}}", {"name": "2026年社区考核细则（修订）"}
    ),
    ("DELETE", f"{RULE_SETS}/{{rule_set_id}}"): _on_rule_set(f"{RULE_SETS}/{{id}}"),
    ("POST", f"{RULE_SETS}/{{rule_set_id}}/enable"): _on_rule_set(f"{RULE_SETS}/{{id}}/enable"),
    ("POST", f"{RULE_SETS}/{{rule_set_id}}/archive"): _on_rule_set(f"{RULE_SETS}/{{id}}/archive"),
    ("POST", f"{RULE_SETS}/{{rule_set_id}}/copy"): _on_rule_set(
        f"{RULE_SETS}/{{id}}/copy", {"year": 2027}
    ),
    # The district is the street's direct superior: it opens, scores, submits and archives.
    ("POST", REVIEWS): lambda w: Call(REVIEWS, {"unit_id": str(w.s1.id), "period": "2026-11"}),
    ("GET", f"{REVIEWS}/{{review_id}}"): _on_review(
        f"{REVIEWS}/{{id}}", ReviewState.SELF_EVALUATING
    ),
    ("PATCH", f"{REVIEWS}/{{review_id}}"): _on_review(
        f"{REVIEWS}/{{id}}", ReviewState.SUBMITTED, {"comment": "工作扎实"}
    ),
    ("POST", f"{REVIEWS}/{{review_id}}/submit"): _on_review(
        f"{REVIEWS}/{{id}}/submit", ReviewState.SUBMITTED
    ),
    ("POST", f"{REVIEWS}/{{review_id}}/archive"): _on_review(
        f"{REVIEWS}/{{id}}/archive", ReviewState.SCORED
    ),
    ("POST", FINDINGS): _new_finding,
    ("GET", f"{FINDINGS}/{{finding_id}}"): _on_finding(f"{FINDINGS}/{{id}}"),
    ("POST", f"{FINDINGS}/{{finding_id}}/revoke"): _on_finding(
        f"{FINDINGS}/{{id}}/revoke", {"reason": "复核不属实"}
    ),
}
