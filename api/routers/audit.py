"""The audit trail and its chain verification (R-AUD-1).

The trail keeps what changed as it was, full ID and phone numbers included; it is read like
the records themselves (R-JUR-3): masked without `pii:read`, and a full read is audited."""

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.exporting import ExportFormat, export_list
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.users import AUDIT_COLUMNS, AuditEntryOut, ChainReportOut
from domain.errors import PermissionDenied
from domain.permissions import Perm
from services import audit, masking
from services.context import Ctx
from services.models import AuditEntry

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], responses=PROBLEM_RESPONSES)


@router.get("", response_model=PageOut[AuditEntryOut])
async def list_audit(
    ctx: Annotated[Ctx, requires(Perm.AUDIT_READ)],
    page: Paging,
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> PageOut[AuditEntryOut]:
    """Entries in the caller's jurisdiction, newest first."""
    result = await audit.list_entries(
        ctx,
        limit=page.limit,
        cursor=page.cursor,
        target_type=target_type,
        target_id=target_id,
        action=action,
    )
    shown = await masking.present(ctx, result.items, audit.ENTRY_MASK, target_type=audit.TARGET)
    return PageOut[AuditEntryOut].model_validate(replace(result, items=shown), from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_audit(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    target_type: Annotated[str | None, Query(max_length=64)] = None,
    target_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The filtered entries, newest first, as CSV or XLSX (R-EXP-1); for readers of the
    trail only."""
    if not ctx.principal.can(Perm.AUDIT_READ):
        raise PermissionDenied()
    filters = {"target_type": target_type, "target_id": target_id, "action": action}
    return await export_list(
        request,
        ctx,
        audit.entries_query(
            ctx, target_type=target_type, target_id=target_id, action=action
        ).order_by(AuditEntry.id.desc()),
        AUDIT_COLUMNS,
        fmt=format,
        filename="审计日志",
        target_type=audit.TARGET,
        filters=filters,
        mask=audit.ENTRY_MASK,
        convert=audit.export_row,
    )


@router.get("/verify", response_model=ChainReportOut)
async def verify_audit_chain(ctx: Annotated[Ctx, requires(Perm.AUDIT_READ)]) -> ChainReportOut:
    """Recompute the whole hash chain: intact, or the first entry that was tampered with, or
    the newest entries missing."""
    return ChainReportOut.model_validate(await audit.verify_chain(ctx), from_attributes=True)
