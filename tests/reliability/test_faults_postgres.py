"""PostgreSQL restarted under a running API: the pool recovers without a process restart.

The shared server is never restarted: the app's engine reaches PostgreSQL through a TCP
proxy in the test, and cutting it drops every pooled connection and refuses new ones, as a
restarting server does. While it is down requests fail fast; once it is back the very next
requests succeed (the engine pings a pooled connection before handing it out)."""

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from api.app import create_app
from services.settings import get_settings
from tests.conftest import TEST_DB, MovableClock
from tests.reliability.fault_territory import FaultTerritory, fault_territory
from tests.reliability.harness import TcpProxy, tcp_proxy
from tests.routes.events import event_body

PARALLEL = 8
# A request while PostgreSQL is down answers within this (a refused connection is quick).
FAIL_FAST_SECONDS = 10.0


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[FaultTerritory]:
    async with fault_territory(app, clock, region="654023", west=87.0, south=46.0) as data:
        yield data


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    async with tcp_proxy(5432) as relay:
        yield relay


@pytest.fixture
async def proxied(
    proxy: TcpProxy, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncClient]:
    """The app, in this process, with its engine behind the proxy."""
    url = f"postgresql+asyncpg://grid_app@127.0.0.1:{proxy.port}/{TEST_DB}"
    monkeypatch.setenv("GRID_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        application = create_app(clock=clock)
        async with (
            application.router.lifespan_context(application),
            AsyncClient(
                transport=ASGITransport(app=application, raise_app_exceptions=False),
                base_url="http://test",
            ) as http,
        ):
            yield http
    finally:
        get_settings.cache_clear()


async def _reads(http: AsyncClient, territory: FaultTerritory) -> list[int]:
    answers = await asyncio.gather(
        *(
            http.get("/api/v1/events", params={"limit": 5}, headers=territory.reporter_on_clock)
            for _ in range(PARALLEL)
        )
    )
    return [r.status_code for r in answers]


async def test_the_pool_recovers_after_postgresql_restarts(
    proxied: AsyncClient, proxy: TcpProxy, territory: FaultTerritory
) -> None:
    assert await _reads(proxied, territory) == [200] * PARALLEL
    assert proxy.links() >= 1  # the pool holds live connections through the proxy

    await proxy.cut()
    started = time.monotonic()
    down = await proxied.get("/api/v1/events", headers=territory.reporter_on_clock)
    assert down.status_code >= 500
    assert down.headers["content-type"] == "application/problem+json"
    assert time.monotonic() - started < FAIL_FAST_SECONDS

    await proxy.restore()
    # Every pooled connection died with the cut; the next requests all succeed, reads and a
    # write, with no restart of the app.
    assert await _reads(proxied, territory) == [200] * PARALLEL
    r = await proxied.post(
        "/api/v1/events",
        json=event_body(territory.grid_id),
        headers=territory.reporter_on_clock,
    )
    assert r.status_code == 201, r.text
    got = await proxied.get(f"/api/v1/events/{r.json()['id']}", headers=territory.reporter_on_clock)
    assert got.status_code == 200
