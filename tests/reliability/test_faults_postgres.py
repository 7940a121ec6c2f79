"""PostgreSQL restarted or out of reach under a running API: requests answer 503 with a
Retry-After, and the pool recovers without a process restart.

The shared server is never restarted: the app's engine reaches PostgreSQL through a TCP
proxy in the test, and cutting it drops every pooled connection and refuses new ones, as a
restarting server does. While it is down requests fail fast with a problem+json 503 in
Chinese (not a 500: nothing the request did); once it is back the very next requests succeed
(the engine pings a pooled connection before handing it out). The other ways a database is
out of reach are held alike: nothing listening, a server still starting up (57P03), a pool
with no connection to give in time, a connection dropped in the middle of a transaction."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api.app import create_app
from api.errors import RETRY_AFTER_SECONDS, database_unreachable
from services.db import make_engine, make_sessionmaker
from services.settings import get_settings
from services.tokens import issue_access_token
from tests.conftest import TEST_DB, MovableClock
from tests.factories import assert_problem
from tests.reliability.fault_territory import FaultTerritory, fault_territory
from tests.reliability.harness import (
    TcpProxy,
    free_port,
    postgres_starting_up,
    tcp_proxy,
    until,
)
from tests.routes.events import event_body

PARALLEL = 8
# A request while PostgreSQL is down answers within this (a refused connection is quick).
FAIL_FAST_SECONDS = 10.0
AppOn = Callable[[str], AbstractAsyncContextManager[tuple[FastAPI, AsyncClient]]]


def url_at(port: int) -> str:
    return f"postgresql+asyncpg://grid_app@127.0.0.1:{port}/{TEST_DB}"


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[FaultTerritory]:
    async with fault_territory(app, clock, region="654023", west=87.0, south=46.0) as data:
        yield data


@pytest.fixture
async def proxy() -> AsyncIterator[TcpProxy]:
    async with tcp_proxy(5432) as relay:
        yield relay


@pytest.fixture
def app_on(clock: MovableClock, monkeypatch: pytest.MonkeyPatch) -> AppOn:
    """The app, in this process, with its engine on a database URL of the test's."""

    @asynccontextmanager
    async def serve(url: str) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
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
                yield application, http
        finally:
            get_settings.cache_clear()

    return serve


@pytest.fixture
async def proxied(proxy: TcpProxy, app_on: AppOn) -> AsyncIterator[AsyncClient]:
    """The app with its engine behind the proxy."""
    async with app_on(url_at(proxy.port)) as (_, http):
        yield http


def assert_unavailable(r: Response) -> None:
    """The outage answer: problem+json 503 in Chinese, to be retried after a few seconds."""
    body = assert_problem(r, 503, "database_unavailable")
    assert r.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert "数据库" in body["detail"], body


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
    assert_unavailable(down)
    assert time.monotonic() - started < FAIL_FAST_SECONDS
    # API.md: the process is up, it is not ready.
    assert (await proxied.get("/healthz")).status_code == 200
    ready = await proxied.get("/readyz")
    assert (ready.status_code, ready.json()["failed"]) == (503, ["database"])

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
    assert (await proxied.get("/readyz")).status_code == 200


async def _outage_answers(http: AsyncClient, clock: MovableClock) -> None:
    """Reads, a write through the idempotency middleware (it reads its key before any route
    runs) and both languages: each the outage answer, never a 500."""
    token, _ = issue_access_token(uuid.uuid4(), clock.now())
    headers = {"Authorization": f"Bearer {token}"}
    assert_unavailable(await http.get("/api/v1/me", headers=headers))
    assert_unavailable(await http.get("/api/v1/events", headers=headers))
    english = await http.get("/api/v1/people", headers={**headers, "Accept-Language": "en"})
    assert_problem(english, 503, "database_unavailable")
    assert english.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    write = await http.post(
        "/api/v1/events",
        json={"title": "x"},
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert_unavailable(write)
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 503


async def test_nothing_listening_is_503_with_retry_after(
    app_on: AppOn, clock: MovableClock
) -> None:
    async with app_on(url_at(free_port())) as (_, http):
        await _outage_answers(http, clock)


async def test_a_server_still_starting_up_is_503_with_retry_after(
    app_on: AppOn, clock: MovableClock
) -> None:
    async with postgres_starting_up() as port, app_on(url_at(port)) as (_, http):
        await _outage_answers(http, clock)


async def test_a_pool_with_no_connection_to_give_is_503_then_serves_again(
    app_on: AppOn, territory: FaultTerritory
) -> None:
    """Every connection of the pool is taken (one, here) and none frees up within the pool's
    timeout: 503; once one is back the same request is served."""
    tiny = make_engine(url_at(5432), pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        async with app_on(url_at(5432)) as (application, http):
            application.state.request_session = make_sessionmaker(tiny)
            async with tiny.connect() as held:
                await held.execute(text("SELECT 1"))
                busy = await http.get("/api/v1/events", headers=territory.reporter_on_clock)
                assert_unavailable(busy)
            served = await http.get("/api/v1/events", headers=territory.reporter_on_clock)
            assert served.status_code == 200, served.text
    finally:
        await tiny.dispose()


async def test_a_connection_dropped_mid_transaction_counts_as_unreachable(
    database: str, proxy: TcpProxy
) -> None:
    """What a request sees when the server goes away under its open transaction, raised for
    real, is classed as the outage (503), not as a fault of the request."""
    engine = make_engine(url_at(proxy.port))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await proxy.cut()
            with pytest.raises(DBAPIError) as raised:
                await conn.execute(text("SELECT 1"))
        assert database_unreachable(raised.value), repr(raised.value)
        await proxy.restore()

        async def answers() -> bool:
            try:
                async with engine.connect() as conn:
                    return (await conn.execute(text("SELECT 1"))).scalar() == 1
            except DBAPIError:
                return False

        await until(answers, seconds=FAIL_FAST_SECONDS, what="the engine to reconnect")
    finally:
        await engine.dispose()
