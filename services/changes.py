"""The change feed (R-API-3, R-CMD-1): what happened to the events in the caller's
jurisdiction since a cursor, for agencies' batch pulls and the command centre's polling.

Rows come from the workflow history by serial. A row's serial is drawn again as its
transaction commits, under the audit chain's lock, which is held to the end of the commit
(migration 0040), so serials become visible in order: a reader that has moved past one never
misses a smaller one committed later. The cursor is opaque; without one the feed starts at
the beginning."""

from typing import Any

from sqlalchemy import select

from domain.errors import BadRequest, FieldError
from services.context import Ctx
from services.events import visible
from services.models import Event, EventAction
from services.pagination import decode_cursor, encode_cursor


def _position(cursor: str | None) -> int:
    if cursor is None:
        return 0
    (serial,) = decode_cursor(cursor, 1)
    if not isinstance(serial, int):
        raise BadRequest("cursor_invalid", errors=[FieldError("since", "cursor_invalid")])
    return serial


async def events_after(ctx: Ctx, serial: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` changes numbered after `serial`, oldest first, and the serial to
    continue from (unchanged when nothing new has happened)."""
    rows = (
        await ctx.session.execute(
            select(
                EventAction.serial,
                EventAction.event_id,
                Event.service_no,
                EventAction.action,
                EventAction.from_state,
                EventAction.to_state,
                EventAction.at,
                Event.state,
                Event.category,
                Event.subtype,
                Event.grid_id,
            )
            .join(Event, Event.id == EventAction.event_id)
            .where(EventAction.serial > serial, visible(ctx.principal))
            .order_by(EventAction.serial)
            .limit(limit)
        )
    ).all()
    items = [dict(row._mapping) for row in rows]
    if items:
        serial = items[-1]["serial"]
    for item in items:
        del item["serial"]
    return items, serial


async def changes(ctx: Ctx, *, since: str | None, limit: int) -> dict[str, Any]:
    """Up to `limit` changes after `since`, oldest first, and the cursor to ask with next
    (the same cursor when nothing new has happened)."""
    items, serial = await events_after(ctx, _position(since), limit)
    return {"items": items, "next_cursor": encode_cursor([serial])}
