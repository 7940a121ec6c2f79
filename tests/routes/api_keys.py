"""Route table of API keys and webhooks (R-API-1, R-API-3, R-JUR-1), and the factories their
tests share: a key issued at street S1 and a subscription of it, made as the system."""

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import api_keys, webhooks
from services.clock import Clock
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

URL = "/api/v1/api-keys"
# A public address written as a literal: passes the SSRF guard without a DNS look-up, and
# nothing is ever sent to it (the route tests deliver nothing).
PUBLIC_TARGET = "https://93.184.215.14/hooks/grid"


def key_body(world: World, clock: Clock, **values: Any) -> dict[str, Any]:
    return {
        "unit_id": str(world.s1.id),
        "agency": "市公安局指挥中心",
        "operations": ["event:read"],
        "rate_limit_per_minute": 60,
        "expires_at": (clock.now() + timedelta(days=90)).isoformat(),
        **values,
    }


async def make_key(
    session: AsyncSession, clock: Clock, world: World, **values: Any
) -> dict[str, Any]:
    """A key of S1 (by default) with its raw `secret`."""
    ctx = await system_ctx(session, clock)
    fields = {
        "unit_id": world.s1.id,
        "agency": "市公安局指挥中心",
        "note": None,
        "operations": ["event:read"],
        "rate_limit_per_minute": 60,
        "expires_at": clock.now() + timedelta(days=90),
        **values,
    }
    return await api_keys.issue_key(ctx, fields)


async def make_subscription(
    session: AsyncSession, clock: Clock, key: dict[str, Any], **values: Any
) -> dict[str, Any]:
    """A subscription of `key` (with its signing `secret`), made as the system."""
    ctx = await system_ctx(session, clock)
    return await webhooks.create_subscription(ctx, key["id"], {"url": PUBLIC_TARGET, **values})


async def _seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_key(session, clock, world))["id"]]


def _on_key(suffix: str = "", json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        key = await make_key(session, clock, world)
        return Call(f"{URL}/{key['id']}{suffix}", json)

    return setup


def _on_subscription(suffix: str = "", json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        subscription = await make_subscription(
            session, clock, await make_key(session, clock, world)
        )
        return Call(f"/api/v1/webhooks/{subscription['id']}{suffix}", json)

    return setup


async def _issue(session: AsyncSession, world: World, clock: Clock) -> Call:
    return Call(URL, key_body(world, clock))


UNSCOPED = {("GET", URL)}

LISTS: list[ListEntry] = [(URL, _seed)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", URL): _issue,
    ("GET", f"{URL}/{{key_id}}"): _on_key(),
    ("PATCH", f"{URL}/{{key_id}}"): _on_key("", {"rate_limit_per_minute": 10}),
    ("POST", f"{URL}/{{key_id}}/rotate"): _on_key("/rotate", {"overlap_minutes": 0}),
    ("POST", f"{URL}/{{key_id}}/revoke"): _on_key("/revoke", {"reason": "合作结束"}),
    ("POST", f"{URL}/{{key_id}}/webhooks"): _on_key("/webhooks", {"url": PUBLIC_TARGET}),
    ("GET", f"{URL}/{{key_id}}/webhooks"): _on_key("/webhooks"),
    ("GET", "/api/v1/webhooks/{subscription_id}"): _on_subscription(),
    ("PATCH", "/api/v1/webhooks/{subscription_id}"): _on_subscription("", {"enabled": False}),
    ("GET", "/api/v1/webhooks/{subscription_id}/attempts"): _on_subscription("/attempts"),
}
