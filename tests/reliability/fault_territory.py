"""A committed territory for the fault tests, whose API and worker run in processes of their
own: the territory of `tests.territory` plus a grid worker who reports and the community's
staff member with a phone (each event's notice is an SMS through the outbox), all removed
afterwards with what the tests made there."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from fastapi import FastAPI

from services.clock import SystemClock
from services.db import system_session
from services.models import OrgUnit
from tests.conftest import MovableClock
from tests.factories import auth, make_user
from tests.territory import SUPERUSER_DSN, committed_territory, remove_events


@dataclass
class FaultTerritory:
    grid_id: uuid.UUID
    community_id: uuid.UUID
    # Tokens for servers keeping the real time (the test clock's tokens would be stale).
    reporter: dict[str, str]
    staff: dict[str, str]
    # Tokens for an app on the test clock.
    reporter_on_clock: dict[str, str]


async def _clear(grid_id: uuid.UUID, region: str) -> None:
    """What the tests made in the territory: outbox messages and sync records, then the
    events (`remove_events`); the territory itself goes with `committed_territory`."""
    events = f"SELECT id::text FROM events WHERE grid_id = '{grid_id}'"
    district = f"(SELECT path FROM org_units WHERE code = '{region}000000')"
    users = f"SELECT id FROM users WHERE path <@ {district}"
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        await conn.execute(
            f"DELETE FROM outbox WHERE payload->>'event_id' IN ({events});"
            f"DELETE FROM sync_operations WHERE user_id IN ({users});"
            f"DELETE FROM visit_logs WHERE grid_id = '{grid_id}';"
            f"DELETE FROM track_points WHERE user_id IN ({users});"
            f"DELETE FROM check_ins WHERE user_id IN ({users});"
            # The worker's accrual charges the territory's units too (R-ASM-3).
            f"DELETE FROM assessment_ledger WHERE path <@ {district};"
        )
    finally:
        await conn.close()
    await remove_events(grid_id)


@asynccontextmanager
async def fault_territory(
    app: FastAPI, clock: MovableClock, *, region: str, west: float, south: float
) -> AsyncIterator[FaultTerritory]:
    async with committed_territory(app, clock, region=region, west=west, south=south) as data:
        async with system_session(app.state.sessionmaker) as session:
            grid = await session.get(OrgUnit, data.grid_id)
            community = await session.get(OrgUnit, data.community_id)
            assert grid is not None and community is not None
            reporter = await make_user(session, roles=["grid_worker"], unit=grid)
            staff = await make_user(
                session, roles=["community_staff"], unit=community, phone="13800138000"
            )
        territory = FaultTerritory(
            grid_id=data.grid_id,
            community_id=data.community_id,
            reporter=auth(reporter, SystemClock()),
            staff=auth(staff, SystemClock()),
            reporter_on_clock=auth(reporter, clock),
        )
        try:
            yield territory
        finally:
            await _clear(data.grid_id, region)
