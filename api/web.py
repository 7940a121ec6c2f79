"""The web console served at `/`: the built single-page app (`clients/web/dist`) when there
is one, else the placeholder page. Client-side routes (`/events/…`) get the app's
index.html; the API's own prefixes never do, so an unknown API path stays a 404."""

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

WEB_ROOT = Path(__file__).resolve().parent.parent / "clients" / "web"
# First path segments that belong to the server, never to the console's router.
SERVER_PREFIXES = frozenset(
    {"api", "open311", "healthz", "readyz", "docs", "redoc", "openapi.json"}
)


class SinglePageApp(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            first = path.split("/", 1)[0]
            if exc.status_code != 404 or first in SERVER_PREFIXES or "." in path.rsplit("/", 1)[-1]:
                raise
            return await super().get_response("index.html", scope)


def web_directory(root: Path = WEB_ROOT) -> Path:
    """The built console when present, else the placeholder page."""
    dist = root / "dist"
    return dist if (dist / "index.html").exists() else root / "placeholder"


def console(directory: Path) -> StaticFiles:
    return SinglePageApp(directory=directory, html=True)
