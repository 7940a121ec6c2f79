"""The web console at `/` (issue 7): the built app's files as they are, its client-side
routes answered with index.html, and the server's own paths never shadowed."""

from pathlib import Path

from httpx import ASGITransport, AsyncClient
from starlette.applications import Starlette
from starlette.routing import Mount

from api.web import console, web_directory


def built(root: Path) -> Path:
    dist = root / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<div id=root></div>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    (root / "placeholder").mkdir()
    (root / "placeholder" / "index.html").write_text("placeholder")
    return dist


async def test_client_routes_get_the_index_and_files_are_served(tmp_path: Path) -> None:
    dist = built(tmp_path)
    assert web_directory(tmp_path) == dist
    async with AsyncClient(
        transport=ASGITransport(app=Starlette(routes=[Mount("/", console(dist))])),
        base_url="http://t",
    ) as web:
        assert (await web.get("/")).text == "<div id=root></div>"
        assert (await web.get("/events/5b3c")).text == "<div id=root></div>"
        asset = await web.get("/assets/app.js")
        assert asset.status_code == 200 and asset.text == "console.log(1)"
        # A missing file is a 404, not the app.
        assert (await web.get("/assets/gone.js")).status_code == 404
        for path in ("/api/v1/nothing", "/open311/v2/x", "/healthz/x", "/readyz", "/docs/x"):
            assert (await web.get(path)).status_code == 404, path


def test_without_a_build_the_placeholder_is_served(tmp_path: Path) -> None:
    (tmp_path / "placeholder").mkdir()
    assert web_directory(tmp_path) == tmp_path / "placeholder"


async def test_the_api_answers_before_the_console(client: AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/healthz")).status_code == 200
