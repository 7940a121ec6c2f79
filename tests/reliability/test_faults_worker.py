"""Workers killed and doubled during the supervision sweep (R-SUP-2, R-SUP-5): real `gridctl
worker` processes under `scripts/supervise.sh`, on a Redis of the test's own, sweeping many
overdue steps. A worker SIGKILLed in the middle of the sweep's statement leaves no card
behind, is restarted by its supervisor and then issues every card exactly once; two workers
sweeping the same steps at the same moment issue each card and its deduction once.

To catch a sweep in the middle deterministically, the test holds one of the cards in an open
transaction of its own: the sweep's insert waits on that row (the unique (step, rule) index)
while PostgreSQL shows it waiting, which is when the worker is killed or both workers are
released together."""

import os
import re
import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI

from domain.principal import SYSTEM
from domain.supervision import Rule
from services import events
from services.context import Ctx
from services.db import system_session
from tests.conftest import MovableClock
from tests.reliability.fault_territory import FaultTerritory, fault_territory
from tests.reliability.harness import (
    redis_server,
    service_env,
    supervised_worker,
    until,
)
from tests.territory import SUPERUSER_DSN

STEPS = 150
# Three days overdue: both acceptance cards (24 h, 48 h) are due on every step.
CARDS = 2 * STEPS
# Worker start-up (imports, pools) and the start-up sweep, on a busy machine.
START_SECONDS = 90.0
# arq's line for a finished job: "… ← cron:sweep:<ms>:cron:sweep ● {'issued': 300, …}".
SWEEP_LOGGED = re.compile(r"sweep ● \{'issued': (\d+)")


@pytest.fixture
async def overdue(app: FastAPI, clock: MovableClock) -> AsyncIterator[FaultTerritory]:
    """A territory with STEPS events reported three days ago and never accepted."""
    async with fault_territory(app, clock, region="654022", west=86.5, south=46.0) as territory:
        reported = MovableClock(datetime.now(UTC) - timedelta(days=3))
        async with system_session(app.state.sessionmaker) as session:
            ctx = Ctx(session=session, principal=SYSTEM, clock=reported)
            for n in range(STEPS):
                fields = {
                    "title": f"无人签收 {n}",
                    "category": "other",
                    "subtype": "other",
                    "grid_id": territory.grid_id,
                    "occurred_at": reported.now(),
                    "description": "督办演练",
                }
                await events.report_event(ctx, fields, resolve_on_spot=False, result=None)
        yield territory


class HeldCard:
    """One due card inserted by the test and left uncommitted: a sweep reaching that
    (step, rule) waits for this transaction."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.tx = conn.transaction()
        self.held = False

    async def hold(self, grid_id: uuid.UUID) -> None:
        await self.tx.start()
        self.held = True
        await self.conn.execute(
            """
            INSERT INTO supervisions
                (id, event_id, step_id, path, level, source, rule, due_at, issued_at, deduction)
            SELECT gen_random_uuid(), e.id, s.id, e.path, 'yellow', 'auto', $2,
                   s.accept_yellow_at, now(), 0
            FROM events e JOIN event_steps s ON s.id = e.current_step_id
            WHERE e.grid_id = $1
            ORDER BY e.service_no DESC
            LIMIT 1
            """,
            grid_id,
            Rule.ACCEPT_24H.value,
        )

    async def release(self) -> None:
        if self.held:
            self.held = False
            await self.tx.rollback()


async def _waiting_sweeps(conn: asyncpg.Connection) -> list[int]:
    """Backends of this database whose sweep waits on a lock (the statement's opening: the
    view keeps only its first kilobyte)."""
    # The connection holding the card is inside a transaction, which would keep reading
    # the statistics snapshot it took first.
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    rows = await conn.fetch(
        """
        SELECT pid FROM pg_stat_activity
        WHERE datname = current_database() AND wait_event_type = 'Lock'
          AND query LIKE '%WITH due AS%'
        """
    )
    return [row["pid"] for row in rows]


async def _committed(grid_id: uuid.UUID) -> tuple[int, int, int]:
    """Automatic cards of the grid's events, distinct (step, rule) among them, and the
    sweep's ledger lines charging them."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        row = await conn.fetchrow(
            """
            SELECT count(*) AS cards, count(DISTINCT (v.step_id, v.rule)) AS distinct_cards,
                   (SELECT count(*) FROM assessment_ledger l
                    JOIN supervisions c ON c.id = l.supervision_id
                    JOIN events e ON e.id = c.event_id WHERE e.grid_id = $1) AS charged
            FROM supervisions v JOIN events e ON e.id = v.event_id
            WHERE e.grid_id = $1 AND v.source = 'auto'
            """,
            grid_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return row["cards"], row["distinct_cards"], row["charged"]


