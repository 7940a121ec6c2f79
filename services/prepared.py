"""Statements compiled once and run on the request's own connection, for the hot read paths.

Executing a statement through the session costs more than the round trip itself on a
point read: the statement's cache key is rebuilt from its whole tree on every call, then
the ORM, the result machinery and a greenlet hop each take their share. A `Prepared`
statement is compiled to SQL once, at import, and runs on the session's asyncpg connection
inside the session's transaction — so the row-level-security scope the request set still
applies, and the session's commit or rollback ends it — and asyncpg keeps it prepared per
connection. Its parameters are the statement's named bind parameters; values go to the
driver as they are, so only types asyncpg takes natively may be bound (uuid, text, int,
bool, dates, arrays of these), and rows come back as the driver decodes them.
"""

from collections.abc import Mapping
from typing import Any, cast

import asyncpg
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


def _bound(
    session: Session, sql: str, args: tuple[Any, ...]
) -> asyncpg.Connection | list[dict[str, Any]]:
    """The session's asyncpg connection when its transaction is open on the server; until
    then (the driver sends BEGIN with the first statement) the statement's own rows, run
    through the session's connection, which opens it. One greenlet hop either way."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # what autoflush would do before a query through the session
    connection = session.connection()
    driver: asyncpg.Connection = connection.connection.driver_connection
    if driver.is_in_transaction():
        return driver
    return [dict(row) for row in connection.exec_driver_sql(sql, args).mappings()]


class Prepared:
    """One statement, compiled for asyncpg with its parameters in positional order."""

    def __init__(self, statement: ClauseElement) -> None:
        # Kept for EXPLAIN in the tests of the plans these statements get.
        self.statement = statement
        compiled = cast(SQLCompiler, statement.compile(dialect=_DIALECT))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared statement binds arrays, not expanding IN lists")
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        # Values written into the statement itself (`column == constant`) are bound too.
        self.constants = {
            name: bind.value for name, bind in compiled.binds.items() if not bind.required
        }

    async def rows(self, session: AsyncSession, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The rows as dicts. `params` may hold more than the statement binds."""
        args = tuple(
            params[name] if name in params else self.constants[name] for name in self.names
        )
        bound = await session.run_sync(_bound, self.sql, args)
        if isinstance(bound, list):
            return bound
        try:
            return [dict(record) for record in await bound.fetch(self.sql, *args)]
        except asyncpg.PostgresError as exc:
            # Mapped like the session's own errors (api.errors reads the SQLSTATE).
            raise DBAPIError(self.sql, args, exc) from exc

    async def row(self, session: AsyncSession, params: Mapping[str, Any]) -> dict[str, Any] | None:
        found = await self.rows(session, params)
        return found[0] if found else None

    async def value(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        """The first column of the one row."""
        found = await self.rows(session, params)
        return next(iter(found[0].values()))
