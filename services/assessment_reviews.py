"""Manual assessment (R-ASM-5): a unit or department evaluates itself against the manual items
of the rule set that applies to it and submits; its direct superior (the parent unit; a
department's own unit) scores it and submits, which writes each score to the ledger with
the review as its cause; the superior archives it. Every step is a guarded update of the
version and state that were read, audited."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from domain.assessment import (
    Kind,
    ManualScore,
    ReviewAction,
    ReviewRole,
    ReviewState,
    check_manual_scores,
    decide_review,
    kind_of,
    ledger_period,
)
from domain.errors import Conflict, FieldError, Invalid, NotFound, PermissionDenied
from domain.versioning import check_version
from services import assessment_rules, audit
from services.context import Ctx
from services.jurisdiction import in_scope, path_in_scope
from services.models import Department, LedgerLine, OrgUnit, Review
from services.pagination import AnySelect, Page, paginate

REVIEW_COLUMNS = (
    Review.id,
    Review.unit_id,
    Review.department_id,
    Review.kind,
    Review.period,
    Review.state,
    Review.self_scores,
    Review.self_comment,
    Review.scores,
    Review.comment,
    Review.submitted_at,
    Review.scored_at,
    Review.archived_at,
    Review.version,
    Review.created_at,
    Review.updated_at,
)


@dataclass(frozen=True)
class Holder:
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    kind: Kind
    path: str
    # The unit whose staff score the holder: its parent unit, a department's own unit.
    superior_id: uuid.UUID | None


@dataclass(frozen=True)
class ReviewFilter:
    period: str | None = None
    state: ReviewState | None = None
    kind: Kind | None = None


async def _holder(ctx: Ctx, unit_id: uuid.UUID | None, department_id: uuid.UUID | None) -> Holder:
    """The assessed unit or department, in the caller's jurisdiction (404 otherwise)."""
    if department_id is not None:
        department = await ctx.session.scalar(
            select(Department).where(
                Department.id == department_id, Department.deleted_at.is_(None)
            )
        )
        if department is None or not path_in_scope(department.path, ctx.principal):
            raise NotFound("department_not_found")
        return Holder(None, department.id, Kind.DEPARTMENT, department.path, department.unit_id)
    unit = await ctx.session.scalar(
        select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.deleted_at.is_(None))
    )
    if unit is None or not path_in_scope(unit.path, ctx.principal):
        raise NotFound("org_unit_not_found")
    kind = kind_of(unit.level)
    if kind is None:
        raise Invalid(
            "assessment_not_assessed", errors=[FieldError("unit_id", "assessment_not_assessed")]
        )
    return Holder(unit.id, None, kind, unit.path, unit.parent_id)


def _roles(ctx: Ctx, holder: Holder) -> frozenset[ReviewRole]:
    principal = ctx.principal
    roles = set()
    if (holder.unit_id is not None and principal.unit_id == holder.unit_id) or (
        holder.department_id is not None and principal.department_id == holder.department_id
    ):
        roles.add(ReviewRole.ASSESSED)
    if holder.superior_id is not None and principal.unit_id == holder.superior_id:
        roles.add(ReviewRole.SUPERIOR)
    return frozenset(roles)


def _scores(rows: list[dict[str, Any]] | None) -> list[ManualScore]:
    return [
        ManualScore(row["code"], Decimal(str(row["points"])), row.get("note")) for row in rows or []
    ]


def _stored(scores: list[ManualScore]) -> list[dict[str, Any]]:
    return [{"code": s.code, "points": str(s.points), "note": s.note} for s in scores]


