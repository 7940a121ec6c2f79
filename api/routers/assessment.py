"""Assessment (R-ASM-1 … R-ASM-5): the ledger, rule sets, scores with rankings, the manual
reviews and the findings (考核认定) that charge the community side."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.schemas.assessment import (
    FINDING_COLUMNS,
    LEDGER_COLUMNS,
    PERIOD_PATTERN,
    REVIEW_COLUMNS,
    RULE_SET_COLUMNS,
    SCORE_COLUMNS,
    FindingCreate,
    FindingOut,
    FindingRevoke,
    LedgerLineOut,
    ReviewOpen,
    ReviewOut,
    ReviewUpdate,
    RuleSetCopyIn,
    RuleSetCreate,
    RuleSetOut,
    RuleSetSummary,
    RuleSetUpdate,
    ScoreOut,
)
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from domain.assessment import FindingKind, Kind, ReviewState
from domain.errors import FieldError, Invalid, PermissionDenied
from domain.permissions import Perm
from services import (
    assessment_findings,
    assessment_ledger,
    assessment_reviews,
    assessment_rules,
    assessment_scores,
)
from services.assessment_findings import FindingFilter
from services.assessment_ledger import LedgerFilter
from services.assessment_reviews import ReviewFilter
from services.assessment_rules import RuleSetFilter, to_items
from services.assessment_scores import ScoreFilter
from services.context import Ctx
from services.models import Review

router = APIRouter(prefix="/api/v1/assessment", tags=["assessment"], responses=PROBLEM_RESPONSES)
IfMatch = Annotated[str | None, Header()]
Period = Annotated[str, Query(pattern=PERIOD_PATTERN, description="YYYY-MM or YYYY")]


def _filter(
    unit_id: uuid.UUID | None = None,
    department_id: uuid.UUID | None = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    q: str | None = None,
) -> LedgerFilter:
    return LedgerFilter(unit_id=unit_id, department_id=department_id, period=period, q=q)


Filter = Annotated[LedgerFilter, Depends(_filter)]


@router.get("/ledger", response_model=PageOut[LedgerLineOut])
async def list_ledger(
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)], page: Paging, flt: Filter
) -> PageOut[LedgerLineOut]:
    """Ledger lines in jurisdiction (`points` negative for deductions), each naming its
    cause; 404 for a unit or department outside it."""
    result = await assessment_ledger.list_ledger(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[LedgerLineOut].model_validate(result, from_attributes=True)


@router.get("/ledger/export", response_class=StreamingResponse)
async def export_ledger(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Filter,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    await assessment_ledger.check_holder(ctx, flt)
    return await export_list(
        request,
        ctx,
        assessment_ledger.ledger_query(ctx, flt),
        LEDGER_COLUMNS,
        fmt=format,
        filename="考核台账",
        target_type="assessment_ledger",
        filters=vars(flt),
    )


def _score_filter(
    period: Period,
    level: Annotated[Kind | None, Query(description="the assessed kind ranked")] = None,
    unit_id: Annotated[uuid.UUID | None, Query(description="rank within this area")] = None,
) -> ScoreFilter:
    return ScoreFilter(period=period, kind=level, unit_id=unit_id)


ScoreFilters = Annotated[ScoreFilter, Depends(_score_filter)]


@router.get("/scores", response_model=PageOut[ScoreOut])
async def list_scores(
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)], page: Paging, flt: ScoreFilters
) -> PageOut[ScoreOut]:
    """Every unit and department in jurisdiction (of `level`, within `unit_id`) with its
    month's or year's score, ranked by kind: the monthly bulletin and the annual result."""
    result = await assessment_scores.list_scores(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[ScoreOut].model_validate(result, from_attributes=True)


@router.get("/scores/export", response_class=StreamingResponse)
async def export_scores(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: ScoreFilters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    area = await assessment_scores.area_path(ctx, flt)
    return await export_list(
        request,
        ctx,
        assessment_scores.scores_query(ctx, flt, area),
        SCORE_COLUMNS,
        fmt=format,
        filename="考核得分",
        target_type="assessment_score",
        filters=vars(flt),
        convert=assessment_scores.scored(flt.period),
    )


def _rule_set(response: Response, data: dict[str, Any], location: bool = False) -> RuleSetOut:
    out = RuleSetOut.model_validate(data)
    set_etag(response, out.version)
    if location:
        response.headers["Location"] = f"/api/v1/assessment/rule-sets/{out.id}"
    return out


def _rule_set_filter(
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: Kind | None = None,
    state: Annotated[str | None, Query(pattern="^(draft|enabled|archived)$")] = None,
    owner_unit_id: uuid.UUID | None = None,
) -> RuleSetFilter:
    return RuleSetFilter(year=year, kind=kind, state=state, owner_unit_id=owner_unit_id)


RuleSetFilters = Annotated[RuleSetFilter, Depends(_rule_set_filter)]


@router.post("/rule-sets", status_code=status.HTTP_201_CREATED, response_model=RuleSetOut)
async def create_rule_set(
    body: RuleSetCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)]
) -> RuleSetOut:
    """A draft rule set (考核细则) of the owner for a year and kind; without `items` it starts
    from the shipped defaults (R-ASM-3)."""
    data = await assessment_rules.create_rule_set(
        ctx,
        owner_unit_id=body.owner_unit_id,
        year=body.year,
        kind=body.kind,
        name=body.name,
        items=to_items([i.model_dump() for i in body.items]) if body.items is not None else None,
    )
    return _rule_set(response, data, location=True)


@router.get("/rule-sets", response_model=PageOut[RuleSetSummary])
async def list_rule_sets(
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)], page: Paging, flt: RuleSetFilters
) -> PageOut[RuleSetSummary]:
    """Rule sets owned in the caller's jurisdiction or above it (those that assess it)."""
    result = await assessment_rules.list_rule_sets(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[RuleSetSummary].model_validate(result, from_attributes=True)


@router.get("/rule-sets/export", response_class=StreamingResponse)
async def export_rule_sets(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: RuleSetFilters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        assessment_rules.rule_sets_query(ctx, flt),
        RULE_SET_COLUMNS,
        fmt=format,
        filename="考核细则",
        target_type="assessment_rule_set",
        filters=vars(flt),
    )


@router.get("/rule-sets/{rule_set_id}", response_model=RuleSetOut)
async def get_rule_set(
    rule_set_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)]
) -> RuleSetOut:
    return _rule_set(response, await assessment_rules.get_rule_set(ctx, rule_set_id))


