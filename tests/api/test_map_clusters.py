"""Low-zoom vector tiles (R-MAP-2): below zoom 14 a tile shows counted clusters added up from
the point counts per map cell (`map_cells`, migration 0039), which the write path keeps
current — they always equal the layer's points counted afresh, in jurisdiction."""

import math
import random
import uuid
from collections import Counter
from typing import Any

import asyncpg
import mapbox_vector_tile
from httpx import AsyncClient
from sqlalchemy import func, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.map_layers import LAYERS, Layer
from services.models import MapCell
from services.tiles import CELL_LEVELS
from tests.api.test_map import add_person, populate_every_layer, tile_of
from tests.conftest import TEST_DB, MovableClock
from tests.factories import World, auth

EARTH_RADIUS = 6_378_137.0
HALF_WORLD = math.pi * EARTH_RADIUS
FINEST_CELL = 2 * HALF_WORLD / 2**19
SUPERUSER_DSN = f"postgresql://postgres@127.0.0.1:5432/{TEST_DB}"


def mercator(lon: float, lat: float) -> tuple[float, float]:
    return (
        math.radians(lon) * EARTH_RADIUS,
        math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS,
    )


def lon_lat(x: float, y: float) -> tuple[float, float]:
    return (
        math.degrees(x / EARTH_RADIUS),
        math.degrees(2 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2),
    )


async def fetch_tile(
    client: AsyncClient, user: Any, clock: MovableClock, layer: str, z: int, x: int, y: int
) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/map/tiles/{layer}/{z}/{x}/{y}.mvt", headers=auth(user, clock))
    assert r.status_code == 200, r.text
    if not r.content:
        return []
    decoded = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    features: list[dict[str, Any]] = decoded[layer]["features"]
    return features


async def scatter_people(
    session: AsyncSession, world: World, count: int, seed: int
) -> list[tuple[float, float]]:
    """`count` people spread over grids G1 and G2, written grid by grid in one statement
    each (the way imports and the demo loader write)."""
    rng = random.Random(seed)
    points = [(rng.uniform(75.9005, 75.9995), rng.uniform(39.4005, 39.4495)) for _ in range(count)]
    await set_scope(session, SYSTEM_SCOPE)
    for index, grid in enumerate((world.g1, world.g2)):
        mine = [p for p in points if (p[0] < 75.95) == (grid is world.g1)]
        await session.execute(
            text(
                "INSERT INTO people (id, grid_id, path, kind, id_number, name, no_house_reason,"
                " location, created_at, updated_at)"
                " SELECT gen_random_uuid(), :grid, CAST(:path AS ltree), 'registered',"
                "  :prefix || lpad(i::text, 8, '0'), '居民', '无',"
                "  ST_SetSRID(ST_MakePoint(lon, lat), 4326), now(), now()"
                " FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]))"
                "  WITH ORDINALITY AS p (lon, lat, i)"
            ),
            {
                "grid": grid.id,
                "path": grid.path,
                # A prefix per grid: ID numbers are unique.
                "prefix": f"6531019{index:03d}",
                "lons": [p[0] for p in mine],
                "lats": [p[1] for p in mine],
            },
        )
    return points


async def test_low_zoom_tiles_count_every_point_under_them_at_every_cluster_zoom_r_map_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """From zoom 6 to 13 (every cell level), each tile's clusters add up to the points under
    the tile, on a grid of at most 64 × 64 clusters; a grid worker counts their grid only."""
    points = await scatter_people(session, world, 600, seed=11)
    for z in range(6, 14):
        expected = Counter(tile_of(lon, lat, z) for lon, lat in points)
        for (x, y), count in expected.items():
            features = await fetch_tile(client, world.admin_d, clock, "people", z, x, y)
            assert sum(f["properties"]["count"] for f in features) == count, (z, x, y)
            assert 0 < len(features) <= 64 * 64
            for feature in features:
                assert all(0 <= c <= 4096 for c in feature["geometry"]["coordinates"])
        if z == 12:
            worker = [
                f["properties"]["count"]
                for x, y in expected
                for f in await fetch_tile(client, world.worker_g1, clock, "people", z, x, y)
            ]
            assert sum(worker) == sum(1 for lon, _ in points if lon < 75.95)


