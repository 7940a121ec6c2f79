"""Keyset pagination: opaque cursors carrying the last row's sort key (never OFFSET) and the
list's total, counted once on its first page."""

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Integer, Select, String, Uuid, and_, bindparam, func, select, tuple_
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


@dataclass(frozen=True)
class _After:
    """Where a page continues: after the (text key, id) of the previous page's last row,
    in a list of `total` rows. The total is counted on the first page and carried in the
    cursor: recounting a jurisdiction of millions of people for every page would cost far
    more than the page itself."""

    sort: str
    id: uuid.UUID
    total: int


def _after(cursor: str) -> _After:
    last_sort, last_id, total = decode_cursor(cursor, 3)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")])
    try:
        return _After(str(last_sort), uuid.UUID(str(last_id)), total)
    except ValueError as exc:
        raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")]) from exc


def _beyond(sort: Any, ident: Any, after_sort: Any, after_id: Any) -> Any:
    """Rows after (`after_sort`, `after_id`) in (sort, id) order. The bound on the sort
    column alone says nothing more, but it is what lets the planner start an index scan
    at the cursor (a row comparison across two tables, as in the people list ordered by
    their grid's code, is only a filter)."""
    return and_(tuple_(sort, ident) > tuple_(after_sort, after_id), sort >= after_sort)


def _next_cursor(rows: list[Any], limit: int, key: SortKey, total: int) -> str | None:
    """The cursor after the page's last row, when a row beyond the page was fetched."""
    if len(rows) <= limit:
        return None
    sort, ident = key
    last = rows[limit - 1]
    return encode_cursor([last[sort.key], str(last[ident.key]), total])


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
    sort, ident = key
    if cursor:
        after = _after(cursor)
        total = after.total
        stmt = stmt.where(_beyond(sort, ident, after.sort, after.id))
    else:
        total = (
            await session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
        ).scalar_one()
    rows = (await session.execute(stmt.order_by(sort, ident).limit(limit + 1))).all()
    return Page(
        items=[convert(row) for row in rows[:limit]],
        next_cursor=_next_cursor([row._mapping for row in rows], limit, key, total),
        total=total,
    )


# The bound values of a following page's statement: the previous page's last row.
AFTER_SORT = bindparam("after_sort", type_=String())
AFTER_ID = bindparam("after_id", type_=Uuid())
LIMIT = bindparam("limit", type_=Integer())


class Keyset:
    """`paginate` for statements compiled once (`services.prepared`), their parameters given
    with each page: the same total, order and cursors. `following` binds `AFTER_SORT` and
    `AFTER_ID`; both pages bind `LIMIT`."""

    def __init__(
        self, key: SortKey, *, total: Prepared, first: Prepared, following: Prepared
    ) -> None:
        self.key = key
        self.total = total
        self.first = first
        self.following = following

    @classmethod
    def of(cls, stmt: AnySelect, key: SortKey) -> "Keyset":
        """The pages of `stmt` in (sort, id) order, and its count."""
        sort, ident = key
        ordered = stmt.order_by(sort, ident).limit(LIMIT)
        return cls(
            key,
            total=Prepared(select(func.count()).select_from(stmt.order_by(None).subquery())),
            first=Prepared(ordered),
            following=Prepared(ordered.where(_beyond(sort, ident, AFTER_SORT, AFTER_ID))),
        )

    async def page(
        self,
        session: AsyncSession,
        params: dict[str, Any],
        *,
        limit: int,
        cursor: str | None,
        convert: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Page[dict[str, Any]]:
        if cursor:
            after = _after(cursor)
            total = after.total
            page = self.following
            params = {**params, "after_sort": after.sort, "after_id": after.id}
        else:
            total = await self.total.value(session, params)
            page = self.first
        rows = await page.rows(session, {**params, "limit": limit + 1})
        next_cursor = _next_cursor(rows, limit, self.key, total)
        return Page(
            items=[convert(row) for row in rows[:limit]], next_cursor=next_cursor, total=total
        )
