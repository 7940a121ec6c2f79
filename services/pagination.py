"""Keyset pagination: opaque cursors carrying the last row's sort key (never OFFSET)."""

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from domain.errors import BadRequest, FieldError

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


async def paginate(
    session: AsyncSession,
    stmt: AnySelect,
    *,
    key: tuple[InstrumentedAttribute[str], InstrumentedAttribute[uuid.UUID]],
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
        last_sort, last_id = decode_cursor(cursor, 2)
        try:
            after = tuple_(sort, ident) > tuple_(str(last_sort), uuid.UUID(str(last_id)))
        except ValueError as exc:
            raise BadRequest("cursor_invalid") from exc
        stmt = stmt.where(after)
    rows = (await session.execute(stmt.order_by(sort, ident).limit(limit + 1))).all()
    items = [convert(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]._mapping
        next_cursor = encode_cursor([last[sort.key], str(last[ident.key])])
    return Page(items=items, next_cursor=next_cursor, total=total)
