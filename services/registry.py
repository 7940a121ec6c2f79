"""Use-case building blocks every registry shares: the grid a record is added to, locking a
record for a write, life-cycle transitions with reason and time, and audited changes."""

import uuid
from typing import Any, TypeVar

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.org import Level
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope, path_in_scope
from services.models import OrgUnit, StatusChange
from services.models.registry import RegistryRecord
from services.prepared import Prepared

R = TypeVar("R", bound=RegistryRecord)


async def grid_for_record(ctx: Ctx, grid_id: uuid.UUID, field: str = "grid_id") -> OrgUnit:
    """The live grid a record is added to (R-REG-1: registries are kept at grid level).
    Outside the caller's jurisdiction it does not exist (404)."""
    unit = (await ctx.session.execute(LIVE_UNIT, {"unit_id": grid_id})).scalar_one_or_none()
    return grid_in_scope(unit, ctx, field)


def grid_in_scope(unit: OrgUnit | None, ctx: Ctx, field: str = "grid_id") -> OrgUnit:
    """`unit`, read by `LIVE_UNIT`, as the grid a record is added to: 404 when it is missing
    or outside the caller's jurisdiction, 422 when it is not a grid."""
    grid = _in_scope(unit, ctx, field)
    if grid.level != Level.GRID.value:
        raise Invalid("record_needs_grid", errors=[FieldError(field, "record_needs_grid")])
    return grid


def unit_not_found(field: str) -> NotFound:
    return NotFound("org_unit_not_found", errors=[FieldError(field, "org_unit_not_found")])


# The live unit `unit_id`, built once: every record added asks for its unit (a statement
# built per call costs more than the query). Units are read without their boundary, which no
# record needs and which is the bulk of a grid's row.
LIVE_UNIT = (
    select(OrgUnit)
    .where(OrgUnit.id == bindparam("unit_id"), OrgUnit.deleted_at.is_(None))
    .options(defer(OrgUnit.geom, raiseload=True))
)


def _in_scope(unit: OrgUnit | None, ctx: Ctx, field: str) -> OrgUnit:
    if unit is None or not path_in_scope(unit.path, ctx.principal):
        raise unit_not_found(field)
    return unit


async def unit_for_record(ctx: Ctx, unit_id: uuid.UUID, field: str = "unit_id") -> OrgUnit:
    """The live unit (any level) a record belongs to, inside the caller's jurisdiction."""
    unit = (await ctx.session.execute(LIVE_UNIT, {"unit_id": unit_id})).scalar_one_or_none()
    return _in_scope(unit, ctx, field)


# Lists filtered by a unit ask for its path on every page.
_LIVE_UNIT_PATH = Prepared(
    select(OrgUnit.path).where(OrgUnit.id == bindparam("unit_id"), OrgUnit.deleted_at.is_(None))
)


async def unit_path(ctx: Ctx, unit_id: uuid.UUID, field: str = "unit_id") -> str:
    """The path of a live unit (any level) inside the caller's jurisdiction, whose subtree a
    list is filtered to; outside the jurisdiction the unit does not exist (404)."""
    row = await _LIVE_UNIT_PATH.row(ctx.session, {"unit_id": unit_id})
    if row is None or not path_in_scope(row["path"], ctx.principal):
        raise unit_not_found(field)
    path: str = row["path"]
    return path


async def lock_record(
    ctx: Ctx, model: type[R], record_id: uuid.UUID, *, not_found: str = "not_found"
) -> R:
    """The record row-locked for a write, inside the caller's jurisdiction; else 404."""
    record = (
        await ctx.session.execute(
            select(model)
            .where(model.id == record_id, in_scope(model.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if record is None:
        raise NotFound(not_found)
    return record


def stamp_new(ctx: Ctx, record: RegistryRecord, path: str) -> None:
    """Fill the bookkeeping columns of a record about to be inserted."""
    now = ctx.now()
    record.path = path
    record.created_at = now
    record.updated_at = now
    record.created_by = ctx.principal.user_id


async def audit_change(
    ctx: Ctx,
    record: RegistryRecord,
    *,
    action: str,
    target_type: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None = None,
    bump: bool = True,
) -> None:
    """Bump the version (unless a fresh insert), flush and write the audit entry."""
    if bump:
        record.version += 1
        record.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action=action,
        target_type=target_type,
        target_id=record.id,
        unit_path=record.path,
        before=before,
        after=after,
        reason=reason,
    )


async def change_status(
    ctx: Ctx,
    model: type[R],
    record_id: uuid.UUID,
    *,
    target_type: str,
    from_status: str,
    to_status: str,
    reason: str | None,
    expected_version: int | None = None,
    not_found: str = "not_found",
) -> R:
    """Move a record from one life-cycle status to another with reason and time, as one
    conditional update (no lost transition under concurrency), keeping the history."""
    record = await lock_record(ctx, model, record_id, not_found=not_found)
    check_version(expected_version, record.version)
    if record.status != from_status:
        raise Conflict(
            "status_transition_invalid", params={"status": record.status, "target": to_status}
        )
    now = ctx.now()
    await ctx.session.execute(
        update(model)
        .where(model.id == record.id, model.status == from_status)
        .values(
            status=to_status,
            status_reason=reason,
            status_changed_at=now,
            version=model.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session="fetch")
    )
    ctx.session.add(
        StatusChange(
            target_type=target_type,
            target_id=record.id,
            path=record.path,
            from_status=from_status,
            to_status=to_status,
            reason=reason,
            at=now,
            actor_id=ctx.principal.user_id,
        )
    )
    await ctx.session.flush()
    await ctx.session.refresh(record)
    await audit.record(
        ctx,
        action=f"{target_type}.{to_status}",
        target_type=target_type,
        target_id=record.id,
        unit_path=record.path,
        before={"status": from_status},
        after={"status": to_status},
        reason=reason,
    )
    return record


async def reactivate(
    ctx: Ctx,
    model: type[R],
    record_id: uuid.UUID,
    *,
    unique_index: str,
    field: str,
    target_type: str,
    from_status: str,
    to_status: str,
    reason: str | None,
    expected_version: int | None,
    not_found: str,
) -> None:
    """`change_status` back to a status that another record of the same identity may hold
    by now: the partial unique index `unique_index` decides, also under a race, and its
    violation is a 409 `duplicate_active_record` on `field`."""
    try:
        async with ctx.session.begin_nested():
            await change_status(
                ctx,
                model,
                record_id,
                target_type=target_type,
                from_status=from_status,
                to_status=to_status,
                reason=reason,
                expected_version=expected_version,
                not_found=not_found,
            )
    except IntegrityError as exc:
        cause = exc.orig.__cause__ if exc.orig is not None else None
        if getattr(cause, "constraint_name", None) != unique_index:
            raise
        raise Conflict(
            "duplicate_active_record", errors=[FieldError(field, "duplicate_active_record")]
        ) from exc


async def status_history(ctx: Ctx, target_type: str, target_id: uuid.UUID) -> list[dict[str, Any]]:
    """The record's life-cycle changes, oldest first."""
    rows = await ctx.session.execute(
        select(
            StatusChange.from_status,
            StatusChange.to_status,
            StatusChange.reason,
            StatusChange.at,
            StatusChange.actor_id,
        )
        .where(
            StatusChange.target_type == target_type,
            StatusChange.target_id == target_id,
            in_scope(StatusChange.path, ctx.principal),
        )
        .order_by(StatusChange.at)
    )
    return [dict(row._mapping) for row in rows]
