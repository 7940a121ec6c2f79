"""The assessment ledger (R-SUP-5, R-ASM-2/3): the points charged to units and departments,
read within the caller's jurisdiction. Lines are written by `services.supervision` (cards),
`services.assessment_accrual` (the other signals) and `services.assessment_reviews`
(manual scores); never deleted — a reversal is a compensating line."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from domain.errors import NotFound
from services.context import Ctx
from services.jurisdiction import in_scope, path_in_scope
from services.models import Department, LedgerLine, OrgUnit
from services.pagination import AnySelect, Page, paginate

LEDGER_COLUMNS = (
    LedgerLine.id,
    LedgerLine.unit_id,
    LedgerLine.department_id,
    LedgerLine.period,
    LedgerLine.points,
    LedgerLine.item_code,
    LedgerLine.reason,
    LedgerLine.event_id,
    LedgerLine.step_id,
    LedgerLine.supervision_id,
    LedgerLine.action_id,
    LedgerLine.appeal_id,
    LedgerLine.review_id,
    LedgerLine.finding_id,
    LedgerLine.reverses_id,
    LedgerLine.created_at,
)


@dataclass(frozen=True)
class LedgerFilter:
    unit_id: uuid.UUID | None = None
    department_id: uuid.UUID | None = None
    period: str | None = None
    q: str | None = None


async def check_holder(ctx: Ctx, flt: LedgerFilter) -> None:
    """A unit or department named in the filter must be in the caller's jurisdiction: 404
    otherwise, as if it did not exist (R-JUR-1)."""
    if flt.unit_id is not None:
        path = await ctx.session.scalar(select(OrgUnit.path).where(OrgUnit.id == flt.unit_id))
        if path is None or not path_in_scope(path, ctx.principal):
            raise NotFound("org_unit_not_found")
    if flt.department_id is not None:
        path = await ctx.session.scalar(
            select(Department.path).where(Department.id == flt.department_id)
        )
        if path is None or not path_in_scope(path, ctx.principal):
            raise NotFound("department_not_found")


def ledger_query(ctx: Ctx, flt: LedgerFilter) -> AnySelect:
    """Ledger lines in the caller's jurisdiction narrowed by holder, period and a search of
    the item code and reason (the list and its export)."""
    stmt = select(*LEDGER_COLUMNS).where(in_scope(LedgerLine.path, ctx.principal))
    if flt.unit_id is not None:
        stmt = stmt.where(LedgerLine.unit_id == flt.unit_id)
    if flt.department_id is not None:
        stmt = stmt.where(LedgerLine.department_id == flt.department_id)
    if flt.period is not None:
        stmt = stmt.where(LedgerLine.period == flt.period)
    if flt.q:
        pattern = f"%{flt.q}%"
        stmt = stmt.where(or_(LedgerLine.reason.ilike(pattern), LedgerLine.item_code == flt.q))
    return stmt


async def list_ledger(
    ctx: Ctx, flt: LedgerFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of ledger lines by period; 404 for a holder outside the jurisdiction."""
    await check_holder(ctx, flt)
    return await paginate(
        ctx.session,
        ledger_query(ctx, flt),
        key=(LedgerLine.period, LedgerLine.id),
        limit=limit,
        cursor=cursor,
    )
