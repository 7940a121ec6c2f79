"""The scenarios: what each one asks of the product and of the floor, and its targets
(issue "benchmarks": targets on a 2-core machine at SCALE=2m)."""

import asyncio
import math
import random
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.dataset import raw_dsn
from bench.harness import Harness
from bench.load import LoadResult, Request, run_wrk
from bench.report import Outcome, Side
from domain.principal import SYSTEM, SYSTEM_SCOPE
from services import assessment_rules, supervision
from services.clock import SystemClock
from services.context import Ctx
from services.db import SCOPE_SETTING, make_engine, make_sessionmaker, set_scope
from services.pagination import encode_cursor
from services.settings import get_settings

TILE_ZOOMS = (10, 12, 14, 16, 18)
DEEP_OFFSET = 1_500_000
SWEEP_SIZES = ((5_000, 0.2), (50_000, 2.5))
SWEEP_RUNS = 3
MAX_TILE_BYTES = 500 * 1024


@dataclass(frozen=True)
class Samples:
    scope: str
    people: list[str]
    grids: list[str]
    names: list[str]
    points: list[tuple[float, float]]
    deep_cursor: str | None


async def sample(owner_url: str, username: str, seed: int = 7) -> Samples:
    """Ids, names and places to ask about, drawn from the data set."""
    raw = await asyncpg.connect(raw_dsn(owner_url))
    try:
        scope = await raw.fetchval(
            "SELECT o.path::text FROM users u JOIN org_units o ON o.id = u.unit_id"
            " WHERE u.username = $1",
            username,
        )
        people = await raw.fetch("SELECT id, name FROM people TABLESAMPLE SYSTEM (1) LIMIT 2000")
        grids = await raw.fetch(
            "SELECT id FROM org_units WHERE level = 'grid' ORDER BY md5(id::text) LIMIT 500"
        )
        houses = await raw.fetch(
            "SELECT ST_X(location) AS x, ST_Y(location) AS y FROM houses TABLESAMPLE SYSTEM (1)"
            " WHERE location IS NOT NULL LIMIT 1000"
        )
        total = await raw.fetchval("SELECT count(*) FROM people")
        deep = None
        if total > DEEP_OFFSET:
            row = await raw.fetchrow(
                "SELECT o.code, p.id FROM people p JOIN org_units o ON o.id = p.grid_id"
                " ORDER BY o.code, p.id OFFSET $1 LIMIT 1",
                DEEP_OFFSET,
            )
            deep = encode_cursor([row["code"], str(row["id"]), total])
    finally:
        await raw.close()
    rng = random.Random(seed)
    names = [row["name"] for row in people]
    rng.shuffle(names)
    return Samples(
        scope=scope,
        people=[str(row["id"]) for row in people],
        grids=[str(row["id"]) for row in grids],
        names=names[:500],
        points=[(row["x"], row["y"]) for row in houses],
        deep_cursor=deep,
    )


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _side(result: LoadResult) -> Side:
    return Side(result.rate, result.p50_ms, result.p95_ms, result.failures)


@dataclass(frozen=True)
class HttpScenario:
    group: str
    name: str
    product: list[Request]
    floor: list[Request]
    min_rate: float | None = None
    max_p95_ms: float | None = None
    max_ratio: float | None = None
    connections: int = 16

    def measure(self, h: Harness) -> Outcome:
        notes: list[str] = []
        h.settle("product", notes)
        product = run_wrk(
            h.product_url,
            self.product,
            token=h.token,
            seconds=h.seconds,
            connections=self.connections,
        )
        h.settle("floor", notes)
        floor = run_wrk(h.floor_url, self.floor, seconds=h.seconds, connections=self.connections)
        ratio = floor.rate / product.rate if product.rate else None
        checks = [("no failed requests", product.failures == 0)]
        if self.min_rate is not None:
            checks.append((f"≥ {self.min_rate:,.0f}/s", product.rate >= self.min_rate))
        if self.max_p95_ms is not None:
            checks.append((f"p95 ≤ {self.max_p95_ms:.0f} ms", product.p95_ms <= self.max_p95_ms))
        if self.max_ratio is not None and ratio is not None:
            checks.append((f"ratio ≤ {self.max_ratio}", ratio <= self.max_ratio))
        return Outcome(self.group, self.name, _side(product), _side(floor), ratio, checks, notes)


