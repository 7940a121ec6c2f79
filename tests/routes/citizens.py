"""Route table of the hotline (R-CIT-1, R-JUR-1): calls are filed under their event's grid
(G1 here), so a sibling street's operator does not see them. The public submission routes
are public (tests/api/test_routes.py PUBLIC): the receipt code is the only key to them."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM
from services import hotline
from services.clock import Clock
from services.context import Ctx
from services.models import Event
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

URL = "/api/v1/hotline/calls"
CALLER = "13700001234"


def event_fields(world: World, **values: Any) -> dict[str, Any]:
    return {
        "title": "噪音扰民",
        "category": "dispute",
        "subtype": "neighbour",
        "grid_id": str(world.g1.id),
        "description": "楼上夜间装修",
        **values,
    }


def call_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "caller_phone": CALLER,
        "caller_name": "张三",
        "nature": "callback",
        "summary": "反映楼上夜间装修噪音",
        "callback_person": "张三",
        "callback_phone": CALLER,
        "event": event_fields(world),
        **values,
    }


async def make_call(session: AsyncSession, clock: Clock, world: World, **values: Any) -> Any:
    """A call-back call whose event lies in G1 (registered as the system)."""
    await system_ctx(session, clock)
    ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
    body = call_body(world, **values)
    if body.get("event"):
        body["event"] = {**body["event"], "grid_id": world.g1.id, "occurred_at": clock.now()}
    return await hotline.register_call(ctx, body)


async def _seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_call(session, clock, world))["id"]]


def _on_call(
    suffix: str = "", json: dict[str, Any] | None = None, *, answered: bool = False
) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        call = await make_call(session, clock, world)
        if answered:
            await session.execute(
                update(Event).where(Event.id == call["event_id"]).values(state="pending_verify")
            )
        return Call(f"{URL}/{call['id']}{suffix}", json)

    return setup


UNSCOPED = {
    ("GET", "/api/v1/hotline/callers"),
    ("GET", URL),
    ("GET", f"{URL}/export"),
}

LISTS: list[ListEntry] = [(URL, _seed)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", URL): lambda w: Call(URL, call_body(w)),
    ("GET", f"{URL}/{{call_id}}"): _on_call(),
    ("POST", f"{URL}/{{call_id}}/callback"): _on_call(
        "/callback", {"reached": True, "satisfaction": "satisfied"}, answered=True
    ),
}
