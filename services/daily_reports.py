"""Periodic report forms (R-DAY-1): communities file their figures per period; streets and
districts read the roll-up of their children; a superior may amend a subordinate's figures
(audited, with a reason); reports filed after the deadline are flagged; communities that
have not filed are reminded before the deadline (in-app notifications)."""

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Boolean,
    ColumnElement,
    DateTime,
    String,
    bindparam,
    cast,
    literal,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.daily_work import (
    FILING_LEVEL,
    FORM_NAMES,
    Form,
    Period,
    check_figures,
    check_over,
    parse_period,
    reminder_due,
    roll_up,
)
from domain.errors import Conflict, FieldError, Invalid, NotFound, PermissionDenied
from domain.org import Level
from domain.permissions import Perm
from domain.principal import SYSTEM, within
from domain.versioning import check_version
from services import audit
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.jurisdiction import in_scope
from services.models import OrgUnit, PeriodicReport
from services.models.base import Ltree
from services.pagination import AnySelect, Page, paginate
from services.places import in_unit
from services.registry import unit_for_record
from services.settings import get_settings

_ZONE = ZoneInfo(get_settings().timezone)
TARGET = "periodic_report"

COLUMNS = (
    PeriodicReport.id,
    PeriodicReport.unit_id,
    OrgUnit.name.label("unit_name"),
    PeriodicReport.form,
    PeriodicReport.period_kind,
    PeriodicReport.period,
    PeriodicReport.figures,
    PeriodicReport.note,
    PeriodicReport.deadline_at,
    PeriodicReport.filed_at,
    PeriodicReport.filed_by,
    PeriodicReport.late,
    PeriodicReport.amended_at,
    PeriodicReport.amended_by,
    PeriodicReport.version,
)


@dataclass(frozen=True)
class ReportFilter:
    form: Form | None = None
    period: str | None = None
    unit_id: uuid.UUID | None = None
    late: bool | None = None


def _select() -> AnySelect:
    return select(*COLUMNS).join(OrgUnit, OrgUnit.id == PeriodicReport.unit_id)


