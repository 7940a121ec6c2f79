"""`gridctl` as an operator runs it (API.md "CLI gridctl"): each command a subprocess
against a database of its own, created by `migrate` and dropped at the end."""

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from cli.main import openapi_document
from services.database_setup import drop_database
from tests.conftest import TEST_DB

ROOT = Path(__file__).resolve().parent.parent
GRIDCTL = str(Path(sys.executable).with_name("gridctl"))
CLI_DB = f"{TEST_DB}_cli"
OWNER_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{CLI_DB}"
OWNER_DSN = f"postgresql://postgres@127.0.0.1:5432/{CLI_DB}"
COUNTS = (
    "SELECT (SELECT count(*) FROM org_units) AS units, (SELECT count(*) FROM people) AS people,"
    " (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM audit_log) AS audit"
)


def _gridctl(*args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GRID_DATABASE_URL": f"postgresql+asyncpg://grid_app@127.0.0.1:5432/{CLI_DB}",
        "GRID_OWNER_DATABASE_URL": OWNER_URL,
    }
    return subprocess.run(
        [GRIDCTL, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


async def _query(sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(OWNER_DSN)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def _fetch(sql: str, *args: object) -> list[asyncpg.Record]:
    return asyncio.run(_query(sql, *args))


@pytest.fixture(scope="module")
def migrated() -> Iterator[subprocess.CompletedProcess[str]]:
    """`gridctl migrate` on a database that does not exist yet."""
    asyncio.run(drop_database(OWNER_URL))
    result = _gridctl("migrate")
    yield result
    asyncio.run(drop_database(OWNER_URL))


def test_migrate_creates_the_database_and_is_idempotent(
    migrated: subprocess.CompletedProcess[str],
) -> None:
    assert migrated.returncode == 0, migrated.stderr
    heads = _fetch("SELECT version_num FROM alembic_version")
    again = _gridctl("migrate")
    assert again.returncode == 0, again.stderr
    assert _fetch("SELECT version_num FROM alembic_version") == heads
    assert len(heads) == 1


def test_create_admin_makes_an_audited_superuser(
    migrated: subprocess.CompletedProcess[str],
) -> None:
    result = _gridctl("create-admin", "--username", "root_cli", "--password", "s3cret-pass")
    assert result.returncode == 0, result.stderr
    assert "root_cli" in result.stdout
    assert "s3cret-pass" not in result.stdout + result.stderr
    (user,) = _fetch(
        "SELECT id, is_superuser, path, password_hash FROM users WHERE username = 'root_cli'"
    )
    assert user["is_superuser"] and user["path"] is None
    assert user["password_hash"].startswith("$argon2id$")
    roles = _fetch("SELECT role_code FROM user_roles WHERE user_id = $1", user["id"])
    assert [r["role_code"] for r in roles] == ["admin"]
    (entry,) = _fetch(
        "SELECT action, actor_name, after FROM audit_log WHERE target_id = $1", str(user["id"])
    )
    assert (entry["action"], entry["actor_name"]) == ("user.create", "system")
    after = json.loads(entry["after"])
    assert after["username"] == "root_cli" and after["is_superuser"] is True
    assert "password" not in entry["after"]


def test_create_admin_refuses_a_taken_username(
    migrated: subprocess.CompletedProcess[str],
) -> None:
    assert _gridctl("create-admin", "--username", "twice", "--password", "pw-one-1").returncode == 0
    again = _gridctl("create-admin", "--username", "twice", "--password", "pw-two-2")
    assert again.returncode == 1
    assert "twice" in again.stderr and "Traceback" not in again.stderr
    assert len(_fetch("SELECT id FROM users WHERE username = 'twice'")) == 1


def test_seed_demo_loads_once(migrated: subprocess.CompletedProcess[str]) -> None:
    first = _gridctl("seed", "demo", "--people", "50", "--events", "3")
    assert first.returncode == 0, first.stderr
    assert "Demo data loaded" in first.stdout
    counts = _fetch(COUNTS)
    assert counts[0]["people"] == 50 and counts[0]["events"] == 3
    grids = _fetch("SELECT count(*) AS n FROM org_units WHERE level = 'grid'")
    assert grids[0]["n"] >= 60
    second = _gridctl("seed", "demo", "--people", "50", "--events", "3")
    assert second.returncode == 0, second.stderr
    assert "nothing loaded" in second.stdout
    assert _fetch(COUNTS) == counts


def test_openapi_prints_the_committed_document() -> None:
    result = _gridctl("openapi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == openapi_document()
    assert result.stdout == (ROOT / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout)["openapi"].startswith("3.")
