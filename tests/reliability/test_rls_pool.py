"""Row-level security fails closed on a pooled connection (R-JUR-1): the scope is set per
transaction, so whatever the previous user of a connection did — committed, rolled back or
raised — the next checkout that sets no scope sees no row of any row-secured table.

A pool of one connection makes "the next checkout" the very connection just used. Rows to
be hidden are committed in a territory of their own (tests/territory.py)."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.db import make_engine, set_scope
from services.settings import get_settings
from tests.conftest import MovableClock
from tests.territory import Committed, committed_territory

# Tables the committed territory puts rows in: the check that they are hidden is not vacuous.
FILLED = {"org_units", "org_unit_versions", "users", "audit_log"}


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    async with committed_territory(app, clock, region="652901", west=88.0, south=40.0) as data:
        yield data


@pytest.fixture
async def single() -> AsyncIterator[AsyncEngine]:
    engine = make_engine(get_settings().database_url, pool_size=1, max_overflow=0)
    yield engine
    await engine.dispose()


async def _secured_tables(conn: AsyncConnection) -> list[str]:
    rows = await conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity"
            " ORDER BY c.relname"
        )
    )
    return list(rows.scalars())


async def _visible(conn: AsyncConnection, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        counts[table] = (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
    return {table: n for table, n in counts.items() if n}


async def _backend(conn: AsyncConnection) -> int:
    pid: int = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    return pid


async def _commit(conn: AsyncConnection) -> None:
    await conn.commit()


async def _rollback(conn: AsyncConnection) -> None:
    await conn.rollback()


class Boom(Exception):
    pass


async def _raise(conn: AsyncConnection) -> None:
    raise Boom


ENDINGS: dict[str, Callable[[AsyncConnection], Awaitable[None]]] = {
    "commit": _commit,
    "rollback": _rollback,
    "exception": _raise,
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
async def test_r_jur_1_the_next_checkout_without_a_scope_sees_no_rows(
    territory: Committed, single: AsyncEngine, ending: str
) -> None:
    async with single.connect() as conn:
        tables = await _secured_tables(conn)
        first = await _backend(conn)
    # The exception leaves the connection block with the transaction open: the pool ends it.
    with contextlib.suppress(Boom):
        async with single.connect() as conn:
            await conn.execute(text("SELECT set_config('grid.scope', '*', true)"))
            seen = await _visible(conn, tables)
            assert set(seen) >= FILLED, seen
            await ENDINGS[ending](conn)
    async with single.connect() as conn:
        assert await _backend(conn) == first  # the very connection, back from the pool
        assert await _visible(conn, tables) == {}
        # An explicitly empty scope is "no access" too, never the root path.
        await conn.execute(text("SELECT set_config('grid.scope', '', false)"))
        assert await _visible(conn, tables) == {}


async def test_r_jur_1_a_session_scope_set_through_the_helper_does_not_outlive_its_transaction(
    territory: Committed, single: AsyncEngine
) -> None:
    """`set_scope` is transaction-local: a committed unit of work leaves nothing behind."""
    async with AsyncSession(single) as session, session.begin():
        await set_scope(session, "*")
        assert (await session.execute(text("SELECT count(*) FROM org_units"))).scalar_one() > 0
    async with single.connect() as conn:
        setting = (await conn.execute(text("SELECT current_setting('grid.scope', true)"))).scalar()
        assert setting in (None, "")
        assert await _visible(conn, await _secured_tables(conn)) == {}


async def test_r_jur_1_every_table_with_a_policy_forces_it(single: AsyncEngine) -> None:
    """No table has policies that its owner (the migration role) silently bypasses, and no
    table has RLS enabled without a policy (that would also read as 'no rows' by accident)."""
    async with single.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
                    " EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS policed"
                    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                    " WHERE n.nspname = 'public' AND c.relkind = 'r'"
                    " AND (c.relrowsecurity OR EXISTS"
                    "   (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid))"
                )
            )
        ).all()
    assert len(rows) > 20
    weak = [r.relname for r in rows if not (r.relrowsecurity and r.relforcerowsecurity)]
    assert weak == []
    assert [r.relname for r in rows if not r.policed] == []
