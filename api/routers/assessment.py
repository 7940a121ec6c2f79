"""The assessment ledger (R-SUP-5, R-ASM-2/3): deductions and bonuses per unit and department."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.supervision import LEDGER_COLUMNS, LedgerLineOut
from domain.permissions import Perm
from services import assessment_ledger
from services.assessment_ledger import LedgerFilter
from services.context import Ctx

router = APIRouter(prefix="/api/v1/assessment", tags=["assessment"], responses=PROBLEM_RESPONSES)


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
    """Ledger lines in jurisdiction (`points` negative for deductions); 404 for a unit or
    department outside it."""
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
