"""Events at city scale through COPY: each event with its first step and its report in the
history, spread over the year before `now`, in the states a live city has (most closed, some
waiting, some in hand). Open steps were assigned recently, so the data set holds no backlog
of overdue cards; the sweep scenario makes its own."""

import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from domain.events import SUBTYPES, Category, Source, service_number
from domain.workflow import DEFAULT_PROCESS, State

BATCH = 20_000
# Loaded events number from here each day, clear of the serials the product hands out.
SERIAL_BASE = 500_000
# (state, share) of a city's events at any moment.
STATES = (
    (State.CLOSED, 0.80),
    (State.HANDLING, 0.10),
    (State.PENDING_ACCEPT, 0.08),
    (State.PENDING_VERIFY, 0.02),
)
STAGE = """
CREATE TEMP TABLE bench_events_stage (
    id uuid, service_no text, title text, category text, subtype text, grid_id uuid,
    path text, community_id uuid, community_path text, lon float8, lat float8,
    is_major boolean, is_urgent boolean, source text, state text, step_id uuid,
    at timestamptz, accepted_at timestamptz, finished_at timestamptz
) ON COMMIT DROP
"""
INSERT = """
WITH e AS (
    INSERT INTO events (id, service_no, title, category, subtype, grid_id, path, occurred_at,
        location, description, is_major, is_urgent, source, state, process, closed_at,
        created_at, updated_at)
    SELECT id, service_no, title, category, subtype, grid_id, path::ltree, at,
        ST_SetSRID(ST_MakePoint(lon, lat), 4326), title, is_major, is_urgent, source, state,
        $1, CASE WHEN state = 'closed' THEN finished_at END, at, coalesce(finished_at, at)
    FROM bench_events_stage
    RETURNING id
), s AS (
    INSERT INTO event_steps (id, event_id, seq, unit_id, path, handler_path, assigned_at,
        accepted_at, first_feedback_at, last_feedback_at, finished_at, accept_yellow_at,
        accept_red_at)
    SELECT step_id, id, 1, community_id, path::ltree, community_path::ltree, at, accepted_at,
        CASE WHEN state IN ('pending_verify', 'closed') THEN finished_at END,
        CASE WHEN state IN ('pending_verify', 'closed') THEN finished_at END,
        finished_at, at + interval '24 hours', at + interval '48 hours'
    FROM bench_events_stage
    RETURNING id
)
INSERT INTO event_actions (id, event_id, step_id, path, action, to_state, payload, at)
SELECT gen_random_uuid(), id, step_id, path::ltree, 'report', 'pending_accept', '{}', at
FROM bench_events_stage
"""
LINK = """
UPDATE events e SET current_step_id = s.id FROM event_steps s
WHERE s.event_id = e.id AND e.current_step_id IS NULL
"""


def _point(rng: random.Random, area: BaseGeometry, prepared: Any) -> tuple[float, float]:
    west, south, east, north = area.bounds
    for _ in range(20):
        point = Point(rng.uniform(west, east), rng.uniform(south, north))
        if prepared.contains(point):
            return point.x, point.y
    fallback = area.representative_point()
    return fallback.x, fallback.y


def _state(rng: random.Random) -> State:
    draw = rng.random()
    for state, share in STATES:
        draw -= share
        if draw < 0:
            return state
    return State.CLOSED


def event_rows(
    grids: list[tuple[uuid.UUID, str, BaseGeometry, uuid.UUID, str]],
    count: int,
    now: datetime,
    seed: int = 2026,
) -> Iterator[list[tuple[Any, ...]]]:
    """Batches of staging rows: `count` events over `grids` (id, path, area, community id,
    community path), numbered per reporting day."""
    rng = random.Random(seed)
    prepared = {grid_id: shapely.prepared.prep(area) for grid_id, _, area, _, _ in grids}
    categories = list(Category)
    sources = list(Source)
    per_day: dict[str, int] = {}
    batch: list[tuple[Any, ...]] = []
    for _ in range(count):
        grid_id, path, area, community_id, community_path = rng.choice(grids)
        state = _state(rng)
        # Open events arrived lately; closed ones any time in the past year.
        age = (
            timedelta(hours=rng.uniform(0, 20))
            if state != State.CLOSED
            else timedelta(days=rng.uniform(1, 365))
        )
        at = now - age
        day = at.date()
        per_day[day.isoformat()] = serial = per_day.get(day.isoformat(), 0) + 1
        category = rng.choice(categories)
        subtype = rng.choice(list(SUBTYPES[category]))
        accepted = (
            at + timedelta(hours=rng.uniform(0.2, 6)) if state != State.PENDING_ACCEPT else None
        )
        finished = (
            at + timedelta(hours=rng.uniform(8, 200))
            if state in (State.CLOSED, State.PENDING_VERIFY)
            else None
        )
        if finished is not None and finished > now:
            finished = now
        lon, lat = _point(rng, area, prepared[grid_id])
        batch.append(
            (
                uuid.uuid4(),
                service_number(day, SERIAL_BASE + serial),
                f"{SUBTYPES[category][subtype]}（压测）",
                category.value,
                subtype,
                grid_id,
                path,
                community_id,
                community_path,
                lon,
                lat,
                rng.random() < 0.03,
                rng.random() < 0.05,
                rng.choice(sources).value,
                state.value,
                uuid.uuid4(),
                at,
                accepted if state != State.PENDING_ACCEPT else None,
                finished,
            )
        )
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def load_events(raw: Any, grids: list[Any], count: int, now: datetime) -> int:
    """COPY `count` events into the database on the raw asyncpg connection `raw`, inside
    one transaction; returns how many were written."""
    written = 0
    async with raw.transaction():
        await raw.execute(STAGE)
        for batch in event_rows(grids, count, now):
            await raw.copy_records_to_table("bench_events_stage", records=batch)
            await raw.execute(INSERT, DEFAULT_PROCESS.code)
            await raw.execute("TRUNCATE bench_events_stage")
            written += len(batch)
        await raw.execute(LINK)
    return written