async def get_review(ctx: Ctx, review_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*REVIEW_COLUMNS).where(
                Review.id == review_id, in_scope(Review.path, ctx.principal)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("review_not_found")
    return dict(row._mapping)


def reviews_query(ctx: Ctx, flt: ReviewFilter) -> AnySelect:
    stmt = select(*REVIEW_COLUMNS).where(in_scope(Review.path, ctx.principal))
    if flt.period is not None:
        stmt = stmt.where(Review.period == flt.period)
    if flt.state is not None:
        stmt = stmt.where(Review.state == flt.state.value)
    if flt.kind is not None:
        stmt = stmt.where(Review.kind == flt.kind.value)
    return stmt


async def list_reviews(
    ctx: Ctx, flt: ReviewFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    return await paginate(
        ctx.session,
        reviews_query(ctx, flt),
        key=(Review.period, Review.id),
        limit=limit,
        cursor=cursor,
    )


async def open_review(
    ctx: Ctx, *, unit_id: uuid.UUID | None, department_id: uuid.UUID | None, period: str
) -> dict[str, Any]:
    """A review of the holder for a month or year, opened by the holder or its superior
    (403 otherwise); one per holder and period (409 `review_exists`)."""
    holder = await _holder(ctx, unit_id, department_id)
    if not _roles(ctx, holder):
        raise PermissionDenied("review_not_yours", params={"action": "open"})
    now, review_id = ctx.now(), uuid.uuid4()
    values: dict[str, Any] = {
        "id": review_id,
        "unit_id": holder.unit_id,
        "department_id": holder.department_id,
        "path": holder.path,
        "kind": holder.kind.value,
        "period": period,
        "state": ReviewState.SELF_EVALUATING.value,
        "self_scores": [],
        "scores": [],
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "created_by": ctx.principal.user_id,
    }
    try:
        async with ctx.session.begin_nested():
            await ctx.session.execute(insert(Review).values(**values))
    except IntegrityError as exc:
        raise Conflict("review_exists") from exc
    await audit.record(
        ctx,
        action="assessment_review.open",
        target_type="assessment_review",
        target_id=review_id,
        unit_path=holder.path,
        after={"period": period, "kind": holder.kind.value},
    )
    return await get_review(ctx, review_id)


async def _locked(
    ctx: Ctx, review_id: uuid.UUID, expected_version: int | None
) -> tuple[Review, Holder]:
    review = await ctx.session.scalar(
        select(Review)
        .where(Review.id == review_id, in_scope(Review.path, ctx.principal))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if review is None:
        raise NotFound("review_not_found")
    check_version(expected_version, review.version)
    return review, await _holder(ctx, review.unit_id, review.department_id)


async def _move(ctx: Ctx, review: Review, target: ReviewState, values: dict[str, Any]) -> None:
    """The guarded change: only from the state and version that were read (409 otherwise:
    a concurrent submit got there first)."""
    done = await ctx.session.execute(
        update(Review)
        .where(
            Review.id == review.id,
            Review.version == review.version,
            Review.state == review.state,
        )
        .values(**values, state=target.value, version=Review.version + 1, updated_at=ctx.now())
        .returning(Review.id)
        .execution_options(synchronize_session=False)
    )
    if done.one_or_none() is None:
        raise Conflict("review_changed")


async def _manual_items(ctx: Ctx, review: Review, holder: Holder) -> list[Any]:
    year = int(review.period[:4])
    return await assessment_rules.applicable_items(ctx, holder.kind, holder.path, year)


async def edit_review(
    ctx: Ctx,
    review_id: uuid.UUID,
    *,
    scores: list[dict[str, Any]] | None,
    comment: str | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """The assessed unit edits its self-evaluation while evaluating; once submitted, its
    superior edits the scores. Scores are checked against the manual items (422)."""
    review, holder = await _locked(ctx, review_id, expected_version)
    state = ReviewState(review.state)
    target = decide_review(state, ReviewAction.EDIT, _roles(ctx, holder))
    own = state == ReviewState.SELF_EVALUATING
    values: dict[str, Any] = {}
    if scores is not None:
        given = _scores(scores)
        field = "self_scores" if own else "scores"
        check_manual_scores(given, await _manual_items(ctx, review, holder), "scores")
        values[field] = _stored(given)
    if comment is not None:
        values["self_comment" if own else "comment"] = comment
    before = {"self_scores": review.self_scores, "scores": review.scores}
    await _move(ctx, review, target, values)
    await audit.record(
        ctx,
        action="assessment_review.edit",
        target_type="assessment_review",
        target_id=review.id,
        unit_path=review.path,
        before=before,
        after=values,
    )
    return await get_review(ctx, review.id)


async def submit_review(
    ctx: Ctx, review_id: uuid.UUID, *, expected_version: int | None
) -> dict[str, Any]:
    """The assessed unit submits its self-evaluation; the superior submits the scores, and
    each non-zero score becomes a ledger line caused by the review (R-ASM-2), once: the
    guarded state change lets one of two concurrent submits through."""
    review, holder = await _locked(ctx, review_id, expected_version)
    target = decide_review(ReviewState(review.state), ReviewAction.SUBMIT, _roles(ctx, holder))
    now, by = ctx.now(), ctx.principal.user_id
    if target == ReviewState.SUBMITTED:
        await _move(ctx, review, target, {"submitted_at": now, "submitted_by": by})
    else:
        await _move(ctx, review, target, {"scored_at": now, "scored_by": by})
        await _charge(ctx, review, holder)
    await audit.record(
        ctx,
        action="assessment_review.submit",
        target_type="assessment_review",
        target_id=review.id,
        unit_path=review.path,
        before={"state": review.state},
        after={"state": target.value},
    )
    return await get_review(ctx, review.id)


async def _charge(ctx: Ctx, review: Review, holder: Holder) -> None:
    texts = {item.code: item.text for item in await _manual_items(ctx, review, holder)}
    for given in _scores(review.scores):
        if given.points == 0:
            continue
        note = f"（{given.note}）" if given.note else ""
        ctx.session.add(
            LedgerLine(
                unit_id=holder.unit_id,
                department_id=holder.department_id,
                path=holder.path,
                period=ledger_period(review.period),
                points=given.points,
                item_code=given.code,
                reason=f"{review.period} 上级评分：{texts.get(given.code, given.code)}{note}",
                review_id=review.id,
                cause_key=f"review:{review.id}:{given.code}",
                created_at=ctx.now(),
            )
        )
    await ctx.session.flush()


async def archive_review(
    ctx: Ctx, review_id: uuid.UUID, *, expected_version: int | None
) -> dict[str, Any]:
    """The superior archives a scored review; it is read-only from then on."""
    review, holder = await _locked(ctx, review_id, expected_version)
    target = decide_review(ReviewState(review.state), ReviewAction.ARCHIVE, _roles(ctx, holder))
    await _move(ctx, review, target, {"archived_at": ctx.now()})
    await audit.record(
        ctx,
        action="assessment_review.archive",
        target_type="assessment_review",
        target_id=review.id,
        unit_path=review.path,
        before={"state": review.state},
        after={"state": target.value},
    )
    return await get_review(ctx, review.id)
