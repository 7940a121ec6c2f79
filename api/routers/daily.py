"""Daily work (R-DAY-1, R-DAY-2): periodic report forms with roll-up and amendments, and the
yearly ledgers."""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from api.deps import Paging, StorageDep, requires
from api.etag import expected_version
from api.exporting import ExportFormat, export_list
from api.registry_routes import shown
from api.schemas.attachments import FILE_RESPONSES
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.daily import (
    LEDGER_COLUMNS,
    REPORT_COLUMNS,
    AmendIn,
    LedgerIn,
    LedgerOut,
    LedgerPatch,
    ReportIn,
    ReportOut,
    RollupOut,
)
from domain.attachments import content_disposition
from domain.daily_work import Form, LedgerKind
from domain.permissions import Perm
from services import daily_ledgers, daily_reports
from services.context import Ctx
from services.daily_ledgers import LedgerFilter
from services.daily_reports import ReportFilter

router = APIRouter(prefix="/api/v1/daily", tags=["daily"], responses=PROBLEM_RESPONSES)

IfMatch = Annotated[str | None, Header()]
PeriodQuery = Annotated[str, Query(min_length=4, max_length=7, description="2026-11|2026-Q4|2026")]


def _report_filter(
    form: Form | None = None,
    period: Annotated[str | None, Query(min_length=4, max_length=7)] = None,
    unit_id: uuid.UUID | None = None,
    late: bool | None = None,
) -> ReportFilter:
    return ReportFilter(form=form, period=period, unit_id=unit_id, late=late)


def _ledger_filter(
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    kind: LedgerKind | None = None,
    subtype: Annotated[str | None, Query(max_length=32)] = None,
    unit_id: uuid.UUID | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> LedgerFilter:
    return LedgerFilter(year=year, kind=kind, subtype=subtype, unit_id=unit_id, q=q)


Reports = Annotated[ReportFilter, Depends(_report_filter)]
Ledgers = Annotated[LedgerFilter, Depends(_ledger_filter)]


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=ReportOut)
async def file_report(
    body: ReportIn, response: Response, ctx: Annotated[Ctx, requires(Perm.DAILY_WRITE)]
) -> ReportOut:
    """A community files its figures for a finished period (flagged `late` after the
    deadline; once per period)."""
    data = await daily_reports.file_report(
        ctx,
        unit_id=body.unit_id,
        form=body.form,
        period_text=body.period,
        figures=body.figures,
        note=body.note,
    )
    return shown(response, ReportOut, data, f"/api/v1/daily/reports/{data['id']}")


@router.get("/reports", response_model=PageOut[ReportOut])
async def list_reports(
    ctx: Annotated[Ctx, requires(Perm.DAILY_READ)], page: Paging, flt: Reports
) -> PageOut[ReportOut]:
    """Filed reports in jurisdiction by period; `unit_id` takes the unit's subtree."""
    result = await daily_reports.list_reports(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[ReportOut].model_validate(result, from_attributes=True)


@router.get("/reports/export", response_class=StreamingResponse)
async def export_reports(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Reports,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        daily_reports.reports_query(ctx, flt),
        REPORT_COLUMNS,
        fmt=format,
        filename="日常工作报表",
        target_type=daily_reports.TARGET,
        filters=dataclasses.asdict(flt),
    )


@router.get("/reports/{report_id}", response_model=ReportOut)
async def get_report(
    report_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.DAILY_READ)]
) -> ReportOut:
    return shown(response, ReportOut, await daily_reports.get_report(ctx, report_id))


@router.patch("/reports/{report_id}", response_model=ReportOut)
async def amend_report(
    report_id: uuid.UUID,
    body: AmendIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DAILY_WRITE)],
    if_match: IfMatch = None,
) -> ReportOut:
    """A superior amends a subordinate's figures, with a reason (audited); the filing unit
    itself may not (403 `amend_needs_superior`)."""
    data = await daily_reports.amend_report(
        ctx,
        report_id,
        figures=body.figures,
        reason=body.reason,
        expected_version=expected_version(if_match),
    )
    return shown(response, ReportOut, data)


@router.get("/rollup", response_model=RollupOut)
async def rollup(
    unit_id: uuid.UUID,
    form: Form,
    period: PeriodQuery,
    ctx: Annotated[Ctx, requires(Perm.DAILY_READ)],
) -> RollupOut:
    """A unit's figures for a period: its children's summed (汇总上报), child by child."""
    return RollupOut.model_validate(await daily_reports.rollup(ctx, unit_id, form, period))


@router.post("/ledgers", status_code=status.HTTP_201_CREATED, response_model=LedgerOut)
async def create_ledger_entry(
    body: LedgerIn, response: Response, ctx: Annotated[Ctx, requires(Perm.DAILY_WRITE)]
) -> LedgerOut:
    """An entry in a unit's ledger of the year (meeting, document, activity, special work
    or work log); a document needs its number."""
    data = await daily_ledgers.create_entry(ctx, body.model_dump())
    return shown(response, LedgerOut, data, f"/api/v1/daily/ledgers/{data['id']}")


@router.get("/ledgers", response_model=PageOut[LedgerOut])
async def list_ledger_entries(
    ctx: Annotated[Ctx, requires(Perm.DAILY_READ)], page: Paging, flt: Ledgers
) -> PageOut[LedgerOut]:
    """Ledger entries in jurisdiction by title; `q` searches title, number and content."""
    result = await daily_ledgers.list_entries(ctx, flt, limit=page.limit, cursor=page.cursor)
    return PageOut[LedgerOut].model_validate(result, from_attributes=True)


@router.get("/ledgers/export", response_class=StreamingResponse)
async def export_ledger_entries(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    flt: Ledgers,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        daily_ledgers.ledger_query(ctx, flt),
        LEDGER_COLUMNS,
        fmt=format,
        filename="工作台账",
        target_type=daily_ledgers.TARGET,
        filters=dataclasses.asdict(flt),
    )


@router.get("/ledgers/{entry_id}", response_model=LedgerOut)
async def get_ledger_entry(
    entry_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.DAILY_READ)]
) -> LedgerOut:
    return shown(response, LedgerOut, await daily_ledgers.get_entry(ctx, entry_id))


@router.get(
    "/ledgers/{entry_id}/attachments/{upload_id}",
    response_class=StreamingResponse,
    responses=FILE_RESPONSES,
)
async def download_ledger_file(
    entry_id: uuid.UUID,
    upload_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DAILY_READ)],
    storage: StorageDep,
) -> StreamingResponse:
    """A file of the entry, as stored."""
    found = await daily_ledgers.ledger_file(ctx, entry_id, upload_id)
    return StreamingResponse(
        storage.stream(found.storage_key),
        media_type=found.mime,
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "Content-Length": str(found.size),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.patch("/ledgers/{entry_id}", response_model=LedgerOut)
async def update_ledger_entry(
    entry_id: uuid.UUID,
    body: LedgerPatch,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DAILY_WRITE)],
    if_match: IfMatch = None,
) -> LedgerOut:
    data = await daily_ledgers.update_entry(
        ctx,
        entry_id,
        body.model_dump(exclude_unset=True),
        expected_version=expected_version(if_match),
    )
    return shown(response, LedgerOut, data)
