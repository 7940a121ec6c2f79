"""Scores and rankings (R-ASM-2, R-ASM-5): every unit and department in jurisdiction scored
for a month or a year from its ledger lines alone — 100 + bonuses − deductions — ranked
among the holders of the same kind in the list (an area, with `unit_id`), with the result
band for map colouring."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute

from domain.assessment import Kind, score
from services.assessment_ledger import LedgerFilter as HolderFilter
from services.assessment_ledger import check_holder
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Department, LedgerLine, OrgUnit
from services.pagination import AnySelect, Page, paginate

_KIND_OF_LEVEL = case(
    (OrgUnit.level == "grid", literal(Kind.GRID_WORKER.value)), else_=OrgUnit.level
)
_ASSESSED_LEVELS = ("grid", "community", "street", "district")


@dataclass(frozen=True)
class ScoreFilter:
    period: str  # YYYY-MM or YYYY
    kind: Kind | None = None
    # The area ranked: holders at or below this unit.
    unit_id: uuid.UUID | None = None


def _holders(ctx: Ctx) -> Any:
    units = select(
        OrgUnit.id.label("unit_id"),
        null().cast(OrgUnit.id.type).label("department_id"),
        OrgUnit.name,
        _KIND_OF_LEVEL.cast(String).label("kind"),
        OrgUnit.path,
    ).where(
        OrgUnit.level.in_(_ASSESSED_LEVELS),
        OrgUnit.deleted_at.is_(None),
        in_scope(OrgUnit.path, ctx.principal),
    )
    departments = select(
        null().cast(Department.id.type).label("unit_id"),
        Department.id.label("department_id"),
        Department.name,
        literal(Kind.DEPARTMENT.value, String).label("kind"),
        Department.path,
    ).where(Department.deleted_at.is_(None), in_scope(Department.path, ctx.principal))
    return union_all(units, departments).subquery("holders")


def _in_period(period: str) -> ColumnElement[bool]:
    if len(period) == 4:
        return LedgerLine.period.like(f"{period}-%")
    return LedgerLine.period == period


def scores_query(ctx: Ctx, flt: ScoreFilter, area_path: str | None) -> AnySelect:
    """One row per holder with its totals and rank (the list and its export)."""
    holders = _holders(ctx)
    # A compensating line belongs with the deduction it reverses.
    deducting = or_(LedgerLine.points < 0, LedgerLine.reverses_id.is_not(None))
    totals = (
        select(
            LedgerLine.unit_id,
            LedgerLine.department_id,
            func.coalesce(func.sum(LedgerLine.points).filter(deducting), 0).label("net_deducted"),
            func.coalesce(func.sum(LedgerLine.points).filter(~deducting), 0).label("bonuses"),
            func.count().label("lines"),
        )
        .where(_in_period(flt.period))
        .group_by(LedgerLine.unit_id, LedgerLine.department_id)
        .subquery("totals")
    )
    joined = and_(
        or_(
            totals.c.unit_id == holders.c.unit_id,
            totals.c.department_id == holders.c.department_id,
        )
    )
    net = func.coalesce(totals.c.net_deducted, 0) + func.coalesce(totals.c.bonuses, 0)
    rank = func.rank().over(partition_by=holders.c.kind, order_by=net.desc())
    stmt = select(
        holders.c.unit_id,
        holders.c.department_id,
        holders.c.name,
        holders.c.kind,
        (-func.coalesce(totals.c.net_deducted, 0)).label("deductions"),
        func.coalesce(totals.c.bonuses, 0).label("bonuses"),
        func.coalesce(totals.c.lines, 0).label("lines"),
        rank.label("rank"),
    ).outerjoin(totals, joined)
    if flt.kind is not None:
        stmt = stmt.where(holders.c.kind == flt.kind.value)
    if area_path is not None:
        stmt = stmt.where(holders.c.path.op("<@")(func.text2ltree(area_path)))
    ranked = stmt.subquery("ranked")
    holder_id = func.coalesce(ranked.c.unit_id, ranked.c.department_id)
    return select(
        *ranked.c,
        # Keyset order: kind, then rank (zero-padded text), then the holder.
        (ranked.c.kind + ":" + func.to_char(ranked.c.rank, "FM000000")).label("sort_key"),
        holder_id.label("holder_id"),
    )


def scored(period: str) -> Any:
    """How a selected row becomes a score: the domain's arithmetic and result (R-ASM-2)."""

    def convert(row: Any) -> dict[str, Any]:
        data = dict(row._mapping)
        result = score(
            Decimal(data["deductions"]), Decimal(data["bonuses"]), annual=len(period) == 4
        )
        return {
            **data,
            "period": period,
            "score": result.score,
            "band": result.band.value,
            "passed": result.passed,
        }

    return convert


async def area_path(ctx: Ctx, flt: ScoreFilter) -> str | None:
    """The ranked area's path; 404 for a unit outside the jurisdiction."""
    if flt.unit_id is None:
        return None
    await check_holder(ctx, HolderFilter(unit_id=flt.unit_id))
    return await ctx.session.scalar(select(OrgUnit.path).where(OrgUnit.id == flt.unit_id))


async def list_scores(
    ctx: Ctx, flt: ScoreFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    stmt = scores_query(ctx, flt, await area_path(ctx, flt))
    sub = stmt.subquery("scores")
    key = cast(
        tuple[InstrumentedAttribute[str], InstrumentedAttribute[uuid.UUID]],
        (sub.c.sort_key, sub.c.holder_id),
    )
    return await paginate(
        ctx.session,
        select(*sub.c),
        key=key,
        limit=limit,
        cursor=cursor,
        convert=scored(flt.period),
    )
