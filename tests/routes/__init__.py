"""The jurisdiction route table, one module per feature (R-JUR-1).

Each module in this package defines:
- `SCOPED`: (method, path template) → a setup giving a request that touches a record inside
  street S1's subtree of the `World`. A setup is either `lambda world: Call(...)` or
  `async def setup(session, world, clock) -> Call` (to create the record first). A user of
  sibling street S2 must get 404; a user of the district must succeed.
- `UNSCOPED`: routes that are lists, the caller's own data or catalogues.
- `PUBLIC`: routes open to anyone by design, each module saying why.
- `LISTS`: list paths (or (path, seed) pairs) whose items must never include S1's records
  for S2's user; seeded records must be visible to the district's user.
"""

import importlib
import inspect
import pkgutil
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from api.routers import ROUTERS
from api.schemas.common import PageOut
from services.clock import Clock
from tests.factories import World


@dataclass
class Call:
    path: str
    json: dict[str, Any] | None = None
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # A multipart upload instead of a JSON body: form fields and files as httpx takes them.
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None


Setup = Callable[[World], Call] | Callable[[AsyncSession, World, Clock], Awaitable[Call]]
# A list path, or (path, seed): the seed creates records in S1 and returns their ids.
Seed = Callable[[AsyncSession, World, Clock], Awaitable[list[Any]]]
ListEntry = str | tuple[str, Seed]


async def prepare(setup: Setup, session: AsyncSession, world: World, clock: Clock) -> Call:
    if len(inspect.signature(setup).parameters) == 1:
        return setup(world)  # type: ignore[arg-type,call-arg,return-value]
    return await setup(session, world, clock)  # type: ignore[arg-type,call-arg,misc]


@dataclass
class RouteTable:
    scoped: dict[tuple[str, str], Setup]
    unscoped: set[tuple[str, str]]
    lists: list[ListEntry]
    public: set[tuple[str, str]] = field(default_factory=set)


def collect() -> RouteTable:
    table = RouteTable(scoped={}, unscoped=set(), lists=[])
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        table.scoped.update(getattr(module, "SCOPED", {}))
        table.unscoped.update(getattr(module, "UNSCOPED", set()))
        table.lists.extend(getattr(module, "LISTS", []))
        table.public.update(getattr(module, "PUBLIC", set()))
    return table


def api_routes() -> dict[tuple[str, str], APIRoute]:
    """(method, path template) → route, for every route the app mounts."""
    return {
        (method, route.path): route
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def _is_page(model: object) -> bool:
    if isinstance(model, type) and issubclass(model, BaseModel):
        return issubclass(model, PageOut) or "next_cursor" in model.model_fields
    return any(_is_page(argument) for argument in typing.get_args(model))


def list_paths() -> list[str]:
    """Every list of the API: a GET answering a keyset page."""
    return sorted(
        path
        for (method, path), route in api_routes().items()
        if method == "GET" and _is_page(route.response_model)
    )
