"""The floor: the benchmarks' requests answered by bare SQL through raw asyncpg + orjson, as a
plain ASGI app served by the same uvicorn as the product. It does the work the product's
queries do — the same rows, jurisdiction predicate, row-level-security scope and totals —
and nothing else: no framework, no ORM, no validation, no masking, no audit.

Run: `BENCH_DSN=postgresql://grid_app@127.0.0.1/grid_bench_2m BENCH_SCOPE=<ltree>
uvicorn bench.floor:app`."""

import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import asyncpg
import orjson

from domain.workflow import OPEN_STATES
from services.db import SCOPE_SETTING, USER_SETTING
from services.map_queries import circle_degrees
from services.tiles import CLUSTER_BELOW_ZOOM, cluster_window

# A person's fields as the product answers them; `{grid}` names the row their grid is read from.
PERSON_COLUMNS = """
       p.id, p.grid_id, {grid}.code AS grid_code, p.kind, p.id_number, p.name, p.former_name,
       p.gender, p.birth_date, p.ethnicity, p.phone, p.register_address, p.current_address,
       p.education, p.occupation, p.employer, p.political_status, p.marital_status,
       p.photo_url, p.low_income, p.away, p.house_id, h.address AS house_address,
       p.no_house_reason, p.details, p.status, p.status_reason, p.status_changed_at,
       p.version, p.created_at, p.updated_at, p.created_by, p.path::text AS path
"""
PERSON = f"""
SELECT {PERSON_COLUMNS.format(grid="o")}
FROM people p JOIN org_units o ON o.id = p.grid_id LEFT JOIN houses h ON h.id = p.house_id
"""
PERSON_BY_ID = PERSON + "WHERE p.id = $1 AND p.path <@ $2::ltree"
UNIT_PATH = "(SELECT path FROM org_units WHERE id = $1)"
# A unit's total as the product reads it: the sum of its people's counts (migration 0047).
UNIT_TOTAL = (
    "SELECT coalesce(sum(n), 0)::bigint FROM person_counts"
    f" WHERE path <@ $2::ltree AND path <@ {UNIT_PATH}"
)
# A unit's first page as the product walks it (services.people): the unit's grids in code
# order, each grid's people by id in a lateral subquery.
UNIT_WALK = f"""
SELECT {PERSON_COLUMNS.format(grid="g")}
FROM (SELECT o.id, o.code FROM org_units o
      WHERE o.level = 'grid' AND o.path <@ $2::ltree AND o.path <@ {UNIT_PATH}) AS g
JOIN LATERAL (SELECT * FROM people WHERE grid_id = g.id ORDER BY id LIMIT $3) AS p ON true
LEFT JOIN houses h ON h.id = p.house_id
ORDER BY g.code, p.id LIMIT $3
"""
NAME_PEOPLE = (
    "WHERE p.path <@ $2::ltree"
    " AND (p.name ILIKE $1 AND name_grams(p.name) @> name_query_grams($3) OR p.id_number = $3)"
)
# A range query: the total and the page as JSON in one statement, as the product runs it.
HOUSES = """
SELECT (SELECT count(*) FROM houses h WHERE {where}) AS total,
       (SELECT json_agg(page ORDER BY page.id) FROM (
            SELECT h.id, h.house_no, h.address, h.use, h.grid_id,
                   ST_AsGeoJSON(h.location, 7)::json AS geometry
            FROM houses h WHERE {where} ORDER BY h.id LIMIT 51) AS page)::text AS items
"""
# As the product finds an area: by the spatial index, row-level security filtering the scope.
HOUSES_WHERE = "h.status = 'active' AND h.location IS NOT NULL AND {area}"
BBOX = "h.location && ST_MakeEnvelope($1, $2, $3, $4, 4326)"
CIRCLE = (
    "h.location && ST_Expand(ST_SetSRID(ST_MakePoint($1, $2), 4326), $4)"
    " AND ST_DWithin(geography(h.location), geography(ST_SetSRID(ST_MakePoint($1, $2), 4326)), $3)"
)
TILE_POINTS = """
SELECT ST_AsMVT(features.*, 'houses', 4096, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_Transform(h.location, 3857), ST_TileEnvelope($1, $2, $3), 4096, 64,
                        true) AS geom, h.id::text AS id, h.use
    FROM houses h
    WHERE h.status = 'active' AND h.location && ST_Transform(ST_TileEnvelope($1, $2, $3), 4326)
      AND h.path <@ $4::ltree
) AS features
"""
# Low zooms add up the point counts per cell (migration 0039) the window names.
TILE_CLUSTERS = """
SELECT ST_AsMVT(features.*, 'houses', 4096, 'geom') FROM (
    SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(sum(c.sum_x) / sum(c.n), sum(c.sum_y) / sum(c.n)),
                                   3857),
                        ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom, sum(c.n) AS count
    FROM map_cells c
    WHERE c.layer = 'houses' AND c.level = $5 AND c.cx BETWEEN $7 AND $8
      AND c.cy BETWEEN $9 AND $10 AND c.path <@ $4::ltree
    GROUP BY c.cx >> $6, c.cy >> $6
    HAVING sum(c.n) > 0
) AS features
"""
# The event goes in pointing at its first step: the foreign keys are checked at the end of
# the statement, when the step is in too (an UPDATE in the same statement would not see
# the new event).
REPORT = """
WITH g AS (SELECT id, path, parent_id FROM org_units WHERE id = $1),
c AS (SELECT o.id, o.path FROM org_units o JOIN g ON o.id = g.parent_id),
e AS (
    INSERT INTO events (id, service_no, title, category, subtype, grid_id, path, occurred_at,
        description, source, state, process, current_step_id, created_at, updated_at)
    SELECT $2, 'SJ' || to_char($5::timestamptz, 'YYYYMMDD')
               || lpad((nextval('event_service_no_seq') % 1000000)::text, 6, '0'),
           $3, 'livelihood', 'health', g.id, g.path, $5, $4, 'app', 'pending_accept',
           'default', $6, $5, $5
    FROM g RETURNING id, path
),
s AS (
    INSERT INTO event_steps (id, event_id, seq, unit_id, path, handler_path, assigned_at,
        accept_yellow_at, accept_red_at)
    SELECT $6, e.id, 1, c.id, e.path, c.path, $5, $5 + interval '24 hours',
           $5 + interval '48 hours'
    FROM e, c RETURNING id
)
INSERT INTO event_actions (id, event_id, step_id, path, action, to_state, payload, at)
SELECT gen_random_uuid(), e.id, s.id, e.path, 'report', 'pending_accept', '{}', $5
FROM e, s
"""
# The command centre's dashboard (services.command_centre): its statements as they compile.
OPEN_NAMES = frozenset(state.value for state in OPEN_STATES)
OPEN = ", ".join(f"'{name}'" for name in sorted(OPEN_NAMES))
CHILDREN = """
SELECT id, code, name, path FROM org_units
WHERE path <@ $1::ltree AND nlevel(path) = nlevel($1::ltree) + 1 AND deleted_at IS NULL
"""


