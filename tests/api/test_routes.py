"""The route table: every route declares its permission (R-ORG-3), and every scoped route
answers 404 to a user of a sibling unit and succeeds for a user of an ancestor unit (R-JUR-1).

A new route fails these tests until it is classified in `tests/routes/`, so jurisdiction
cannot be forgotten by accident.
"""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Requires
from api.routers import ROUTERS
from tests.conftest import MovableClock
from tests.factories import World, auth
from tests.routes import Call, ListEntry, collect, prepare

TABLE = collect()
SCOPED = TABLE.scoped

PUBLIC = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/refresh"),
    # R-CIT-1: citizens without an account; throttled per address, keyed by receipt code.
    ("POST", "/api/v1/public/submissions"),
    ("GET", "/api/v1/public/submissions/{receipt}"),
    ("POST", "/api/v1/public/submissions/{receipt}/rating"),
} | TABLE.public


def _api_routes(app: FastAPI) -> list[tuple[str, str, APIRoute]]:
    """Every API route with its dependencies, from the routers the app mounts."""
    return [
        (method, route.path, route)
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods or ())
    ]


def test_the_route_table_is_the_whole_api(app: FastAPI) -> None:
    """Nothing is served outside the routers inspected here (compared with the live spec)."""
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented == {(m, p) for m, p, _ in _api_routes(app)}


def _declared_permissions(dependant: Dependant) -> list[str]:
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, Requires):
            found.append(dep.call.permission.value)
        found.extend(_declared_permissions(dep))
    return found


def test_every_route_declares_a_permission_or_is_public(app: FastAPI) -> None:
    """R-ORG-3: no route is left open by accident."""
    open_routes = [
        (method, path)
        for method, path, route in _api_routes(app)
        if (method, path) not in PUBLIC and not _declared_permissions(route.dependant)
    ]
    assert open_routes == []


def test_public_routes_really_are_public_and_few(app: FastAPI) -> None:
    public = {(m, p) for m, p, r in _api_routes(app) if not _declared_permissions(r.dependant)}
    assert public == PUBLIC


def test_every_route_is_classified_for_jurisdiction(app: FastAPI) -> None:
    """R-JUR-1: every route is in the sibling-404 matrix, or explicitly a list/self route."""
    unclassified = [
        (method, path)
        for method, path, _ in _api_routes(app)
        if (method, path) not in set(SCOPED) | PUBLIC | TABLE.unscoped
    ]
    assert unclassified == []


async def _send(client: AsyncClient, method: str, call: Call, headers: dict[str, str]) -> Any:
    return await client.request(
        method,
        call.path,
        json=call.json,
        params=call.params,
        data=call.data,
        files=call.files,
        headers={**headers, **call.headers},
    )


@pytest.mark.parametrize(("method", "path"), sorted(SCOPED), ids=str)
async def test_sibling_unit_gets_404_and_ancestor_succeeds(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    method: str,
    path: str,
) -> None:
    """R-JUR-1: outside the jurisdiction a record does not exist (404, not 403); from an
    ancestor unit the same request succeeds."""
    call = await prepare(SCOPED[(method, path)], session, world, clock)
    sibling = await _send(client, method, call, auth(world.admin_s2, clock))
    assert sibling.status_code == 404, sibling.text
    assert sibling.headers["content-type"] == "application/problem+json"
    ancestor = await _send(client, method, call, auth(world.admin_d, clock))
    assert 200 <= ancestor.status_code < 300, ancestor.text


@pytest.mark.parametrize("entry", TABLE.lists, ids=lambda e: e if isinstance(e, str) else e[0])
async def test_lists_show_nothing_from_a_sibling_unit(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    entry: ListEntry,
) -> None:
    """R-JUR-1: list endpoints filter by jurisdiction; S2's admin never sees S1's records,
    while the district's admin sees the records a module seeds in S1."""
    path, seed = (entry, None) if isinstance(entry, str) else entry
    seeded = {str(i) for i in await seed(session, world, clock)} if seed else set()
    s1_ids = seeded | {
        str(x)
        for x in (
            world.s1.id,
            world.c1.id,
            world.c2.id,
            world.g1.id,
            world.g2.id,
            world.dept_s1.id,
            world.admin_s1.id,
            world.worker_g1.id,
        )
    }

    async def visible(user: object) -> set[str]:
        response = await client.get(path, params={"limit": 500}, headers=auth(user, clock))  # type: ignore[arg-type]
        assert response.status_code == 200, response.text
        items = response.json()["items"]
        return {str(i.get("id")) for i in items} | {str(i.get("target_id")) for i in items}

    assert (await visible(world.admin_s2)).isdisjoint(s1_ids)
    assert seeded <= await visible(world.admin_d)
