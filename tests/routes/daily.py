"""Route table of daily work (R-JUR-1, R-DAY-1, R-DAY-2) and the factories its tests share:
reports filed by community C1 (street S1) and ledger entries of S1, through the services."""

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.daily_work import Form
from services import daily_ledgers, daily_reports
from services.clock import Clock
from services.models import OrgUnit
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup
from tests.routes.attachments import photo, ready_upload, user_ctx

# October is over on the test clock's 2026-11-23 (and its report is late by then).
PERIOD = "2026-10"
FIGURES = {"investigations": 6, "disputes_found": 4, "mediated": 4, "resolved": 3, "pending": 1}


async def file_report(
    session: AsyncSession,
    clock: Clock,
    unit: OrgUnit,
    figures: dict[str, int] | None = None,
    *,
    form: Form = Form.DISPUTE,
    period: str = PERIOD,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    return await daily_reports.file_report(
        ctx,
        unit_id=unit.id,
        form=form,
        period_text=period,
        figures=FIGURES if figures is None else figures,
        note=None,
    )


def ledger_body(unit: OrgUnit, **values: Any) -> dict[str, Any]:
    return {
        "unit_id": unit.id,
        "year": 2026,
        "kind": "meeting",
        "subtype": "five_department",
        "title": "第四季度五部门联席会议",
        "occurred_on": date(2026, 11, 20),
        "content": "研究辖区矛盾纠纷排查化解工作",
        **values,
    }


async def make_entry(
    session: AsyncSession, clock: Clock, unit: OrgUnit, **values: Any
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    return await daily_ledgers.create_entry(ctx, ledger_body(unit, **values))


async def _seed_report(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await file_report(session, clock, world.c1))["id"]]


async def _seed_entry(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_entry(session, clock, world.s1))["id"]]


def _on_report(json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        report = await file_report(session, clock, world.c1)
        return Call(f"/api/v1/daily/reports/{report['id']}", json)

    return setup


def _on_entry(json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        entry = await make_entry(session, clock, world.s1)
        return Call(f"/api/v1/daily/ledgers/{entry['id']}", json)

    return setup


async def _entry_file(session: AsyncSession, world: World, clock: Clock) -> Call:
    """A file on an entry of S1's ledger, uploaded by S1's admin."""
    upload = await ready_upload(session, clock, world.admin_s1, photo())
    ctx = await user_ctx(session, clock, world.admin_s1)
    entry = await daily_ledgers.create_entry(
        ctx, ledger_body(world.s1, attachment_ids=[upload["id"]])
    )
    return Call(daily_ledgers.file_url(entry["id"], str(upload["id"])))


UNSCOPED = {
    ("GET", "/api/v1/daily/reports"),
    ("GET", "/api/v1/daily/reports/export"),
    ("GET", "/api/v1/daily/ledgers"),
    ("GET", "/api/v1/daily/ledgers/export"),
}

LISTS: list[ListEntry] = [
    ("/api/v1/daily/reports", _seed_report),
    ("/api/v1/daily/ledgers", _seed_entry),
]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/daily/reports"): lambda w: Call(
        "/api/v1/daily/reports",
        {"unit_id": str(w.c1.id), "form": "hotspot", "period": PERIOD, "figures": {}},
    ),
    ("GET", "/api/v1/daily/reports/{report_id}"): _on_report(),
    # The district stands above C1: a superior may amend.
    ("PATCH", "/api/v1/daily/reports/{report_id}"): _on_report(
        {"figures": {**FIGURES, "resolved": 4, "pending": 0}, "reason": "核实后更正"}
    ),
    ("GET", "/api/v1/daily/rollup"): lambda w: Call(
        "/api/v1/daily/rollup",
        params={"unit_id": str(w.s1.id), "form": "dispute", "period": PERIOD},
    ),
    ("POST", "/api/v1/daily/ledgers"): lambda w: Call(
        "/api/v1/daily/ledgers",
        {**ledger_body(w.s1), "unit_id": str(w.s1.id), "occurred_on": "2026-11-20"},
    ),
    ("GET", "/api/v1/daily/ledgers/{entry_id}"): _on_entry(),
    ("PATCH", "/api/v1/daily/ledgers/{entry_id}"): _on_entry({"title": "联席会议（更正）"}),
    ("GET", "/api/v1/daily/ledgers/{entry_id}/attachments/{upload_id}"): _entry_file,
}
