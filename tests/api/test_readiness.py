"""`/readyz` (API.md): 200 only when PostgreSQL and Redis answer; an app pointed at an
unreachable or silent dependency answers 503 naming it, within the check's timeout."""

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from services.settings import get_settings

TIMEOUT = 0.3
Configure = Callable[..., None]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    """A local server that accepts connections and never answers: clients hang."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()


@pytest.fixture
def configure(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Set GRID_* variables (over the test database's) for an app built in the test; the
    settings cache follows."""

    def apply(**variables: str) -> None:
        monkeypatch.setenv("GRID_READY_TIMEOUT_SECONDS", str(TIMEOUT))
        for name, value in variables.items():
            monkeypatch.setenv(f"GRID_{name.upper()}", value)
        get_settings.cache_clear()

    yield apply
    get_settings.cache_clear()


async def _readyz() -> tuple[int, dict[str, object], float]:
    app = create_app()
    async with app.router.lifespan_context(app):
        transport = ASGITransport(app=app)
        async with AsyncClient(transport=transport, base_url="http://test") as client:
            started = time.monotonic()
            response = await client.get("/readyz")
            return response.status_code, response.json(), time.monotonic() - started


async def test_ready_when_both_answer(configure: Configure) -> None:
    configure()
    status, body, _ = await _readyz()
    assert status == 200, body
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "ok"},
        "failed": [],
    }


async def test_an_unreachable_redis_is_503(configure: Configure, closed_port: int) -> None:
    configure(redis_url=f"redis://127.0.0.1:{closed_port}/0")
    status, body, _ = await _readyz()
    assert status == 503
    assert body["failed"] == ["redis"]
    assert body["checks"] == {"database": "ok", "redis": "error: ConnectionError"}


async def test_an_unreachable_database_is_503(configure: Configure, closed_port: int) -> None:
    url = f"postgresql+asyncpg://grid_app@127.0.0.1:{closed_port}/grid"
    configure(database_url=url)
    status, body, _ = await _readyz()
    assert status == 503
    assert body["failed"] == ["database"]
    assert body["status"] == "unavailable"


async def test_dependencies_that_never_answer_time_out(
    configure: Configure, silent_port: int
) -> None:
    """Both hang: the answer still comes after one timeout, the checks run side by side."""
    configure(
        redis_url=f"redis://127.0.0.1:{silent_port}/0",
        database_url=f"postgresql+asyncpg://grid_app@127.0.0.1:{silent_port}/grid",
    )
    status, body, seconds = await _readyz()
    assert status == 503
    assert body["failed"] == ["database", "redis"]
    assert body["checks"] == {
        "database": f"error: no answer within {TIMEOUT:g} s",
        "redis": f"error: no answer within {TIMEOUT:g} s",
    }
    assert seconds < 2 * TIMEOUT + 1