def _card(levels: str) -> str:
    return (
        "EXISTS (SELECT * FROM supervisions s WHERE s.step_id = e.current_step_id"
        f" AND s.cleared_at IS NULL AND s.level IN ({levels}))"
    )


EVENT_COUNTS = f"""
SELECT child.id, e.state, count(*) AS total,
       count(*) FILTER (WHERE e.state IN ({OPEN}) AND {_card("'yellow', 'red'")}) AS overdue,
       count(*) FILTER (WHERE e.state IN ({OPEN}) AND {_card("'red'")}) AS red
FROM events e LEFT JOIN ({CHILDREN}) AS child ON e.path <@ child.path
WHERE e.path <@ $1::ltree GROUP BY child.id, e.state
"""
RED_SINCE = """(SELECT min(s.issued_at) FROM supervisions s WHERE s.step_id = e.current_step_id
    AND s.cleared_at IS NULL AND s.level = 'red')"""
RED_EVENTS = f"""
SELECT e.id, e.service_no, e.title, e.category, e.state, st.unit_id AS holder_unit_id,
       st.department_id AS holder_department_id,
       (SELECT o.name FROM org_units o WHERE o.id = st.unit_id) AS holder_name,
       {RED_SINCE} AS red_since
FROM events e JOIN event_steps st ON st.id = e.current_step_id
WHERE e.path <@ $1::ltree AND e.state IN ({OPEN}) AND {_card("'red'")}
ORDER BY {RED_SINCE}, e.service_no LIMIT 20
"""
WORKERS = """
SELECT user_id, full_name, ST_AsGeoJSON(location, 7) AS location, reported_at
FROM worker_positions
WHERE path <@ $1::ltree AND reported_at >= now() - interval '30 minutes'
ORDER BY full_name, user_id
"""
UNREAD = "FROM notifications WHERE user_id = $1 AND read_at IS NULL"
NOTICES = f"""
SELECT id, kind, title, target_type, target_id, created_at {UNREAD}
ORDER BY created_at DESC, id DESC LIMIT 5
"""