@dataclass(frozen=True)
class DepthScenario:
    """Deep pagination: the product at depth 0 and at a deep cursor (no floor needed)."""

    shallow: list[Request]
    deep: list[Request]
    group: str = "6 pagination"
    name: str = f"people page at depth {DEEP_OFFSET:,} (floor column: depth 0)"

    def measure(self, h: Harness) -> Outcome:
        notes: list[str] = []
        h.settle("depth 0", notes)
        top = run_wrk(h.product_url, self.shallow, token=h.token, seconds=h.seconds, connections=4)
        h.settle("deep", notes)
        deep = run_wrk(h.product_url, self.deep, token=h.token, seconds=h.seconds, connections=4)
        ratio = deep.p50_ms / top.p50_ms if top.p50_ms else None
        checks = [("depth 1,500,000 ≤ 1.5× depth 0", ratio is not None and ratio <= 1.5)]
        return Outcome(
            self.group,
            self.name,
            _side(deep),
            _side(top),
            ratio,
            checks,
            notes,
        )


@dataclass(frozen=True)
class TileScenario(HttpScenario):
    def measure(self, h: Harness) -> Outcome:
        outcome = super().measure(h)
        largest = max(
            len(httpx.get(h.product_url + r.path, headers=h.auth, timeout=60).content)
            for r in self.product[:50]
        )
        outcome.checks.append(
            (f"largest tile {largest / 1024:.0f} KB ≤ 500 KB", largest <= MAX_TILE_BYTES)
        )
        return outcome


def http_scenarios(s: Samples) -> list[Any]:
    def get(paths: list[str]) -> list[Request]:
        return [Request("GET", p) for p in paths]

    def post(path: str, bodies: list[dict[str, Any]]) -> list[Request]:
        return [Request("POST", path, orjson.dumps(b).decode()) for b in bodies]

    boxes = [[x - 0.003, y - 0.003, x + 0.003, y + 0.003] for x, y in s.points]
    scenarios: list[Any] = [
        HttpScenario(
            "1 registry",
            "person by id",
            get([f"/api/v1/people/{p}" for p in s.people]),
            get([f"/person/{p}" for p in s.people]),
            2000,
            20,
            1.3,
        ),
        HttpScenario(
            "1 registry",
            "a grid's people, first page",
            get([f"/api/v1/people?unit_id={g}&limit=50" for g in s.grids]),
            get([f"/people?unit_id={g}" for g in s.grids]),
            2000,
            20,
            1.3,
        ),
        HttpScenario(
            "1 registry",
            "search by name",
            get([f"/api/v1/people?q={quote(n)}&limit=50" for n in s.names]),
            get([f"/people?q={quote(n)}" for n in s.names]),
            2000,
            20,
            1.3,
        ),
        HttpScenario(
            "2 range",
            "houses in a 600 m box",
            post("/api/v1/map/query", [{"layers": ["houses"], "bbox": b} for b in boxes]),
            post("/map", [{"bbox": b} for b in boxes]),
            None,
            20,
            1.5,
        ),
    ]
    for radius in (200, 500):
        circles = [{"center": [x, y], "radius_m": radius} for x, y in s.points]
        scenarios.append(
            HttpScenario(
                "2 range",
                f"houses within {radius} m",
                post("/api/v1/map/query", [{"layers": ["houses"], **c} for c in circles]),
                post("/map", circles),
                None,
                20,
                1.5,
            )
        )
    for z in TILE_ZOOMS:
        tiles = sorted({_tile(x, y, z) for x, y in s.points})
        scenarios.append(
            TileScenario(
                "3 tiles",
                f"houses tiles at z{z} ({len(tiles)} tiles)",
                get([f"/api/v1/map/tiles/houses/{z}/{x}/{y}.mvt" for x, y in tiles]),
                get([f"/tiles/{z}/{x}/{y}" for x, y in tiles]),
                None,
                100,
                1.2,
            )
        )
    if s.deep_cursor:
        scenarios.append(
            DepthScenario(
                get(["/api/v1/people?limit=50"]),
                get([f"/api/v1/people?limit=50&cursor={s.deep_cursor}"]),
            )
        )
    now = datetime.now(UTC).isoformat()
    reports = [
        {
            "title": "压测上报",
            "category": "livelihood",
            "subtype": "health",
            "grid_id": g,
            "occurred_at": now,
            "description": "压测上报的事件",
        }
        for g in s.grids
    ]
    scenarios.append(
        HttpScenario(
            "8 reporting",
            "event report end to end",
            post("/api/v1/events", reports),
            post("/events", reports),
            800,
            None,
            None,
        )
    )
    return scenarios


