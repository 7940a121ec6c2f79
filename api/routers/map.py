"""Map range queries and vector tiles (R-MAP-1, R-MAP-2)."""

from typing import Annotated

import orjson
from fastapi import APIRouter, Response

from api.deps import requires
from api.geometry import parse_bbox, read_geometry, read_point
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.map import LayerInfo, MapQuery, MapQueryResult
from domain.errors import FieldError, Invalid, PermissionDenied
from domain.permissions import Perm
from services import map_queries, tiles
from services.context import Ctx
from services.map_layers import LAYERS

router = APIRouter(prefix="/api/v1/map", tags=["map"], responses=PROBLEM_RESPONSES)

MVT = "application/vnd.mapbox-vector-tile"


@router.get("/layers", response_model=list[LayerInfo])
async def list_layers(ctx: Annotated[Ctx, requires(Perm.MAP_READ)]) -> list[LayerInfo]:
    """The layers the caller may query, with their filters."""
    return [
        LayerInfo(name=layer.name, title=layer.title, filters=sorted(layer.filters))
        for layer in LAYERS.values()
        if ctx.principal.can(layer.permission)
    ]


@router.post("/query", response_model=MapQueryResult)
async def query(body: MapQuery, ctx: Annotated[Ctx, requires(Perm.MAP_READ)]) -> Response:
    """Everything of the chosen layers inside one area: a unit (辖区), a box (拉框), a circle in
    metres (点圆) or a polygon (多边形); per layer a total, a keyset page and optional GeoJSON."""
    layers = await map_queries.query(
        ctx,
        _area(body),
        body.layers,
        filters=body.filters,
        cursors=body.cursors,
        limit=body.limit,
        with_geojson=body.geojson,
    )
    # Serialised as the service gives it (the document MapQueryResult declares): validating
    # it again on the way out would cost more than the query.
    return Response(orjson.dumps({"layers": layers}), media_type="application/json")


@router.get("/tiles/{layer}/{z}/{x}/{y}.mvt", response_class=Response)
async def vector_tile(
    layer: str, z: int, x: int, y: int, ctx: Annotated[Ctx, requires(Perm.MAP_READ)]
) -> Response:
    """A Mapbox vector tile of one layer, clustered below zoom 14, within jurisdiction."""
    found = LAYERS.get(layer)
    if found is None:
        raise Invalid("map_layer_unknown", params={"layer": layer})
    if not ctx.principal.can(found.permission):
        raise PermissionDenied()
    body = await tiles.tile(ctx, found, z, x, y)
    return Response(body, media_type=MVT, headers={"Cache-Control": "private, max-age=60"})


def _area(body: MapQuery) -> map_queries.Area:
    if body.bbox is not None:
        return map_queries.Area(bbox=parse_bbox(",".join(str(v) for v in body.bbox)))
    if body.center is not None and body.radius_m is not None:
        centre = read_point(body.center[0], body.center[1], body.crs)
        return map_queries.Area(centre=centre, radius_m=body.radius_m)
    if body.polygon is not None:
        polygon = read_geometry(
            body.polygon, body.crs, allowed=("Polygon", "MultiPolygon"), field="polygon"
        )
        return map_queries.Area(polygon=polygon)
    if body.unit_id is None:
        raise Invalid("validation_failed", errors=[FieldError("area", "field_required")])
    return map_queries.Area(unit_id=body.unit_id)
