"""The prefix gates in front of the routers (api.routing) admit every route of their router
and decline other paths, so gating changes which requests are cheap, never where they go."""

import re

import pytest
from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.routing import Match

from api.routers import ROUTERS
from api.routing import PrefixGate


def _scope(method: str, path: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "00000000-0000-0000-0000-000000000001", path)


CASES = [
    (router, route) for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)
]


@pytest.mark.parametrize(("router", "route"), CASES, ids=[r.path for _, r in CASES])
def test_the_gate_admits_every_route_of_its_router(router: APIRouter, route: APIRoute) -> None:
    assert PrefixGate(router).admits(_concrete(route.path))


def test_the_gate_declines_paths_outside_its_router() -> None:
    for router in ROUTERS:
        gate = PrefixGate(router)
        assert not gate.admits("/elsewhere/not-a-route")
        match, _ = gate.matches(_scope("GET", "/elsewhere/not-a-route"))
        assert match is Match.NONE
