"""Point counts per map cell for the low-zoom vector tiles (R-MAP-2).

Below zoom 14 a tile shows counted clusters. Grouping the points themselves costs a tile in
proportion to the points under it (a zoom-10 tile of the 2m benchmark city's houses took
4 s), so every layer keeps `map_cells`: per layer, record path (jurisdiction) and
web-mercator cell, the number of the layer's points there and the sums of their EPSG:3857
coordinates (a cluster's centroid is sum / count). Cells are kept at the levels (2^level
cells across the world) of the cluster cells of zooms 10 to 13, 16 (611 m) to 19 (76 m), so
a tile of those city-scale zooms adds up at most 64 × 64 cells whatever the number of
points; lower zooms add up level 16 (a whole city is a few thousand of its cells).

The write path keeps the table current: one statement-level trigger per layer table adds the
net change of each statement per cell (COPY and INSERT … SELECT pay once per statement, an
update that moves nothing on the map writes nothing). Cells are upserted in key order, so
concurrent statements take their cell locks in the same order. Emptied cells stay with a
zero count, and tiles skip them. The triggers write as the owner (SECURITY DEFINER): the app
role only reads the counts, under the same row-level security as everything else.

Revision ID: 0039
Revises: 0044
"""

from alembic import op

revision = "0039"
down_revision = "0044"
branch_labels = None
depends_on = None

# Each layer's table (named as the layer) and the condition under which a located row is on
# its map: services.map_layers has the same conditions (`Layer.active`), a test compares them.
LAYERS = {
    "people": "status = 'active'",
    "houses": "status = 'active'",
    "places": "status = 'followed'",
    "organisations": "status = 'active'",
    "components": "status = 'active'",
    "video_points": "status = 'active'",
    "events": "true",
    "worker_positions": "true",
    "addresses": "status = 'active'",
}

# Half the web-mercator world's width and a level-19 cell's side, in metres.
HALF_WORLD = 20037508.342789244
CELL = 2 * HALF_WORLD / 2**19

UPGRADE = f"""
CREATE TABLE map_cells (
    layer varchar(32) NOT NULL,
    level smallint NOT NULL,
    path ltree NOT NULL,
    cx integer NOT NULL,
    cy integer NOT NULL,
    n integer NOT NULL,
    sum_x double precision NOT NULL,
    sum_y double precision NOT NULL,
    CONSTRAINT pk_map_cells PRIMARY KEY (layer, level, cx, cy, path)
);
SELECT grid_registry_table('map_cells');
REVOKE INSERT, UPDATE ON map_cells FROM grid_app;

-- A point's cell at each level (columns from the west, rows from the north, as tiles count)
-- and its EPSG:3857 coordinates. The coarse cells are shifted from the fine ones, so they
-- nest exactly.
CREATE FUNCTION map_cells_of(location geometry)
RETURNS TABLE (level smallint, cx integer, cy integer, x double precision, y double precision)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT l.level, c.cx >> (19 - l.level), c.cy >> (19 - l.level), c.x, c.y
    FROM (
        SELECT floor((ST_X(m) + {HALF_WORLD}) / {CELL})::integer AS cx,
               floor(({HALF_WORLD} - ST_Y(m)) / {CELL})::integer AS cy, ST_X(m) AS x,
               ST_Y(m) AS y
        FROM ST_Transform(location, 3857) AS m
    ) AS c, (VALUES (16::smallint), (17::smallint), (18::smallint), (19::smallint)) AS l (level)
$$;

-- Adds points (sign 1) and takes them away (sign -1), cell by cell.
CREATE FUNCTION map_cells_apply(p_layer text, paths ltree[], points geometry[], signs integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO map_cells AS c (layer, level, path, cx, cy, n, sum_x, sum_y)
    SELECT p_layer, p.level, p.path, p.cx, p.cy, sum(p.n), sum(p.n * p.x), sum(p.n * p.y)
    FROM (
        -- Netted point by point first: floating-point sums would not cancel exactly.
        SELECT d.path, k.level, k.cx, k.cy, k.x, k.y, sum(d.sign) AS n
        FROM unnest(paths, points, signs) AS d (path, location, sign), map_cells_of(d.location) k
        GROUP BY d.path, k.level, k.cx, k.cy, k.x, k.y
        HAVING sum(d.sign) <> 0
    ) AS p
    GROUP BY p.level, p.cx, p.cy, p.path
    ORDER BY p.level, p.cx, p.cy, p.path
    ON CONFLICT (layer, level, cx, cy, path) DO UPDATE
        SET n = c.n + excluded.n, sum_x = c.sum_x + excluded.sum_x,
            sum_y = c.sum_y + excluded.sum_y;
END $$;
REVOKE ALL ON FUNCTION map_cells_apply(text, ltree[], geometry[], integer[]) FROM PUBLIC;
"""

TRACK = """
CREATE FUNCTION map_cells_{table}() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    paths ltree[];
    points geometry[];
    signs integer[];
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT array_agg(path), array_agg(location), array_agg(1) INTO paths, points, signs
        FROM new_rows WHERE location IS NOT NULL AND {active};
    END IF;
    IF TG_OP <> 'INSERT' THEN
        SELECT paths || array_agg(path), points || array_agg(location), signs || array_agg(-1)
        INTO paths, points, signs
        FROM old_rows WHERE location IS NOT NULL AND {active};
    END IF;
    IF signs IS NOT NULL THEN
        PERFORM map_cells_apply('{table}', paths, points, signs);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER map_cells_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION map_cells_{table}();
CREATE TRIGGER map_cells_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION map_cells_{table}();
CREATE TRIGGER map_cells_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION map_cells_{table}();
INSERT INTO map_cells (layer, level, path, cx, cy, n, sum_x, sum_y)
SELECT '{table}', k.level, t.path, k.cx, k.cy, count(*), sum(k.x), sum(k.y)
FROM {table} t, map_cells_of(t.location) k
WHERE t.location IS NOT NULL AND {active}
GROUP BY k.level, t.path, k.cx, k.cy;
"""


EVENTS = ("insert", "update", "delete")


def upgrade() -> None:
    op.execute(UPGRADE)
    for table, active in LAYERS.items():
        op.execute(TRACK.format(table=table, active=active))
    op.execute("ANALYZE map_cells")


def downgrade() -> None:
    for table in LAYERS:
        triggers = (f"DROP TRIGGER map_cells_{event} ON {table};" for event in EVENTS)
        op.execute("".join(triggers) + f"DROP FUNCTION map_cells_{table}();")
    op.execute(
        "DROP FUNCTION map_cells_apply(text, ltree[], geometry[], integer[]);"
        "DROP FUNCTION map_cells_of(geometry); DROP TABLE map_cells;"
    )