@router.patch("/rule-sets/{rule_set_id}", response_model=RuleSetOut)
async def update_rule_set(
    rule_set_id: uuid.UUID,
    body: RuleSetUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
    if_match: IfMatch = None,
) -> RuleSetOut:
    """Rename a draft or replace its items (validated as a whole)."""
    data = await assessment_rules.update_rule_set(
        ctx,
        rule_set_id,
        name=body.name,
        items=to_items([i.model_dump() for i in body.items]) if body.items is not None else None,
        expected_version=expected_version(if_match),
    )
    return _rule_set(response, data)


@router.delete("/rule-sets/{rule_set_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_rule_set(
    rule_set_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
    if_match: IfMatch = None,
) -> None:
    """Delete a draft; enabled and archived sets are kept."""
    await assessment_rules.delete_rule_set(
        ctx, rule_set_id, expected_version=expected_version(if_match)
    )


@router.post("/rule-sets/{rule_set_id}/enable", response_model=RuleSetOut)
async def enable_rule_set(
    rule_set_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
    if_match: IfMatch = None,
) -> RuleSetOut:
    """Enable a draft: from now on its items price the signals of its kind and year."""
    data = await assessment_rules.set_state(
        ctx, rule_set_id, "enabled", expected_version=expected_version(if_match)
    )
    return _rule_set(response, data)


@router.post("/rule-sets/{rule_set_id}/archive", response_model=RuleSetOut)
async def archive_rule_set(
    rule_set_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
    if_match: IfMatch = None,
) -> RuleSetOut:
    data = await assessment_rules.set_state(
        ctx, rule_set_id, "archived", expected_version=expected_version(if_match)
    )
    return _rule_set(response, data)


@router.post(
    "/rule-sets/{rule_set_id}/copy", status_code=status.HTTP_201_CREATED, response_model=RuleSetOut
)
async def copy_rule_set(
    rule_set_id: uuid.UUID,
    body: RuleSetCopyIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
) -> RuleSetOut:
    """A new year's draft with this set's items (copy from last year, R-ASM-1)."""
    data = await assessment_rules.copy_rule_set(ctx, rule_set_id, year=body.year)
    return _rule_set(response, data, location=True)


def _review(response: Response, data: dict[str, Any], location: bool = False) -> ReviewOut:
    out = ReviewOut.model_validate(data)
    set_etag(response, out.version)
    if location:
        response.headers["Location"] = f"/api/v1/assessment/reviews/{out.id}"
    return out


def _review_filter(
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    state: ReviewState | None = None,
    kind: Kind | None = None,
) -> ReviewFilter:
    return ReviewFilter(period=period, state=state, kind=kind)


@router.post("/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut)
async def open_review(
    body: ReviewOpen, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)]
) -> ReviewOut:
    """Open the manual assessment of a unit or department for a month or year (by itself or
    its direct superior)."""
    if (body.unit_id is None) == (body.department_id is None):
        raise Invalid(
            "review_holder_required", errors=[FieldError("unit_id", "review_holder_required")]
        )
    data = await assessment_reviews.open_review(
        ctx, unit_id=body.unit_id, department_id=body.department_id, period=body.period
    )
    return _review(response, data, location=True)