async def test_a_cluster_sits_at_the_centroid_of_its_points_r_map_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Three people in one 76 m cell make one zoom-13 cluster, drawn where their mean is."""
    x, y = mercator(75.91, 39.41)
    cell_x, cell_y = (
        math.floor((x + HALF_WORLD) / FINEST_CELL),
        math.floor((HALF_WORLD - y) / FINEST_CELL),
    )
    centre = (cell_x + 0.5) * FINEST_CELL - HALF_WORLD, HALF_WORLD - (cell_y + 0.5) * FINEST_CELL
    offsets = [(-30.0, 20.0), (10.0, -25.0), (28.0, 29.0)]
    for dx, dy in offsets:
        await add_person(session, world.g1, *lon_lat(centre[0] + dx, centre[1] + dy))
    z = 13
    tile_size = 2 * HALF_WORLD / 2**z
    tx, ty = tile_of(*lon_lat(*centre), z)
    [feature] = await fetch_tile(client, world.admin_d, clock, "people", z, tx, ty)
    assert feature["properties"] == {"count": 3}
    mean_x = centre[0] + sum(dx for dx, _ in offsets) / 3
    mean_y = centre[1] + sum(dy for _, dy in offsets) / 3
    pixel_x = (mean_x + HALF_WORLD - tx * tile_size) / tile_size * 4096
    pixel_y = (HALF_WORLD - mean_y - ty * tile_size) / tile_size * 4096
    drawn_x, drawn_y = feature["geometry"]["coordinates"]
    assert abs(drawn_x - pixel_x) <= 1 and abs(drawn_y - pixel_y) <= 1


async def cells(session: AsyncSession, layer: Layer) -> dict[tuple[Any, ...], int]:
    """The layer's non-empty map cells as kept by the write path."""
    rows = await session.execute(
        select(MapCell.level, MapCell.path, MapCell.cx, MapCell.cy, MapCell.n).where(
            MapCell.layer == layer.name, MapCell.n != 0
        )
    )
    return {tuple(row[:4]): row.n for row in rows}


async def counted_afresh(session: AsyncSession, layer: Layer) -> dict[tuple[Any, ...], int]:
    """The same cells counted from the layer's table, by the layer's own definition of what
    is on its map (`Layer.active`)."""
    cell = func.map_cells_of(layer.geom).table_valued("level", "cx", "cy").lateral()
    rows = await session.execute(
        select(cell.c.level, layer.model.path, cell.c.cx, cell.c.cy, func.count())
        .select_from(layer.model)
        .join(cell, true())
        .where(layer.active(), layer.geom.is_not(None))
        .group_by(cell.c.level, layer.model.path, cell.c.cx, cell.c.cy)
    )
    return {tuple(row[:4]): row[4] for row in rows}


