"""What a scenario measures with: the servers, the bench user's token, the load time, the
run's directories and DSNs, and the wait for quiet before each side of a scenario.

A side starts only once neither app serves a request any more and the bench database runs
no query (a slow scenario's handlers outlive wrk, and their queries would hold the pool the
next side needs). The wait is bounded; when a side had to wait, its note says so."""

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg2

from bench.serve import IN_FLIGHT, Servers

# Client backends of this database running a statement, other than the probe itself.
ACTIVE = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND state = 'active'
  AND pid <> pg_backend_pid()
"""
POLL_S = 0.2


@dataclass
class Drain:
    """The probe of the apps' requests in flight and the database's active queries (seen
    as the database owner, who sees every session's state)."""

    owner_dsn: str
    apps: tuple[str, ...]
    limit_s: float = 120.0
    _db: Any = field(default=None, init=False)

    def busy(self) -> tuple[int, int]:
        """Requests in flight over the apps, and active queries."""
        requests = sum(int(httpx.get(url + IN_FLIGHT, timeout=10).text) for url in self.apps)
        if self._db is None or self._db.closed:
            self._db = psycopg2.connect(self.owner_dsn)
            # Each probe its own transaction: activity is read afresh every time.
            self._db.autocommit = True
        with self._db.cursor() as cursor:
            cursor.execute(ACTIVE)
            found = cursor.fetchone()
        return requests, int(found[0]) if found else 0

    def settle(self, side: str) -> str | None:
        """Wait until quiet; None when it already was, else what was waited for."""
        started = time.monotonic()
        first = self.busy()
        if first == (0, 0):
            return None
        now = first
        while now != (0, 0) and time.monotonic() - started < self.limit_s:
            time.sleep(POLL_S)
            now = self.busy()
        waited = time.monotonic() - started
        before = f"{first[0]} requests in flight, {first[1]} active queries"
        if now != (0, 0):
            return f"{side}: {before}; still {now[0]} and {now[1]} after {waited:.0f} s"
        return f"{side}: waited {waited:.1f} s for {before} to finish"

    def close(self) -> None:
        if self._db is not None:
            self._db.close()


@dataclass(frozen=True)
class Harness:
    servers: Servers
    token: str
    seconds: int
    scale: str
    # The bench user and their district.
    user_id: str
    district_id: str
    scope: str
    owner_dsn: str
    app_dsn: str
    workdir: Path
    drain: Drain

    @property
    def product_url(self) -> str:
        return self.servers.product_url

    @property
    def floor_url(self) -> str:
        return self.servers.floor_url

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def settle(self, side: str, notes: list[str]) -> None:
        """Wait for quiet before `side`; a wait is noted."""
        note = self.drain.settle(side)
        if note:
            notes.append(note)