def _sweeps_logged(log: Path) -> list[int]:
    """The cards each finished sweep of a worker issued, as arq logs the job's result."""
    return [int(n) for n in SWEEP_LOGGED.findall(log.read_text(errors="replace"))]


def _all_issued(grid_id: uuid.UUID) -> Any:
    async def check() -> bool:
        return (await _committed(grid_id))[0] >= CARDS

    return check


async def test_r_sup_2_a_worker_killed_mid_sweep_issues_every_card_once_after_restart(
    overdue: FaultTerritory, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    held = HeldCard(conn)
    try:
        await held.hold(overdue.grid_id)
        with redis_server(tmp_path) as redis:
            env = service_env(redis_url=redis.url())
            with supervised_worker(env, tmp_path / "worker.log") as worker:

                async def sweeping() -> bool:
                    return bool(await _waiting_sweeps(conn))

                await until(sweeping, seconds=START_SECONDS, what="a sweep in progress")
                killed = worker.worker()
                assert killed is not None
                os.kill(killed, signal.SIGKILL)

                async def restarted() -> bool:
                    return worker.restarts() >= 1 and worker.worker() not in (None, killed)

                await until(restarted, seconds=START_SECONDS, what="the supervisor's restart")
                # The killed sweep committed nothing: only the test's own card is there.
                assert (await _committed(overdue.grid_id))[0] == 0
                await held.release()
                await until(_all_issued(overdue.grid_id), seconds=START_SECONDS, what="every card")
                assert await _committed(overdue.grid_id) == (CARDS, CARDS, CARDS)
                assert sum(_sweeps_logged(worker.log)) == CARDS
    finally:
        await held.release()
        await conn.close()


async def test_r_sup_2_two_workers_sweeping_at_once_issue_no_duplicates(
    overdue: FaultTerritory, tmp_path: Path
) -> None:
    """Each worker on a Redis database of its own, so arq's unique cron ids cannot keep
    the second from sweeping: only the database's guarantees stand between them."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    held = HeldCard(conn)
    try:
        await held.hold(overdue.grid_id)
        with (
            redis_server(tmp_path) as redis,
            supervised_worker(service_env(redis_url=redis.url(0)), tmp_path / "a.log") as a,
            supervised_worker(service_env(redis_url=redis.url(1)), tmp_path / "b.log") as b,
        ):

            async def both_sweeping() -> bool:
                return len(await _waiting_sweeps(conn)) >= 2

            await until(both_sweeping, seconds=START_SECONDS, what="two sweeps at once")
            await held.release()
            await until(_all_issued(overdue.grid_id), seconds=START_SECONDS, what="every card")

            async def both_done() -> bool:
                return all(_sweeps_logged(w.log) for w in (a, b))

            await until(both_done, seconds=START_SECONDS, what="both sweeps' results")
            assert await _committed(overdue.grid_id) == (CARDS, CARDS, CARDS)
            # Together they issued each card once, however the race split them.
            assert sum(_sweeps_logged(a.log)) + sum(_sweeps_logged(b.log)) == CARDS
    finally:
        await held.release()
        await conn.close()
