"""Engines, sessions and the jurisdiction setting that row-level security reads."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from domain.principal import SYSTEM_SCOPE
from services.settings import get_settings

# Row-level security policies read this setting: an ltree path, "*" for system work, and
# anything unset or empty means no rows at all (fail closed).
SCOPE_SETTING = "grid.scope"
# The acting user's id: row-level security lets a user read what is addressed to them (their
# notifications) even where it lies outside their jurisdiction.
USER_SETTING = "grid.user"
# A database host that drops packets instead of refusing them is given up on after this long
# (asyncpg waits 60 s): the request gets its 503 while the caller still waits for an answer.
CONNECT_TIMEOUT_S = 10


def make_engine(url: str | None = None, **kwargs: object) -> AsyncEngine:
    settings = get_settings()
    pool: dict[str, object] = {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_timeout": settings.db_pool_timeout_seconds,
    }
    engine = create_async_engine(
        url or settings.database_url,
        # Statement parameters carry ID and phone numbers: kept out of the engine's log echo
        # and out of the text of its exceptions, which end up in logs (R-JUR-3).
        hide_parameters=True,
        connect_args={"timeout": CONNECT_TIMEOUT_S},
        **(pool | kwargs),
    )
    event.listen(engine.sync_engine, "do_connect", _connect)
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _connect(dialect: Dialect, record: object, cargs: Any, cparams: Any) -> Any:
    """Connect as the dialect does. A server that cannot be reached (refused, unreachable,
    timed out) is raised as the OperationalError other drivers give for it: asyncpg lets the
    bare OSError through, which could not be told from a file's."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as exc:
        raise OperationalError(None, None, exc, connection_invalidated=True) from exc


def _refuse_closed(
    dbapi_connection: object, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """A pooled connection whose server end has gone (PostgreSQL restarted, the link cut) is
    never handed out: the pool discards it and takes a fresh one. The driver marks a
    connection closed as soon as the event loop sees the socket close, so the check costs no
    round trip, where SQLAlchemy's pre-ping spends three (BEGIN, a query, ROLLBACK) on every
    checkout."""
    driver = record.driver_connection
    if driver is None or driver.is_closed():
        raise DisconnectionError("the server closed the connection")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def set_scope(session: AsyncSession, scope: str | None) -> None:
    """Set the RLS scope for the current transaction only (`is_local` = true)."""
    await session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": SCOPE_SETTING, "value": scope or ""},
    )


async def set_user(session: AsyncSession, user_id: uuid.UUID | None) -> None:
    """Name the acting user for the current transaction only."""
    await session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": USER_SETTING, "value": str(user_id) if user_id else ""},
    )


@asynccontextmanager
async def system_session(
    maker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """A session for system work (CLI, worker): whole-tree scope, committed on success."""
    async with maker() as session, session.begin():
        await set_scope(session, SYSTEM_SCOPE)
        yield session
