"""Creating, migrating and dropping the database, as its owner (CLI, tests)."""

import asyncio
from pathlib import Path

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent


def _plain_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(False)


async def ensure_database(owner_url: str) -> bool:
    """Create the database named in `owner_url` when missing; True when it was created."""
    name = make_url(owner_url).database
    assert name, "the owner URL names no database"
    conn = await asyncpg.connect(_plain_dsn(owner_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
        return not exists
    finally:
        await conn.close()


async def drop_database(owner_url: str) -> None:
    name = make_url(owner_url).database
    conn = await asyncpg.connect(_plain_dsn(owner_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def migrate(owner_url: str, revision: str = "head") -> None:
    """`alembic upgrade` to `revision`, run as the owner."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["url"] = owner_url
    command.upgrade(config, revision)


def setup(owner_url: str) -> None:
    """Create (if needed) and migrate the database."""
    asyncio.run(ensure_database(owner_url))
    migrate(owner_url)
