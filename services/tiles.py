"""Mapbox vector tiles per layer (R-MAP-2), made by PostGIS (`ST_AsMVT`) inside the caller's
jurisdiction. Tiles never carry personal fields (only ids and non-sensitive attributes), so
masking holds whoever looks. From zoom 14 a tile shows the points; below, counted clusters
on a grid of 64 × 64 cells a tile, added up from the layer's point counts per cell
(`map_cells`, migration 0039) so a tile costs the same whatever the number of points.

Each statement is built and compiled once (per layer and kind of caller) and run with the
tile's values bound: building, keying and compiling a statement costs more than PostgreSQL
takes for most tiles."""

from functools import cache
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, literal_column, select

from domain.errors import FieldError, Invalid
from services.context import Ctx
from services.jurisdiction import in_scope_param, scope_params
from services.map_layers import LAYERS, Layer
from services.models import MapCell
from services.pagination import AnySelect
from services.prepared import Prepared
from services.spatial import boxed

CLUSTER_BELOW_ZOOM = 14
CLUSTER_CELL_PIXELS = 64
TILE_EXTENT = 4096
# The cluster cells of a zoom-z tile are the cells of level z + 6 (64 a side); map_cells
# holds those of zooms 10 to 13 (migration 0039), lower zooms add up level 16.
CLUSTER_DEPTH = (TILE_EXTENT // CLUSTER_CELL_PIXELS).bit_length() - 1
CELL_LEVELS = (16, 17, 18, 19)

Params = dict[str, Any]


def check_tile(z: int, x: int, y: int) -> None:
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise Invalid(
            "validation_failed",
            errors=[FieldError("tile", "field_invalid", {"detail": f"{z}/{x}/{y}"})],
        )


def tile_query(ctx: Ctx, layer: Layer, z: int, x: int, y: int) -> tuple[Prepared, Params]:
    """The statement that makes the layer's MVT tile z/x/y (EPSG:3857) in jurisdiction, and
    the values to run it with."""
    check_tile(z, x, y)
    whole_tree = ctx.principal.sees_everything
    params: Params = {"z": z, "x": x, "y": y, **scope_params(ctx.principal)}
    if z >= CLUSTER_BELOW_ZOOM:
        return _points(layer.name, whole_tree), params
    params |= {"layer": layer.name, **cluster_window(z, x, y)}
    return _clusters(whole_tree), params


def cluster_window(z: int, x: int, y: int) -> dict[str, int]:
    """Where the clusters of tile z/x/y (z < 14) come from: the `map_cells` level, the range
    of its cells under the tile and the shift that groups them into 64 × 64 clusters."""
    level = min(level for level in CELL_LEVELS if level >= z + CLUSTER_DEPTH)
    span = level - z
    return {
        "level": level,
        "shift": level - z - CLUSTER_DEPTH,
        "x0": x << span,
        "x1": ((x + 1) << span) - 1,
        "y0": y << span,
        "y1": ((y + 1) << span) - 1,
    }


async def tile(ctx: Ctx, layer: Layer, z: int, x: int, y: int) -> bytes:
    """The layer's MVT tile z/x/y, empty bytes when nothing is there."""
    prepared, params = tile_query(ctx, layer, z, x, y)
    body = await prepared.value(ctx.session, params)
    return bytes(body or b"")


def _envelope() -> Any:
    return func.ST_TileEnvelope(
        bindparam("z", type_=Integer), bindparam("x", type_=Integer), bindparam("y", type_=Integer)
    )


def _mvt(features: Any, name: Any) -> AnySelect:
    return select(
        func.ST_AsMVT(literal_column(f"{features.name}.*"), name, TILE_EXTENT, "geom")
    ).select_from(features)


def _mvt_geom(point: Any) -> Any:
    return func.ST_AsMVTGeom(point, _envelope(), TILE_EXTENT, 64, True).label("geom")


@cache
def _points(layer_name: str, whole_tree: bool) -> Prepared:
    layer = LAYERS[layer_name]
    features = (
        select(
            _mvt_geom(func.ST_Transform(layer.geom, 3857)),
            layer.model.id.cast(String).label("id"),
            *layer.tile_columns,
        )
        .where(
            layer.active(),
            boxed(layer.geom, func.ST_Transform(_envelope(), 4326)),
            in_scope_param(layer.model.path, everything=whole_tree),
        )
        .subquery("features")
    )
    return Prepared(_mvt(features, layer.name))


@cache
def _clusters(whole_tree: bool) -> Prepared:
    shift = bindparam("shift", type_=Integer)
    count = func.sum(MapCell.n)
    # `op("/")`: SQLAlchemy's own division would make the count NUMERIC.
    centroid = func.ST_MakePoint(
        func.sum(MapCell.sum_x).op("/")(count), func.sum(MapCell.sum_y).op("/")(count)
    )
    features = (
        select(_mvt_geom(func.ST_SetSRID(centroid, 3857)), count.label("count"))
        .where(
            MapCell.layer == bindparam("layer"),
            MapCell.level == bindparam("level"),
            MapCell.cx.between(bindparam("x0"), bindparam("x1")),
            MapCell.cy.between(bindparam("y0"), bindparam("y1")),
            in_scope_param(MapCell.path, everything=whole_tree),
        )
        .group_by(MapCell.cx.op(">>")(shift), MapCell.cy.op(">>")(shift))
        # Cells whose points all left keep a zero count.
        .having(count > 0)
        .subquery("features")
    )
    return Prepared(_mvt(features, bindparam("layer", type_=String)))
