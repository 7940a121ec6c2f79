"""Assessment findings (考核认定, R-ASM-3): a superior records on an event what it found against
the community (or grid) that reported or handled it; the accrual turns each standing finding
into one ledger line pointing at it (`services.assessment_signals.FINDINGS`). A finding is
revoked with a reason while the period's review is not archived; a line already written is
then compensated. Every change audited; everything read and written inside the caller's
jurisdiction (404 outside, R-JUR-1)."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from domain.assessment import FINDING_LEVELS, FindingKind, ReviewState
from domain.errors import Conflict, FieldError, Invalid, NotFound, PermissionDenied
from domain.principal import within
from domain.versioning import check_version
from services import audit
from services.context import Ctx, business_time
from services.jurisdiction import in_scope, path_in_scope
from services.models import Event, Finding, OrgUnit, Review
from services.pagination import AnySelect, Page, paginate

FINDING_COLUMNS = (
    Finding.id,
    Finding.kind,
    Finding.event_id,
    Finding.unit_id,
    Finding.period,
    Finding.note,
    Finding.recorded_by,
    Finding.recorder_unit_id,
    Finding.revoked_at,
    Finding.revoked_by,
    Finding.revoke_reason,
    Finding.version,
    Finding.created_at,
    Finding.updated_at,
)


@dataclass(frozen=True)
class FindingFilter:
    kind: FindingKind | None = None
    unit_id: uuid.UUID | None = None
    event_id: uuid.UUID | None = None
    period: str | None = None
    revoked: bool | None = None


def findings_query(ctx: Ctx, flt: FindingFilter) -> AnySelect:
    """Findings charged inside the caller's jurisdiction, narrowed by the filter (the list
    and its export)."""
    stmt = select(*FINDING_COLUMNS).where(in_scope(Finding.path, ctx.principal))
    if flt.kind is not None:
        stmt = stmt.where(Finding.kind == flt.kind.value)
    if flt.unit_id is not None:
        stmt = stmt.where(Finding.unit_id == flt.unit_id)
    if flt.event_id is not None:
        stmt = stmt.where(Finding.event_id == flt.event_id)
    if flt.period is not None:
        stmt = stmt.where(Finding.period == flt.period)
    if flt.revoked is not None:
        stmt = stmt.where(
            Finding.revoked_at.is_not(None) if flt.revoked else Finding.revoked_at.is_(None)
        )
    return stmt


async def list_findings(
    ctx: Ctx, flt: FindingFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    return await paginate(
        ctx.session,
        findings_query(ctx, flt),
        key=(Finding.period, Finding.id),
        limit=limit,
        cursor=cursor,
    )


async def get_finding(ctx: Ctx, finding_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*FINDING_COLUMNS).where(
                Finding.id == finding_id, in_scope(Finding.path, ctx.principal)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("finding_not_found")
    return dict(row._mapping)


async def _charged_unit(ctx: Ctx, unit_id: uuid.UUID) -> OrgUnit:
    """The unit charged: in the caller's jurisdiction (404), a community or grid (422), and
    not the caller's own unit — a finding is a superior's (403)."""
    unit = await ctx.session.scalar(
        select(OrgUnit).where(OrgUnit.id == unit_id, OrgUnit.deleted_at.is_(None))
    )
    if unit is None or not path_in_scope(unit.path, ctx.principal):
        raise NotFound("org_unit_not_found")
    if unit.level not in FINDING_LEVELS:
        raise Invalid(
            "finding_unit_not_assessed", errors=[FieldError("unit_id", "finding_unit_not_assessed")]
        )
    if ctx.principal.unit_id == unit.id:
        raise PermissionDenied("finding_not_superior")
    return unit


async def _event(ctx: Ctx, event_id: uuid.UUID, unit: OrgUnit) -> Event:
    """The event, visible to the caller (404), in the unit's area (422 otherwise): it was
    reported there, and whoever handles an event covers its grid, so a community or grid
    that handled it is one whose area holds it."""
    event = await ctx.session.scalar(
        select(Event).where(Event.id == event_id, in_scope(Event.path, ctx.principal))
    )
    if event is None:
        raise NotFound("event_not_found")
    if not within(event.path, unit.path):
        raise Invalid(
            "finding_unit_unrelated", errors=[FieldError("unit_id", "finding_unit_unrelated")]
        )
    return event


async def _check_open(ctx: Ctx, unit_id: uuid.UUID, period: str) -> None:
    """409 once the unit's review of the month or of its year is archived: its result
    stands."""
    archived = await ctx.session.scalar(
        select(
            exists().where(
                Review.unit_id == unit_id,
                Review.period.in_((period, period[:4])),
                Review.state == ReviewState.ARCHIVED.value,
            )
        )
    )
    if archived:
        raise Conflict("finding_period_archived", params={"period": period})


async def create_finding(
    ctx: Ctx, *, kind: FindingKind, event_id: uuid.UUID, unit_id: uuid.UUID, note: str
) -> dict[str, Any]:
    """Record a finding, charged in the month it is recorded; one standing finding of a kind
    per event and unit (409 `finding_exists`)."""
    unit = await _charged_unit(ctx, unit_id)
    await _event(ctx, event_id, unit)
    now = ctx.now()
    period = business_time(now).strftime("%Y-%m")
    await _check_open(ctx, unit.id, period)
    finding_id = uuid.uuid4()
    values: dict[str, Any] = {
        "id": finding_id,
        "kind": kind.value,
        "event_id": event_id,
        "unit_id": unit.id,
        "path": unit.path,
        "period": period,
        "note": note,
        "recorded_by": ctx.principal.user_id,
        "recorder_unit_id": ctx.principal.unit_id,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    try:
        async with ctx.session.begin_nested():
            await ctx.session.execute(insert(Finding).values(**values))
    except IntegrityError as exc:
        raise Conflict("finding_exists") from exc
    await audit.record(
        ctx,
        action="assessment_finding.create",
        target_type="assessment_finding",
        target_id=finding_id,
        unit_path=unit.path,
        after={"kind": kind.value, "event_id": str(event_id), "unit_id": str(unit.id)},
        reason=note,
    )
    return await get_finding(ctx, finding_id)


async def revoke_finding(
    ctx: Ctx, finding_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Revoke a standing finding (409 `finding_revoked` if it already was) while its
    period's review is not archived; the next accrual compensates a line it caused."""
    finding = await ctx.session.scalar(
        select(Finding)
        .where(Finding.id == finding_id, in_scope(Finding.path, ctx.principal))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if finding is None:
        raise NotFound("finding_not_found")
    check_version(expected_version, finding.version)
    if finding.revoked_at is not None:
        raise Conflict("finding_revoked")
    await _check_open(ctx, finding.unit_id, finding.period)
    await ctx.session.execute(
        update(Finding)
        .where(Finding.id == finding.id)
        .values(
            revoked_at=ctx.now(),
            revoked_by=ctx.principal.user_id,
            revoke_reason=reason,
            version=Finding.version + 1,
            updated_at=ctx.now(),
        )
        .execution_options(synchronize_session=False)
    )
    await audit.record(
        ctx,
        action="assessment_finding.revoke",
        target_type="assessment_finding",
        target_id=finding.id,
        unit_path=finding.path,
        before={"revoked": False},
        after={"revoked": True},
        reason=reason,
    )
    return await get_finding(ctx, finding.id)