async def get_report(ctx: Ctx, report_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            _select().where(
                PeriodicReport.id == report_id, in_scope(PeriodicReport.path, ctx.principal)
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("report_not_found")
    return dict(row._mapping)


async def file_report(
    ctx: Ctx,
    *,
    unit_id: uuid.UUID,
    form: Form,
    period_text: str,
    figures: dict[str, Any],
    note: str | None,
) -> dict[str, Any]:
    """File a community's report for a finished period; late when past its deadline. A
    period is filed once (409); later changes are a superior's amendments."""
    unit = await unit_for_record(ctx, unit_id)
    if unit.level != FILING_LEVEL.value:
        raise Invalid(
            "report_level_invalid", errors=[FieldError("unit_id", "report_level_invalid")]
        )
    period = parse_period(period_text)
    now = ctx.now()
    check_over(period, now, _ZONE)
    clean = check_figures(form, figures)
    deadline = period.deadline(_ZONE)
    report = PeriodicReport(
        unit_id=unit.id,
        path=unit.path,
        form=form.value,
        period_kind=period.kind.value,
        period=period.text,
        figures=clean,
        note=note,
        deadline_at=deadline,
        filed_at=now,
        filed_by=ctx.principal.user_id,
        late=now > deadline,
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(report)
            await ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict("report_already_filed") from exc
    await audit.record(
        ctx,
        action="daily_report.file",
        target_type=TARGET,
        target_id=report.id,
        unit_path=unit.path,
        after={"form": form.value, "period": period.text, "figures": clean, "late": report.late},
    )
    return await get_report(ctx, report.id)


async def amend_report(
    ctx: Ctx,
    report_id: uuid.UUID,
    *,
    figures: dict[str, Any],
    reason: str,
    expected_version: int | None,
) -> dict[str, Any]:
    """A superior corrects a subordinate's figures (R-DAY-1): the caller's unit must lie
    strictly above the report's; the change is audited with its reason (412 when stale).
    Roll-ups are sums read when asked, so every parent follows at once."""
    report = (
        await ctx.session.execute(
            select(PeriodicReport)
            .where(PeriodicReport.id == report_id, in_scope(PeriodicReport.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if report is None:
        raise NotFound("report_not_found")
    if not _above(ctx, report.path):
        raise PermissionDenied("amend_needs_superior")
    check_version(expected_version, report.version)
    clean = check_figures(Form(report.form), figures)
    before = dict(report.figures)
    report.figures = clean
    report.amended_at = ctx.now()
    report.amended_by = ctx.principal.user_id
    report.version += 1
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="daily_report.amend",
        target_type=TARGET,
        target_id=report.id,
        unit_path=report.path,
        before={"figures": before},
        after={"figures": clean},
        reason=reason,
    )
    return await get_report(ctx, report.id)


def _above(ctx: Ctx, path: str) -> bool:
    principal = ctx.principal
    return principal.sees_everything or (within(path, principal.scope) and path != principal.scope)


def reports_query(ctx: Ctx, flt: ReportFilter) -> AnySelect:
    """Reports in jurisdiction matching the filters (the list and its export)."""
    stmt = _select().where(in_scope(PeriodicReport.path, ctx.principal))
    if flt.form is not None:
        stmt = stmt.where(PeriodicReport.form == flt.form.value)
    if flt.period is not None:
        stmt = stmt.where(PeriodicReport.period == parse_period(flt.period).text)
    if flt.unit_id is not None:
        stmt = stmt.where(in_unit(PeriodicReport.path, flt.unit_id))
    if flt.late is not None:
        stmt = stmt.where(PeriodicReport.late.is_(flt.late))
    return stmt


def _ltree(path: str) -> ColumnElement[str]:
    return cast(literal(path), Ltree())


async def list_reports(
    ctx: Ctx, flt: ReportFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page by period and id."""
    return await paginate(
        ctx.session,
        reports_query(ctx, flt),
        key=(PeriodicReport.period, PeriodicReport.id),
        limit=limit,
        cursor=cursor,
    )


async def rollup(ctx: Ctx, unit_id: uuid.UUID, form: Form, period_text: str) -> dict[str, Any]:
    """A unit's figures for a period: a community's own report; above it, the sum of its
    children's figures, each child again the sum of the communities under it, with how
    many of them filed, how many were late, and when the period is due."""
    unit = await unit_for_record(ctx, unit_id)
    period = parse_period(period_text)
    reports = (
        await ctx.session.execute(
            select(PeriodicReport.path, PeriodicReport.figures, PeriodicReport.late).where(
                PeriodicReport.path.op("<@", return_type=Boolean())(_ltree(unit.path)),
                PeriodicReport.form == form.value,
                PeriodicReport.period == period.text,
            )
        )
    ).all()
    communities = (
        await ctx.session.execute(
            select(OrgUnit.path).where(
                OrgUnit.path.op("<@", return_type=Boolean())(_ltree(unit.path)),
                OrgUnit.level == FILING_LEVEL.value,
                OrgUnit.deleted_at.is_(None),
            )
        )
    ).scalars()
    community_paths = list(communities)
    children = (
        await ctx.session.execute(
            select(OrgUnit.id, OrgUnit.name, OrgUnit.level, OrgUnit.path)
            .where(
                OrgUnit.parent_id == unit.id,
                OrgUnit.level != Level.GRID.value,
                OrgUnit.deleted_at.is_(None),
            )
            .order_by(OrgUnit.code)
        )
    ).all()

    def figures_under(path: str) -> dict[str, Any]:
        mine = [r for r in reports if within(r.path, path)]
        return {
            "figures": roll_up(form, (r.figures for r in mine)),
            "filed": len(mine),
            "late": sum(1 for r in mine if r.late),
            "expected": sum(1 for c in community_paths if within(c, path)),
        }

    rows = [
        {"unit_id": c.id, "name": c.name, "level": c.level, **figures_under(c.path)}
        for c in children
    ]
    total = figures_under(unit.path)
    if rows:
        # The parent's form is the roll-up of its children (汇总上报).
        total["figures"] = roll_up(form, (row["figures"] for row in rows))
    return {
        "unit_id": unit.id,
        "name": unit.name,
        "level": unit.level,
        "form": form.value,
        "form_name": FORM_NAMES[form],
        "period": period.text,
        "period_kind": period.kind.value,
        "deadline_at": period.deadline(_ZONE),
        **total,
        "children": rows,
    }


# One notification per user of each community that has not filed a due report, holding
# `daily:write`; the dedupe key makes the pass idempotent (a re-run notifies nobody twice).
_REMIND = text("""
INSERT INTO notifications (id, user_id, path, kind, title, body, target_type, target_id,
                           dedupe_key, created_at)
SELECT gen_random_uuid(), r.user_id, c.path, 'daily_report_due', :title,
       :body, 'org_unit', c.id, :prefix || c.id::text, :now
FROM org_units c
CROSS JOIN LATERAL event_recipients(c.id, NULL, :permission) r
WHERE c.level = 'community' AND c.deleted_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM periodic_reports p
                  WHERE p.unit_id = c.id AND p.form = :form AND p.period = :period)
ON CONFLICT (user_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
RETURNING id
""").bindparams(
    bindparam("title", type_=String),
    bindparam("body", type_=String),
    bindparam("prefix", type_=String),
    bindparam("form", type_=String),
    bindparam("period", type_=String),
    bindparam("permission", type_=String),
    bindparam("now", type_=DateTime(timezone=True)),
)


def _reminder_text(form: Form, period: Period) -> tuple[str, str]:
    due = period.deadline(_ZONE) - period.deadline(_ZONE).resolution
    return (
        f"{FORM_NAMES[form]}报表待填报",
        f"{period.text}期{FORM_NAMES[form]}报表请于{due:%Y-%m-%d}前填报。",
    )


async def remind_due_reports(ctx: Ctx) -> int:
    """Remind the communities whose reports are due soon and not filed (run by the worker
    as the system); how many notifications were written."""
    written = 0
    for period in reminder_due(ctx.now(), _ZONE):
        for form in Form:
            title, body = _reminder_text(form, period)
            result = await ctx.session.execute(
                _REMIND,
                {
                    "title": title,
                    "body": body,
                    "prefix": f"daily:{form.value}:{period.text}:",
                    "form": form.value,
                    "period": period.text,
                    "permission": Perm.DAILY_WRITE.value,
                    "now": ctx.now(),
                },
            )
            written += len(result.all())
    return written


async def remind_as_system(maker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """One reminder pass in a system session of its own, committed on success (worker)."""
    async with system_session(maker) as session:
        return await remind_due_reports(Ctx(session=session, principal=SYSTEM, clock=clock))
