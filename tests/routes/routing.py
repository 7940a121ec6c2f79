"""Route table of routing rules (R-WF-3, R-JUR-1): rules owned by street S1, sending disputes
arriving at its communities to S1's department."""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services import routing
from services.clock import Clock
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

URL = "/api/v1/routing-rules"


def rule_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "owner_unit_id": str(world.s1.id),
        "level": "community",
        "category": "dispute",
        "target_department_id": str(world.dept_s1.id),
        **values,
    }


def rule_fields(world: World, **values: Any) -> dict[str, Any]:
    """A rule of S1 as the service takes it."""
    return {
        "owner_unit_id": world.s1.id,
        "level": "community",
        "category": "dispute",
        "target_department_id": world.dept_s1.id,
        **values,
    }


async def make_rule(
    session: AsyncSession, clock: Clock, world: World, **values: Any
) -> dict[str, Any]:
    """A rule of S1 (created as the system)."""
    return await routing.create_rule(await system_ctx(session, clock), rule_fields(world, **values))


async def _seed(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_rule(session, clock, world))["id"]]


def _on_rule(json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        rule = await make_rule(session, clock, world)
        return Call(f"{URL}/{rule['id']}", json)

    return setup


UNSCOPED = {("GET", URL), ("GET", f"{URL}/export")}

LISTS: list[ListEntry] = [(URL, _seed)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", URL): lambda w: Call(URL, rule_body(w)),
    ("GET", f"{URL}/{{rule_id}}"): _on_rule(),
    ("PATCH", f"{URL}/{{rule_id}}"): _on_rule({"priority": 5}),
    ("DELETE", f"{URL}/{{rule_id}}"): _on_rule(),
}
