"""The change feed (R-API-3, R-CMD-1): what happened to the events in the caller's
jurisdiction since a cursor, for agencies' batch pulls and the command centre's polling.

Rows come from the workflow history in (transaction, serial) order and only below the
oldest transaction still running, so a row committed late is never skipped (migration 0019
explains why). The cursor is opaque; without one the feed starts at the beginning."""

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, bindparam, literal_column, select, text

from domain.errors import BadRequest, FieldError
from services.context import Ctx
from services.events import visible
from services.models import Event, EventAction
from services.pagination import decode_cursor, encode_cursor

_XACT: ColumnElement[str] = literal_column("event_actions.xact::text", String)
# After the cursor, and below the oldest transaction still running: every row there is
# final and in place.
_AFTER = text(
    "(event_actions.xact, event_actions.serial) > (CAST(:xact AS xid8), :serial)"
    " AND event_actions.xact < pg_snapshot_xmin(pg_current_snapshot())"
).bindparams(bindparam("xact", type_=String), bindparam("serial", type_=BigInteger))


def _position(cursor: str | None) -> tuple[str, int]:
    if cursor is None:
        return "0", 0
    xact, serial = decode_cursor(cursor, 2)
    if not str(xact).isdigit() or not isinstance(serial, int):
        raise BadRequest("cursor_invalid", errors=[FieldError("since", "cursor_invalid")])
    return str(xact), serial


async def changes(ctx: Ctx, *, since: str | None, limit: int) -> dict[str, Any]:
    """Up to `limit` changes after `since`, oldest first, and the cursor to ask with next
    (the same cursor when nothing new has happened)."""
    xact, serial = _position(since)
    rows = (
        await ctx.session.execute(
            select(
                _XACT.label("xact"),
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
            .where(_AFTER.bindparams(xact=xact, serial=serial), visible(ctx.principal))
            .order_by(literal_column("event_actions.xact"), EventAction.serial)
            .limit(limit)
        )
    ).all()
    items = [dict(row._mapping) for row in rows]
    if items:
        last = items[-1]
        xact, serial = str(last["xact"]), last["serial"]
    for item in items:
        del item["xact"], item["serial"]
    return {"items": items, "next_cursor": encode_cursor([xact, serial])}
