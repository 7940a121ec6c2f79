"""Export responses: every list offers `…/export?format=csv|xlsx` with the list's filters."""

from collections.abc import AsyncIterator, Callable
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse

from services.context import Ctx
from services.exporting import Column, csv_bytes, scoped_rows, xlsx_bytes
from services.masking import MaskSpec, export_view
from services.pagination import AnySelect


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(
    rows: AsyncIterator[dict[str, Any]],
    columns: list[Column],
    *,
    fmt: ExportFormat,
    filename: str,
) -> StreamingResponse:
    body = csv_bytes(rows, columns) if fmt == ExportFormat.CSV else xlsx_bytes(rows, columns)
    name = f"{filename}.{fmt.value}"
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


async def export_list(
    request: Request,
    ctx: Ctx,
    stmt: AnySelect,
    columns: list[Column],
    *,
    fmt: ExportFormat,
    filename: str,
    target_type: str,
    filters: dict[str, Any],
    mask: MaskSpec | None = None,
    convert: Callable[[Any], dict[str, Any]] = lambda row: dict(row._mapping),
) -> StreamingResponse:
    """The whole list behind `stmt` (its filters applied, no paging) as a streamed file,
    masked like the list (R-EXP-1)."""
    rows = scoped_rows(request.app.state.request_session, ctx.principal, stmt, convert)
    visible = await export_view(ctx, rows, mask or {}, target_type=target_type, filters=filters)
    return export_response(visible, columns, fmt=fmt, filename=filename)
