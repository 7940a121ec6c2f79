"""Streaming exports of any list (R-EXP-1): CSV or XLSX in constant memory, rows read with a
server-side cursor under the caller's jurisdiction and masked like the list itself."""

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.principal import Principal
from services.db import set_scope
from services.pagination import AnySelect
from services.settings import get_settings
from services.xlsx_stream import stream_xlsx

CHUNK = 64 * 1024
_ZONE = ZoneInfo(get_settings().timezone)


@dataclass(frozen=True)
class Column:
    key: str
    header: str


def cell(value: Any) -> Any:
    """A value as a spreadsheet shows it: local time, plain text for ids and structures."""
    if isinstance(value, datetime):
        return value.astimezone(_ZONE).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    # Before numbers: a bool is an int to Python, and would be written as True/False.
    if isinstance(value, bool):
        return "是" if value else "否"
    if value is None or isinstance(value, int | float | str):
        return value
    return str(value)


async def scoped_rows(
    maker: async_sessionmaker[AsyncSession],
    principal: Principal,
    stmt: AnySelect,
    convert: Callable[[Any], dict[str, Any]],
) -> AsyncIterator[dict[str, Any]]:
    """Rows of `stmt` through a server-side cursor in a session of their own (the request's
    transaction is over once the response starts streaming), scoped to the principal."""
    async with maker() as session, session.begin():
        await set_scope(session, principal.scope)
        result = await session.stream(stmt.execution_options(yield_per=1000))
        async for row in result:
            yield convert(row)


async def csv_bytes(
    rows: AsyncIterator[dict[str, Any]], columns: list[Column]
) -> AsyncIterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    yield "\ufeff".encode() + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    async for row in rows:
        writer.writerow([cell(row.get(c.key)) for c in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def xlsx_bytes(
    rows: AsyncIterator[dict[str, Any]], columns: list[Column], sheet: str = "导出"
) -> AsyncIterator[bytes]:
    """A workbook streamed as it is written (services.xlsx_stream), row by row."""

    async def values() -> AsyncIterator[list[Any]]:
        async for row in rows:
            yield [cell(row.get(column.key)) for column in columns]

    async for piece in stream_xlsx(
        values(), [column.header for column in columns], sheet=sheet, chunk=CHUNK
    ):
        yield piece
