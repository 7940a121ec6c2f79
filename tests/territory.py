"""A territory committed for real, for races on separate connections: a district of its own
(so committed rows never meet the rolled-back worlds) with one street, community and grid and
an admin, everything under it deleted afterwards; and the client whose requests commit."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient

from domain.org import Level
from services.db import system_session
from tests.conftest import TEST_DB, MovableClock
from tests.factories import auth, make_grid, make_unit, make_user, square

SUPERUSER_DSN = f"postgresql://postgres@127.0.0.1:5432/{TEST_DB}"


@dataclass
class Committed:
    community_id: uuid.UUID
    grid_id: uuid.UUID
    headers: dict[str, str]


@asynccontextmanager
async def committed_territory(
    app: FastAPI, clock: MovableClock, *, region: str, west: float, south: float
) -> AsyncIterator[Committed]:
    """District `{region}000000` (0.2° square from `west`, `south`), its street, community
    and grid `{region}001001001`; the admin's headers. Rows the races leave in its people,
    households and status history go with it; other tables are the caller's to clear."""
    async with system_session(app.state.sessionmaker) as session:
        d = await make_unit(
            session,
            clock,
            code=f"{region}000000",
            level=Level.DISTRICT,
            parent=None,
            geometry=square(west, south, west + 0.2, south + 0.2),
        )
        s = await make_unit(session, clock, code=f"{region}001000", level=Level.STREET, parent=d)
        c = await make_unit(
            session,
            clock,
            code=f"{region}001001",
            level=Level.COMMUNITY,
            parent=s,
            geometry=square(west, south, west + 0.1, south + 0.1),
        )
        g = await make_grid(
            session,
            clock,
            code=f"{region}001001001",
            parent=c,
            geometry=square(west, south, west + 0.05, south + 0.05),
        )
        admin = await make_user(session, roles=["admin"], unit=d)
        data = Committed(community_id=c.id, grid_id=g.id, headers=auth(admin, clock))
        district_path = d.path
    try:
        yield data
    finally:
        conn = await asyncpg.connect(SUPERUSER_DSN)
        try:
            await conn.execute(
                """
                DELETE FROM household_members WHERE path <@ $1::ltree;
                DELETE FROM households WHERE path <@ $1::ltree;
                DELETE FROM status_changes WHERE path <@ $1::ltree;
                DELETE FROM people WHERE path <@ $1::ltree;
                DELETE FROM notifications
                    WHERE user_id IN (SELECT id FROM users WHERE path <@ $1::ltree);
                DELETE FROM uploads
                    WHERE owner_id IN (SELECT id FROM users WHERE path <@ $1::ltree);
                DELETE FROM user_roles
                    WHERE user_id IN (SELECT id FROM users WHERE path <@ $1::ltree);
                DELETE FROM users WHERE path <@ $1::ltree;
                DELETE FROM org_unit_versions WHERE code LIKE '$2%';
                DELETE FROM org_units WHERE code LIKE '$2%' AND level = 'grid';
                DELETE FROM org_units WHERE code LIKE '$2%' AND level = 'community';
                DELETE FROM org_units WHERE code LIKE '$2%' AND level = 'street';
                DELETE FROM org_units WHERE code LIKE '$2%';
                """.replace("$1", f"'{district_path}'").replace("$2", region)
            )
        finally:
            await conn.close()


async def remove_events(grid_id: uuid.UUID) -> None:
    """Delete the committed events of a grid and everything hanging off them."""
    mine = f"(SELECT id FROM events WHERE grid_id = '{grid_id}')"
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        await conn.execute(
            f"DELETE FROM assessment_ledger WHERE event_id IN {mine};"
            f"DELETE FROM supervisions WHERE event_id IN {mine};"
            f"DELETE FROM step_reminders WHERE event_id IN {mine};"
            f"DELETE FROM event_appeals WHERE event_id IN {mine};"
            f"DELETE FROM citizen_submissions WHERE event_id IN {mine};"
            f"DELETE FROM hotline_calls WHERE event_id IN {mine};"
            f"DELETE FROM event_attachments WHERE event_id IN {mine};"
            f"DELETE FROM open311_requests WHERE event_id IN {mine};"
            f"UPDATE events SET current_step_id = NULL WHERE id IN {mine};"
            f"DELETE FROM event_actions WHERE event_id IN {mine};"
            f"DELETE FROM event_steps WHERE event_id IN {mine};"
            f"DELETE FROM events WHERE id IN {mine};"
        )
    finally:
        await conn.close()


@pytest.fixture
async def real_client(app: FastAPI) -> AsyncIterator[AsyncClient]:
    """The API with its own pooled sessions: every request commits for real."""
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as c:
        yield c


@dataclass(frozen=True)
class ImportTerritory:
    """A committed territory for imports: the district files are addressed to and the code
    of its grid."""

    data: Committed
    district_id: uuid.UUID
    grid_code: str

    @property
    def headers(self) -> dict[str, str]:
        return self.data.headers


# What imports leave under a district, children first.
IMPORT_TABLES = ("import_claims", "import_rows", "import_rejections", "imports")


@asynccontextmanager
async def import_territory(
    app: FastAPI,
    clock: MovableClock,
    *,
    region: str,
    west: float,
    south: float,
    tables: tuple[str, ...] = IMPORT_TABLES,
) -> AsyncIterator[ImportTerritory]:
    """`committed_territory` with its district's id; the rows of `tables` under the district
    are deleted afterwards."""
    async with committed_territory(app, clock, region=region, west=west, south=south) as data:
        conn = await asyncpg.connect(SUPERUSER_DSN)
        try:
            district = await conn.fetchrow(
                "SELECT id, path::text AS path FROM org_units WHERE code = $1", f"{region}000000"
            )
            assert district is not None
            try:
                yield ImportTerritory(data, district["id"], f"{region}001001001")
            finally:
                for table in tables:
                    await conn.execute(
                        f"DELETE FROM {table} WHERE path <@ $1::ltree", district["path"]
                    )
        finally:
            await conn.close()
