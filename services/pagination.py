"""Keyset pagination: opaque cursors carrying the last row's sort key (never OFFSET)."""

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Select, String, Uuid, bindparam, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.errors import BadRequest, FieldError
from services.prepared import Prepared

T = TypeVar("T")

# A select of any columns (Select is variadic over its column types).
AnySelect = Select[*tuple[Any, ...]]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int


def encode_cursor(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key, default=str)).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key inside a cursor; a forged or foreign cursor is a 400."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")]) from exc
    if not isinstance(key, list) or len(key) != arity:
        raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")])
    return key


SortKey = tuple[InstrumentedAttribute[str], InstrumentedAttribute[uuid.UUID]]


def _after(cursor: str) -> tuple[str, uuid.UUID]:
    """The (text key, id) a page continues after."""
    last_sort, last_id = decode_cursor(cursor, 2)
    try:
        return str(last_sort), uuid.UUID(str(last_id))
    except ValueError as exc:
        raise BadRequest("cursor_invalid") from exc


def _next_cursor(rows: list[Any], limit: int, key: SortKey) -> str | None:
    """The cursor after the page's last row, when a row beyond the page was fetched."""
    if len(rows) <= limit:
        return None
    sort, ident = key
    last = rows[limit - 1]
    return encode_cursor([last[sort.key], str(last[ident.key])])


async def paginate(
    session: AsyncSession,
    stmt: AnySelect,
    *,
    key: SortKey,
    limit: int,
    cursor: str | None,
    convert: Callable[[Any], dict[str, Any]] = lambda row: dict(row._mapping),
) -> Page[dict[str, Any]]:
    """A keyset page of `stmt` ordered by (text key, id), with the filtered total."""
    total = (
        await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    sort, ident = key
    if cursor:
        stmt = stmt.where(tuple_(sort, ident) > tuple_(*_after(cursor)))
    rows = (await session.execute(stmt.order_by(sort, ident).limit(limit + 1))).all()
    return Page(
        items=[convert(row) for row in rows[:limit]],
        next_cursor=_next_cursor([row._mapping for row in rows], limit, key),
        total=total,
    )


class Keyset:
    """`paginate` for a statement compiled once (`services.prepared`), its parameters given
    with each page: the same total, order and cursors."""

    def __init__(self, stmt: AnySelect, key: SortKey) -> None:
        self.key = key
        sort, ident = key
        self.total = Prepared(select(func.count()).select_from(stmt.order_by(None).subquery()))
        ordered = stmt.order_by(sort, ident).limit(bindparam("limit"))
        self.first = Prepared(ordered)
        after = tuple_(bindparam("after_sort", type_=String()), bindparam("after_id", type_=Uuid()))
        self.following = Prepared(ordered.where(tuple_(sort, ident) > after))

    async def page(
        self,
        session: AsyncSession,
        params: dict[str, Any],
        *,
        limit: int,
        cursor: str | None,
        convert: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Page[dict[str, Any]]:
        total = await self.total.value(session, params)
        if cursor:
            after_sort, after_id = _after(cursor)
            page = self.following
            params = {**params, "after_sort": after_sort, "after_id": after_id}
        else:
            page = self.first
        rows = await page.rows(session, {**params, "limit": limit + 1})
        next_cursor = _next_cursor(rows, limit, self.key)
        return Page(
            items=[convert(row) for row in rows[:limit]], next_cursor=next_cursor, total=total
        )
