"""The city-scale data set of a benchmark scale, built once per database with COPY: the
demo city cut into `grids` grids, `people` synthetic residents with their houses, households
and tags (services.demo_data), and `events` events (bench.events)."""

import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from shapely import wkb
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.events import load_events
from bench.layout import bench_layout
from domain.principal import SYSTEM
from services import bootstrap, demo_data
from services.clock import SystemClock
from services.context import Ctx
from services.database_setup import ensure_database, migrate
from services.db import make_engine, make_sessionmaker, system_session
from services.models import Person
from services.settings import get_settings


@dataclass(frozen=True)
class Scale:
    name: str
    people: int
    grids: int
    events: int


SCALES = {
    scale.name: scale
    for scale in (
        Scale("50k", 50_000, 400, 20_000),
        Scale("2m", 2_000_000, 4_000, 600_000),
        Scale("10m", 10_000_000, 20_000, 3_000_000),
    )
}

# The database's comment holds its build timings under this key.
TIMINGS_KEY = "bench_build_seconds"

GRIDS = """
SELECT g.id, g.path::text, ST_AsBinary(g.geom), c.id, c.path::text
FROM org_units g JOIN org_units c ON c.id = g.parent_id
WHERE g.level = 'grid' AND g.deleted_at IS NULL
"""


def database_name(scale: Scale) -> str:
    return f"grid_bench_{scale.name}"


def raw_dsn(url: str) -> str:
    """The asyncpg DSN of an SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(False)


async def build(scale: Scale) -> dict[str, float]:
    """Create, migrate and fill the scale's database unless it is already there; returns
    the seconds each phase of its build took, in this run or when it was built (kept on
    the database, `stored_timings`)."""
    settings = get_settings()
    timings: dict[str, float] = {}
    await ensure_database(settings.owner_url)
    migrate(settings.owner_url)
    engine = make_engine(settings.database_url)
    try:
        async with system_session(make_sessionmaker(engine)) as session:
            started = time.monotonic()
            ctx = Ctx(session=session, principal=SYSTEM, clock=SystemClock())
            loaded = await bootstrap.load_demo_city(
                ctx,
                people=scale.people,
                events=0,
                progress=demo_data.stderr_progress(),
                layout=bench_layout(scale.grids),
            )
            if loaded:
                timings["city_and_people_s"] = time.monotonic() - started
        async with system_session(make_sessionmaker(engine)) as session:
            people = await session.scalar(select(func.count()).select_from(Person))
            print(f"people: {people:,}", file=sys.stderr)
    finally:
        await engine.dispose()
    raw = await asyncpg.connect(raw_dsn(settings.owner_url))
    try:
        present = await raw.fetchval("SELECT count(*) FROM events")
        if present < scale.events:
            started = time.monotonic()
            grids = [
                (row[0], row[1], wkb.loads(bytes(row[2])), row[3], row[4])
                for row in await raw.fetch(GRIDS)
            ]
            written = await load_events(raw, grids, scale.events - present, datetime.now(UTC))
            timings["events_s"] = time.monotonic() - started
            print(f"events: {written:,}", file=sys.stderr)
        if timings:
            await raw.execute("ANALYZE")
        built = {**await stored_timings(raw), **timings}
        if timings:
            await store_timings(raw, built)
    finally:
        await raw.close()
    return built


async def stored_timings(raw: asyncpg.Connection) -> dict[str, float]:
    """The build timings kept in the database's comment (none for a database built
    before they were kept)."""
    comment = await raw.fetchval(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database"
        " WHERE datname = current_database()"
    )
    return parse_timings(comment)


async def store_timings(raw: asyncpg.Connection, timings: dict[str, float]) -> None:
    # COMMENT takes no parameters: format() quotes the name and the JSON.
    statement = await raw.fetchval(
        "SELECT format('COMMENT ON DATABASE %I IS %L', current_database(), $1::text)",
        json.dumps({TIMINGS_KEY: timings}),
    )
    await raw.execute(statement)


def parse_timings(comment: str | None) -> dict[str, float]:
    """The timings of a database comment written by `store_timings`; any other comment
    holds none."""
    try:
        found = json.loads(comment or "")
    except ValueError:
        return {}
    timings = found.get(TIMINGS_KEY) if isinstance(found, dict) else None
    if not isinstance(timings, dict):
        return {}
    return {str(k): float(v) for k, v in timings.items() if isinstance(v, int | float)}