ON_DUTY = "path <@ $1::ltree AND reported_at >= now() - interval '30 minutes'"
FINGERPRINT = f"""
SELECT (SELECT coalesce(sum(version), 0) FROM board_versions WHERE path <@ $1::ltree),
       (SELECT count(*) FROM worker_positions WHERE {ON_DUTY}),
       (SELECT min(reported_at) FROM worker_positions WHERE {ON_DUTY}),
       (SELECT count(*) FROM notifications WHERE user_id = $2 AND read_at IS NULL),
       (SELECT max(created_at) FROM notifications WHERE user_id = $2 AND read_at IS NULL)
"""

SCOPE = os.environ.get("BENCH_SCOPE", "")
pool: asyncpg.Pool | None = None


@asynccontextmanager
async def _scoped() -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection in a transaction with the caller's RLS scope, as the product's
    request session has."""
    assert pool is not None
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute("SELECT set_config($1, $2, true)", SCOPE_SETTING, SCOPE)
        yield connection


async def _value(sql: str, *args: Any) -> Any:
    async with _scoped() as connection:
        return await connection.fetchval(sql, *args)


async def _unit_page(unit_id: uuid.UUID, limit: int = 50) -> dict[str, Any]:
    async with _scoped() as connection:
        total = await connection.fetchval(UNIT_TOTAL, unit_id, SCOPE)
        rows = await connection.fetch(UNIT_WALK, unit_id, SCOPE, limit + 1)
    return {"items": [dict(r) for r in rows[:limit]], "total": total}


async def _page(base: str, where: str, *args: Any, limit: int = 50) -> dict[str, Any]:
    async with _scoped() as connection:
        total = await connection.fetchval(f"SELECT count(*) FROM ({base}{where}) t", *args)
        rows = await connection.fetch(
            f"{base}{where} ORDER BY o.code, p.id LIMIT {limit + 1}", *args
        )
    return {"items": [dict(r) for r in rows[:limit]], "total": total}


async def _houses(area: str, *args: Any) -> dict[str, Any]:
    sql = HOUSES.format(where=HOUSES_WHERE.format(area=area))
    async with _scoped() as connection:
        total, items = await connection.fetchrow(sql, *args)
    return {"houses": {"total": total, "items": orjson.loads(items)[:50] if items else []}}


async def _summary(user_id: uuid.UUID) -> dict[str, Any]:
    async with _scoped() as connection:
        await connection.execute("SELECT set_config($1, $2, true)", USER_SETTING, str(user_id))
        counts = await connection.fetch(EVENT_COUNTS, SCOPE)
        children = await connection.fetch(f"{CHILDREN} ORDER BY code", SCOPE)
        workers = await connection.fetch(WORKERS, SCOPE)
        red = await connection.fetch(RED_EVENTS, SCOPE)
        unread = await connection.fetchval(f"SELECT count(*) {UNREAD}", user_id)
        notices = await connection.fetch(NOTICES, user_id)
    units = {
        row["id"]: {
            "unit_id": row["id"],
            "code": row["code"],
            "name": row["name"],
            "total": 0,
            "open": 0,
            "overdue": 0,
            "red": 0,
        }
        for row in children
    }
    states: dict[str, int] = {}
    for row in counts:
        states[row["state"]] = states.get(row["state"], 0) + row["total"]
        unit = units.get(row["id"])
        if unit is not None:
            unit["total"] += row["total"]
            unit["open"] += row["total"] if row["state"] in OPEN_NAMES else 0
            unit["overdue"] += row["overdue"]
            unit["red"] += row["red"]
    return {
        "states": dict(sorted(states.items())),
        "open": sum(count for state, count in states.items() if state in OPEN_NAMES),
        "units": list(units.values()),
        "red_events": [dict(r) for r in red],
        "workers_on_duty": len(workers),
        "workers": [{**dict(r), "location": orjson.loads(r["location"])} for r in workers],
        "notices": {"unread": unread, "latest": [dict(r) for r in notices]},
    }


async def _poll(scope: dict[str, Any], user_id: uuid.UUID, send: Any) -> None:
    """The dashboard as the product answers a poll: its fingerprint first, 304 when the
    screen's ETag still names it, the whole board otherwise."""
    async with _scoped() as connection:
        row = tuple(await connection.fetchrow(FINGERPRINT, SCOPE, user_id))
    tag = ('"' + hashlib.blake2b(repr(row).encode(), digest_size=12).hexdigest() + '"').encode()
    headers = [(b"etag", tag)]
    if dict(scope["headers"]).get(b"if-none-match") == tag:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    payload = orjson.dumps(await _summary(user_id), default=str)
    headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _route(method: str, path: str, query: dict[str, list[str]], body: bytes) -> Any:
    parts = path.strip("/").split("/")
    if parts == [""]:
        return {"floor": True}
    if parts[0] == "person":
        async with _scoped() as connection:
            row = await connection.fetchrow(PERSON_BY_ID, uuid.UUID(parts[1]), SCOPE)
        return dict(row) if row else None
    if parts[0] == "people" and "unit_id" in query:
        return await _unit_page(uuid.UUID(query["unit_id"][0]))
    if parts[0] == "people":
        q = query["q"][0]
        return await _page(PERSON, NAME_PEOPLE, f"%{q}%", SCOPE, q)
    if parts[0] == "map":
        area = orjson.loads(body)
        if "bbox" in area:
            return await _houses(BBOX, *area["bbox"])
        lon, lat = area["center"]
        radius = area["radius_m"]
        return await _houses(CIRCLE, lon, lat, radius, circle_degrees(lat, radius))
    if parts[0] == "tiles":
        z, x, y = (int(v) for v in parts[1:4])
        if z < CLUSTER_BELOW_ZOOM:
            w = cluster_window(z, x, y)
            cells = (w["level"], w["shift"], w["x0"], w["x1"], w["y0"], w["y1"])
            return await _value(TILE_CLUSTERS, z, x, y, SCOPE, *cells)
        return await _value(TILE_POINTS, z, x, y, SCOPE)
    if parts[0] == "events" and method == "POST":
        report = orjson.loads(body)
        event_id, step_id = uuid.uuid4(), uuid.uuid4()
        at = datetime.now(UTC)
        await _value(
            REPORT,
            uuid.UUID(report["grid_id"]),
            event_id,
            report["title"],
            report["description"],
            at,
            step_id,
        )
        return {"id": str(event_id)}
    raise LookupError(path)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global pool
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=5, max_size=10)
                await send({"type": "lifespan.startup.complete"})
        if pool is not None:
            await pool.close()
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    query = parse_qs(scope["query_string"].decode())
    if scope["path"] == "/summary":
        await _poll(scope, uuid.UUID(query["user_id"][0]), send)
        return
    result = await _route(scope["method"], scope["path"], query, body)
    if isinstance(result, bytes | None) and scope["path"].startswith("/tiles"):
        payload, kind = bytes(result or b""), b"application/vnd.mapbox-vector-tile"
    else:
        payload, kind = orjson.dumps(result, default=str), b"application/json"
    status = 404 if result is None and not scope["path"].startswith("/tiles") else 200
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]}
    )
    await send({"type": "http.response.body", "body": payload})
