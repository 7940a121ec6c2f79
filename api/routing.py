"""Routing that scales with the number of routers."""

from fastapi import APIRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

# Paths are told apart by their first segments: /api/v1/<registry>/...
_HEAD_SEGMENTS = 4


def _head(route: BaseRoute) -> str:
    """The static start of a route's path, at most its first segments."""
    path: str = getattr(route, "path", "/")
    static = path.split("{", 1)[0]
    return "/".join(static.split("/")[:_HEAD_SEGMENTS]) or "/"


class PrefixGate(APIRouter):
    """Holds one router and declines at once a request whose path none of its routes can
    start with. The application tries its routers in turn and each tries its routes in turn,
    so without the gate a request for the last router is matched against every route of the
    others first."""

    def __init__(self, router: APIRouter) -> None:
        super().__init__()
        self.heads = tuple(sorted({_head(route) for route in router.routes}))
        self.include_router(router)

    def admits(self, path: str) -> bool:
        return path.startswith(self.heads)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if not self.admits(get_route_path(scope)):
            return Match.NONE, {}
        return super().matches(scope)