@router.get("/reviews", response_model=PageOut[ReviewOut])
async def list_reviews(
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)],
    page: Paging,
    flt: Annotated[ReviewFilter, Depends(_review_filter)],
) -> PageOut[ReviewOut]:
    result = await assessment_reviews.list_reviews(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[ReviewOut].model_validate(result, from_attributes=True)


@router.get("/reviews/export", response_class=StreamingResponse)
async def export_reviews(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Annotated[ReviewFilter, Depends(_review_filter)],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered reviews as CSV or XLSX (R-EXP-1), for those who may read them."""
    if not ctx.principal.can(Perm.ASSESSMENT_REVIEW):
        raise PermissionDenied()
    return await export_list(
        request,
        ctx,
        assessment_reviews.reviews_query(ctx, flt).order_by(Review.period, Review.id),
        REVIEW_COLUMNS,
        fmt=format,
        filename="考核评议",
        target_type="assessment_review",
        filters=vars(flt),
    )


@router.get("/reviews/{review_id}", response_model=ReviewOut)
async def get_review(
    review_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)]
) -> ReviewOut:
    return _review(response, await assessment_reviews.get_review(ctx, review_id))


@router.patch("/reviews/{review_id}", response_model=ReviewOut)
async def edit_review(
    review_id: uuid.UUID,
    body: ReviewUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)],
    if_match: IfMatch = None,
) -> ReviewOut:
    """The self-evaluation while the unit evaluates itself; the superior's scores once it
    was submitted. Scores are for the manual items of the applicable rule set."""
    data = await assessment_reviews.edit_review(
        ctx,
        review_id,
        scores=[s.model_dump() for s in body.scores] if body.scores is not None else None,
        comment=body.comment,
        expected_version=expected_version(if_match),
    )
    return _review(response, data)


@router.post("/reviews/{review_id}/submit", response_model=ReviewOut)
async def submit_review(
    review_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)],
    if_match: IfMatch = None,
) -> ReviewOut:
    """Submit the self-evaluation (the unit) or the scores (the superior: they are written
    to the ledger)."""
    data = await assessment_reviews.submit_review(
        ctx, review_id, expected_version=expected_version(if_match)
    )
    return _review(response, data)


@router.post("/reviews/{review_id}/archive", response_model=ReviewOut)
async def archive_review(
    review_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_REVIEW)],
    if_match: IfMatch = None,
) -> ReviewOut:
    data = await assessment_reviews.archive_review(
        ctx, review_id, expected_version=expected_version(if_match)
    )
    return _review(response, data)


def _finding(response: Response, data: dict[str, Any], location: bool = False) -> FindingOut:
    out = FindingOut.model_validate(data)
    set_etag(response, out.version)
    if location:
        response.headers["Location"] = f"/api/v1/assessment/findings/{out.id}"
    return out


def _finding_filter(
    kind: FindingKind | None = None,
    unit_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
    revoked: bool | None = None,
) -> FindingFilter:
    return FindingFilter(
        kind=kind, unit_id=unit_id, event_id=event_id, period=period, revoked=revoked
    )


FindingFilters = Annotated[FindingFilter, Depends(_finding_filter)]


@router.post("/findings", status_code=status.HTTP_201_CREATED, response_model=FindingOut)
async def create_finding(
    body: FindingCreate, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)]
) -> FindingOut:
    """Record a finding (考核认定) on an event against the community or grid that reported or
    handled it, inside the caller's jurisdiction; the accrual charges it (R-ASM-3)."""
    data = await assessment_findings.create_finding(
        ctx, kind=body.kind, event_id=body.event_id, unit_id=body.unit_id, note=body.note
    )
    return _finding(response, data, location=True)


@router.get("/findings", response_model=PageOut[FindingOut])
async def list_findings(
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)], page: Paging, flt: FindingFilters
) -> PageOut[FindingOut]:
    """Findings charged in the caller's jurisdiction, by period."""
    result = await assessment_findings.list_findings(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[FindingOut].model_validate(result, from_attributes=True)


@router.get("/findings/export", response_class=StreamingResponse)
async def export_findings(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: FindingFilters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        assessment_findings.findings_query(ctx, flt),
        FINDING_COLUMNS,
        fmt=format,
        filename="考核认定",
        target_type="assessment_finding",
        filters=vars(flt),
    )


@router.get("/findings/{finding_id}", response_model=FindingOut)
async def get_finding(
    finding_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_READ)]
) -> FindingOut:
    return _finding(response, await assessment_findings.get_finding(ctx, finding_id))


@router.post("/findings/{finding_id}/revoke", response_model=FindingOut)
async def revoke_finding(
    finding_id: uuid.UUID,
    body: FindingRevoke,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.ASSESSMENT_WRITE)],
    if_match: IfMatch = None,
) -> FindingOut:
    """Revoke a finding with a reason before its period's review is archived; a line it
    already caused is compensated by the next accrual."""
    data = await assessment_findings.revoke_finding(
        ctx, finding_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return _finding(response, data)
