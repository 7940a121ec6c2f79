"""Test harness: a real PostgreSQL/PostGIS database built with `alembic upgrade head` for the
run, real Redis (db 15), every test inside a transaction that is rolled back, the API over
ASGITransport with the request session joined to that transaction, and a movable clock."""

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

TEST_DB = os.environ.get("GRID_TEST_DATABASE", "grid_test")
os.environ["GRID_DATABASE_URL"] = f"postgresql+asyncpg://grid_app@127.0.0.1:5432/{TEST_DB}"
os.environ["GRID_OWNER_DATABASE_URL"] = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{TEST_DB}"
os.environ["GRID_REDIS_URL"] = os.environ.get("GRID_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# Attachments written by the tests go to a directory of the run's own, never the app's var/.
os.environ["GRID_STORAGE_DIR"] = tempfile.mkdtemp(prefix="grid-test-storage-")
os.environ["GRID_STORAGE_BACKEND"] = "local"

from api.app import create_app  # noqa: E402
from services.database_setup import drop_database, ensure_database, migrate  # noqa: E402
from services.db import make_engine  # noqa: E402
from services.settings import get_settings  # noqa: E402
from tests.factories import World, build_world  # noqa: E402


@dataclass
class MovableClock:
    """The injected clock: tests move it, nothing sleeps."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 2, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    owner_url = get_settings().owner_url
    asyncio.run(drop_database(owner_url))
    asyncio.run(ensure_database(owner_url))
    migrate(owner_url)
    yield owner_url
    asyncio.run(drop_database(owner_url))


@pytest.fixture(scope="session")
async def engine(database: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(get_settings().database_url)
    assert make_url(str(engine.url)).username == "grid_app"
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(autouse=True)
def reset_clock(clock: MovableClock) -> None:
    clock.current = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
async def app(engine: AsyncEngine, clock: MovableClock) -> AsyncIterator[FastAPI]:
    application = create_app(clock=clock)
    async with application.router.lifespan_context(application):
        await application.state.redis.flushdb()
        yield application


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """The test's connection; everything the test writes is rolled back at the end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
async def session(conn: AsyncConnection) -> AsyncIterator[AsyncSession]:
    async with AsyncSession(bind=conn, join_transaction_mode="create_savepoint") as s:
        yield s


@pytest.fixture
async def client(app: FastAPI, conn: AsyncConnection) -> AsyncIterator[AsyncClient]:
    """The API over ASGITransport; its request sessions join the test's transaction."""
    app.state.request_session = lambda: AsyncSession(
        bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
        yield c
    app.state.request_session = app.state.sessionmaker


def unique(prefix: str = "u") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def world(session: AsyncSession, clock: MovableClock) -> World:
    return await build_world(session, clock)
