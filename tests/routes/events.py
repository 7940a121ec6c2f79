"""Route table of events (R-JUR-1) and the factory the event tests share: events are reported
in grid G1 (street S1) through the service as the system."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import events
from services.clock import Clock
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

OCCURRED = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)


def event_body(grid_id: Any, **values: Any) -> dict[str, Any]:
    return {
        "title": "楼道堆放杂物引发邻里争吵",
        "category": "dispute",
        "subtype": "neighbour",
        "grid_id": str(grid_id),
        "occurred_at": "2026-11-22T17:30:00+08:00",
        "is_major": False,
        "is_urgent": False,
        "description": "三单元住户因楼道堆物发生口角",
        **values,
    }


async def make_event(
    session: AsyncSession, clock: Clock, world: World, **values: Any
) -> dict[str, Any]:
    """An event reported in G1, its first step at community C1 (pending acceptance)."""
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "title": "井盖缺失",
        "category": "dispute",
        "subtype": "neighbour",
        "grid_id": world.g1.id,
        "occurred_at": OCCURRED,
        "description": "小区门口",
        **values,
    }
    return await events.report_event(ctx, fields, resolve_on_spot=False, result=None)


async def _seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_event(session, clock, world))["id"]]


def _on_event(path: str, json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        event = await make_event(session, clock, world)
        return Call(path.format(id=event["id"]), json)

    return setup


UNSCOPED = {
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/counts"),
    ("GET", "/api/v1/events/export"),
    ("GET", "/api/v1/dictionaries/event_subtype"),
    # A feed over the events in jurisdiction, like the list (test_changes.py).
    ("GET", "/api/v1/changes"),
}

LISTS: list[ListEntry] = [("/api/v1/events", _seed)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/events"): lambda w: Call("/api/v1/events", event_body(w.g1.id)),
    ("GET", "/api/v1/events/{event_id}"): _on_event("/api/v1/events/{id}"),
    ("GET", "/api/v1/events/{event_id}/process"): _on_event("/api/v1/events/{id}/process"),
    # The district's admin stands above the community's step: a superior may expedite.
    ("POST", "/api/v1/events/{event_id}/actions/{action}"): _on_event(
        "/api/v1/events/{id}/actions/expedite", {}
    ),
}