OVERDUE = """
UPDATE event_steps s SET
    accept_yellow_at = CASE WHEN s.accepted_at IS NULL THEN $2::timestamptz END,
    handle_yellow_at = CASE WHEN s.accepted_at IS NOT NULL THEN $2::timestamptz END,
    accept_red_at = NULL, handle_red_at = NULL
FROM (
    SELECT s.id FROM event_steps s JOIN events e ON e.id = s.event_id
    WHERE s.finished_at IS NULL AND s.first_feedback_at IS NULL AND NOT e.legacy
      AND e.state <> 'closed'
    ORDER BY s.id LIMIT $1
) AS chosen WHERE s.id = chosen.id
"""


def _floor_sweep(as_of: datetime, zone: str) -> tuple[str, list[Any]]:
    """The product's sweep statement as bare SQL with its arguments in order."""
    compiled = supervision.SWEEP.compile(dialect=asyncpg_dialect())  # type: ignore[no-untyped-call]
    values = {"as_of": as_of, "zone": zone, "defaults": assessment_rules.DEFAULTS}
    return str(compiled), [values[name] for name in compiled.positiontup or ()]


@dataclass(frozen=True)
class _SweepRun:
    seconds: float
    marked: int
    issued: int
    reissued: int


async def _product_sweep(
    maker: async_sessionmaker[AsyncSession], size: int, due: datetime, now: datetime
) -> _SweepRun:
    """`size` steps made overdue, then the product's sweep over them twice, rolled back."""
    async with maker() as session:
        await set_scope(session, SYSTEM_SCOPE)
        connection = await session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        marked = int((await driver.execute(OVERDUE, size, due)).split()[-1])
        ctx = Ctx(session=session, principal=SYSTEM, clock=SystemClock())
        started = time.perf_counter()
        first = await supervision.sweep(ctx, now)
        await session.flush()
        seconds = time.perf_counter() - started
        again = await supervision.sweep(ctx, now)
        await session.rollback()
    return _SweepRun(seconds, marked, first["issued"], again["issued"])


async def _bare_sweep(
    raw: asyncpg.Connection, size: int, due: datetime, sql: str, args: list[Any]
) -> _SweepRun:
    run = raw.transaction()
    await run.start()
    try:
        await raw.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, SYSTEM_SCOPE)
        marked = int((await raw.execute(OVERDUE, size, due)).split()[-1])
        started = time.perf_counter()
        rows = await raw.fetch(sql, *args)
        seconds = time.perf_counter() - started
    finally:
        await run.rollback()
    return _SweepRun(seconds, marked, len(rows), 0)


async def sweep_scenarios(h: Harness) -> list[Outcome]:
    """The sweep carding `n` overdue steps: the product's service (one statement, then an
    audit entry per event) against the bare statement; each run rolled back, each side run
    `SWEEP_RUNS` times in turn and its median kept (one run alone varied by half)."""
    settings = get_settings()
    engine = make_engine(settings.database_url)
    maker = make_sessionmaker(engine)
    raw = await asyncpg.connect(raw_dsn(settings.database_url))
    now = datetime.now(UTC)
    floor_sql, floor_args = _floor_sweep(now, settings.timezone)
    due = now - timedelta(hours=1)
    outcomes = []
    try:
        for size, limit_s in SWEEP_SIZES:
            notes: list[str] = []
            product_runs, floor_runs = [], []
            for _ in range(SWEEP_RUNS):
                await asyncio.to_thread(h.settle, "product", notes)
                product_runs.append(await _product_sweep(maker, size, due, now))
                await asyncio.to_thread(h.settle, "floor", notes)
                floor_runs.append(await _bare_sweep(raw, size, due, floor_sql, floor_args))
            product_s = statistics.median(run.seconds for run in product_runs)
            floor_s = statistics.median(run.seconds for run in floor_runs)
            marked = product_runs[0].marked
            every_card = all(
                run.marked == run.issued == marked for run in (*product_runs, *floor_runs)
            )
            ratio = product_s / floor_s if floor_s else None
            outcomes.append(
                Outcome(
                    "5 sweep",
                    f"{marked:,} overdue steps carded with deductions, median of {SWEEP_RUNS}",
                    Side(p50_ms=product_s * 1000),
                    Side(p50_ms=floor_s * 1000),
                    ratio,
                    [
                        (f"all {marked:,} carded", every_card),
                        (f"≤ {limit_s * 1000:.0f} ms", product_s <= limit_s),
                        ("a re-run changes nothing", all(r.reissued == 0 for r in product_runs)),
                        ("ratio ≤ 1.5", ratio is not None and ratio <= 1.5),
                    ],
                    notes,
                )
            )
    finally:
        await raw.close()
        await engine.dispose()
    return outcomes
