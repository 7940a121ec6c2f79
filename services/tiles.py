"""Mapbox vector tiles per layer (R-MAP-2), made by PostGIS (`ST_AsMVT`) inside the caller's
jurisdiction. Tiles never carry personal fields (only ids and non-sensitive attributes), so
masking holds whoever looks; at low zoom points are clustered into counted cells so a tile
stays small whatever the density."""

from typing import Any

from sqlalchemy import String, func, literal_column, select

from domain.errors import FieldError, Invalid
from services.context import Ctx
from services.jurisdiction import in_scope
from services.map_layers import Layer
from services.pagination import AnySelect
from services.spatial import boxed

# Below this zoom a tile shows clusters (count per cell), from it individual points.
CLUSTER_BELOW_ZOOM = 14
CLUSTER_CELL_PIXELS = 64
TILE_EXTENT = 4096
WEB_MERCATOR_WORLD = 40_075_016.68557849


def check_tile(z: int, x: int, y: int) -> None:
    if not (0 <= z <= 22 and 0 <= x < 2**z and 0 <= y < 2**z):
        raise Invalid(
            "validation_failed",
            errors=[FieldError("tile", "field_invalid", {"detail": f"{z}/{x}/{y}"})],
        )


def tile_query(ctx: Ctx, layer: Layer, z: int, x: int, y: int) -> AnySelect:
    """The statement that makes the layer's MVT tile z/x/y (EPSG:3857) in jurisdiction."""
    check_tile(z, x, y)
    envelope = func.ST_TileEnvelope(z, x, y)
    in_tile = boxed(layer.geom, func.ST_Transform(envelope, 4326))
    where = (layer.active(), in_tile, in_scope(layer.model.path, ctx.principal))
    features = (
        _clusters(layer, envelope, where, z)
        if z < CLUSTER_BELOW_ZOOM
        else _points(layer, envelope, where)
    ).subquery("features")
    return select(
        func.ST_AsMVT(literal_column("features.*"), layer.name, TILE_EXTENT, "geom")
    ).select_from(features)


async def tile(ctx: Ctx, layer: Layer, z: int, x: int, y: int) -> bytes:
    """The layer's MVT tile z/x/y, empty bytes when nothing is there."""
    body = (await ctx.session.execute(tile_query(ctx, layer, z, x, y))).scalar_one()
    return bytes(body or b"")


def _mvt_geom(point: Any, envelope: Any) -> Any:
    return func.ST_AsMVTGeom(point, envelope, TILE_EXTENT, 64, True).label("geom")


def _points(layer: Layer, envelope: Any, where: tuple[Any, ...]) -> AnySelect:
    return select(
        _mvt_geom(func.ST_Transform(layer.geom, 3857), envelope),
        layer.model.id.cast(String).label("id"),
        *layer.tile_columns,
    ).where(*where)


def _clusters(layer: Layer, envelope: Any, where: tuple[Any, ...], z: int) -> AnySelect:
    cell = WEB_MERCATOR_WORLD / (2**z) / (TILE_EXTENT / CLUSTER_CELL_PIXELS)
    snapped = func.ST_SnapToGrid(func.ST_Transform(layer.geom, 3857), cell)
    return (
        select(
            _mvt_geom(
                func.ST_Centroid(func.ST_Collect(func.ST_Transform(layer.geom, 3857))), envelope
            ),
            func.count().label("count"),
        )
        .where(*where)
        .group_by(snapped)
    )
