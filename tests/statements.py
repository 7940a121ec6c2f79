"""Every statement a test's connection runs, whichever way it goes: through SQLAlchemy
(its cursor events) or straight on the asyncpg connection (`services.prepared`, whose
statements SQLAlchemy never sees; asyncpg's query logger does)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection


@asynccontextmanager
async def recorded(conn: AsyncConnection) -> AsyncIterator[list[str]]:
    statements: list[str] = []

    def through_sqlalchemy(*args: Any) -> None:
        statements.append(args[2])

    def on_the_driver(record: Any) -> None:
        statements.append(record.query)

    driver = (await conn.get_raw_connection()).driver_connection
    assert driver is not None
    event.listen(conn.sync_connection, "before_cursor_execute", through_sqlalchemy)
    driver.add_query_logger(on_the_driver)
    try:
        yield statements
    finally:
        driver.remove_query_logger(on_the_driver)
        event.remove(conn.sync_connection, "before_cursor_execute", through_sqlalchemy)