async def test_the_cell_counts_of_every_layer_follow_its_writes_r_map_2(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Records of every layer written through the services, then moved, moved to another
    grid and taken off the map by status: each layer's cells equal its points counted
    afresh with the layer's own `active` condition (the triggers of migration 0039 and
    services.map_layers agree)."""
    await populate_every_layer(session, world, clock)
    await set_scope(session, SYSTEM_SCOPE)
    for layer in LAYERS.values():
        assert await cells(session, layer) == await counted_afresh(session, layer), layer.name
        assert await cells(session, layer), layer.name
    g3 = {"grid": world.g3.id, "path": world.g3.path}
    for table in LAYERS:
        await session.execute(
            text(f"UPDATE {table} SET location = ST_Translate(location, 0.011, 0.007)")
        )
    for table in ("people", "houses"):
        await session.execute(
            text(
                f"UPDATE {table} SET grid_id = :grid, path = CAST(:path AS ltree)"
                f" WHERE id = (SELECT min(id::text)::uuid FROM {table})"
            ),
            g3,
        )
    await session.execute(text("UPDATE places SET status = 'unfollowed'"))
    last = "(SELECT max(id::text)::uuid FROM people)"
    await session.execute(text(f"UPDATE people SET status = 'deregistered' WHERE id = {last}"))
    for layer in LAYERS.values():
        assert await cells(session, layer) == await counted_afresh(session, layer), layer.name
    assert await cells(session, LAYERS["places"]) == {}


async def test_an_edit_that_moves_nothing_writes_no_cell_r_map_2(
    session: AsyncSession, world: World
) -> None:
    """Most updates of located records change no point on the map: their cells are left
    alone (no write, no lock taken on a cell shared with concurrent writers)."""
    for i in range(5):
        await add_person(session, world.g1, 75.91 + i * 0.001, 39.41, name=f"张{i}")
    versions = text("SELECT level, cx, cy, xmin::text FROM map_cells WHERE layer = 'people'")
    before = set((await session.execute(versions)).all())
    await session.execute(text("UPDATE people SET name = '李四', updated_at = now()"))
    assert set((await session.execute(versions)).all()) == before


async def test_low_zoom_tiles_follow_a_record_moved_or_taken_off_the_map_r_map_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Through the HTTP tiles: a person moved to a far tile leaves the old one; one moved to
    grid G3 counts for street S2's admin and no longer for S1's; a deregistered one is gone."""
    here, there = (75.91, 39.41), (75.99, 39.44)
    people = [await add_person(session, world.g1, *here, name=f"王{i}") for i in range(3)]
    z = 12
    assert tile_of(*here, z) != tile_of(*there, z)

    async def count(user: Any, point: tuple[float, float]) -> int:
        tile = await fetch_tile(client, user, clock, "people", z, *tile_of(*point, z))
        return sum(f["properties"]["count"] for f in tile)

    async def write(sql: str, **values: Any) -> None:
        # Each tile request left its caller's scope on the shared transaction.
        await set_scope(session, SYSTEM_SCOPE)
        await session.execute(text(sql), values)

    assert await count(world.admin_s1, here) == 3
    await write(
        "UPDATE people SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) WHERE id = :id",
        id=people[0].id,
        lon=there[0],
        lat=there[1],
    )
    assert (await count(world.admin_s1, here), await count(world.admin_s1, there)) == (2, 1)
    await write(
        "UPDATE people SET grid_id = :grid, path = CAST(:path AS ltree) WHERE id = :id",
        grid=world.g3.id,
        path=world.g3.path,
        id=people[1].id,
    )
    assert (await count(world.admin_s1, here), await count(world.admin_s2, here)) == (1, 1)
    await write("UPDATE people SET status = 'deregistered' WHERE id = :id", id=people[2].id)
    assert (await count(world.admin_s1, here), await count(world.admin_d, here)) == (0, 1)


async def test_rows_deleted_behind_the_application_leave_their_cells() -> None:
    """The application never deletes a located record, the owner may: the delete trigger
    takes the points away too. One rolled-back transaction as the superuser."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("SELECT set_config('grid.scope', '*', true)")
        unit = uuid.uuid4()
        await conn.execute(
            "INSERT INTO org_units (id, code, name, level, path)"
            " VALUES ($1, '659999000000', '测试区', 'district', $2::ltree)",
            unit,
            unit.hex,
        )
        await conn.execute(
            "INSERT INTO houses (id, grid_id, path, house_no, address, location)"
            " SELECT gen_random_uuid(), $1, $2::ltree, 'H' || i, '测试路' || i || '号',"
            "  ST_SetSRID(ST_MakePoint(75.91 + i * 0.0001, 39.41), 4326)"
            " FROM generate_series(1, 4) AS i",
            unit,
            unit.hex,
        )
        total = "SELECT sum(n) FROM map_cells WHERE layer = 'houses' AND path = $1::ltree"
        assert await conn.fetchval(total, unit.hex) == 4 * len(CELL_LEVELS)
        await conn.execute("DELETE FROM houses WHERE grid_id = $1 AND house_no <> 'H4'", unit)
        assert await conn.fetchval(total, unit.hex) == 1 * len(CELL_LEVELS)
    finally:
        await transaction.rollback()
        await conn.close()
