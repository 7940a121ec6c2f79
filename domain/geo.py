"""GeoJSON parsing, validation and pure geometry operations (SPEC R-GRID-1, R-GRID-2).

Geometries are shapely objects in WGS-84 lon/lat degrees. Parsing checks the GeoJSON
structure itself rather than trusting shapely's constructors, so that each failure maps
to a stable error code with a readable reason.
"""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry import (
    LineString,
    MultiLineString,
    MultiPoint,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
)
from shapely.geometry.base import BaseGeometry
from shapely.ops import split
from shapely.validation import explain_validity

from domain.errors import Invalid

# Gaps narrower than this (degrees, about 1 cm) between merged polygons count as touching:
# hand-drawn or converted neighbours rarely share edges bit for bit.
SNAP_TOLERANCE = 1e-7

# GEOS reports problems as "Reason[x y]"; the bracket holds the location.
_LOCATED_REASON = re.compile(r"^(?P<reason>.*)\[(?P<x>\S+) (?P<y>\S+)\]$")

Position = tuple[float, float]


def _broken(reason: str) -> Invalid:
    return Invalid("geometry_invalid", params={"reason": reason})


# More vertices than any real boundary needs (a county's is a few thousand): beyond this a
# geometry is refused before shapely and PostGIS spend time on it.
MAX_VERTICES = 100_000


def _count_positions(value: Any, depth: int) -> int:
    """Positions in a GeoJSON coordinates array `depth` levels above the positions."""
    if not isinstance(value, list | tuple):
        return 1
    if depth <= 1:
        return len(value) if depth == 1 else 1
    return sum(_count_positions(part, depth - 1) for part in value)


_POSITION_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def _position(value: Any) -> Position:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise _broken("a position needs longitude and latitude")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise _broken("coordinates must be numbers")
    lon, lat = float(value[0]), float(value[1])
    # NaN fails both comparisons, so non-finite values land here too.
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise Invalid("coordinate_out_of_range")
    if not all(math.isfinite(float(v)) for v in value):  # a non-finite altitude
        raise Invalid("coordinate_out_of_range")
    # Altitude is dropped: the store is 2-D.
    return lon, lat


def _array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise _broken(f"{what} must be an array")
    if not value:
        raise _broken(f"empty {what}")
    return list(value)


def _positions(value: Any, what: str, minimum: int) -> list[Position]:
    points = [_position(p) for p in _array(value, what)]
    if len(points) < minimum:
        raise _broken(f"too few points in {what} (at least {minimum})")
    return points


def _ring(value: Any) -> list[Position]:
    points = _positions(value, "ring", 4)
    if points[0] != points[-1]:
        raise _broken("ring not closed")
    return points


def _polygon(value: Any) -> Polygon:
    rings = [_ring(r) for r in _array(value, "polygon")]
    return Polygon(rings[0], rings[1:])


def _build(kind: str, coordinates: Any) -> BaseGeometry:
    if kind == "Point":
        return Point(_position(coordinates))
    if kind == "MultiPoint":
        return MultiPoint(_positions(coordinates, "multipoint", 1))
    if kind == "LineString":
        return LineString(_positions(coordinates, "line", 2))
    if kind == "MultiLineString":
        parts = _array(coordinates, "multilinestring")
        return MultiLineString([_positions(p, "line", 2) for p in parts])
    if kind == "Polygon":
        return _polygon(coordinates)
    # MultiPolygon: the only GeoJSON type left that has coordinates.
    return MultiPolygon([_polygon(p) for p in _array(coordinates, "multipolygon")])


_COORDINATE_TYPES = frozenset(_POSITION_DEPTH)


def parse_geojson(obj: Mapping[str, Any], *, allowed: tuple[str, ...]) -> BaseGeometry:
    """Build a shapely geometry from a GeoJSON geometry object (RFC 7946, lon/lat).

    `allowed` lists the accepted GeoJSON types (coordinate types only, e.g. ("Polygon",)).
    Raises `Invalid` with code `geometry_type` for another type, `coordinate_out_of_range`
    for a non-finite or out-of-range coordinate, and `geometry_invalid` for broken
    structure or an OGC-invalid geometry; in the last case `extra["geometry"]` holds the
    problem location as a GeoJSON Point when GEOS names one.
    """
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    if kind not in allowed or kind not in _COORDINATE_TYPES:
        raise Invalid("geometry_type", params={"expected": " / ".join(allowed)})
    if "coordinates" not in obj:
        raise _broken("missing coordinates")
    if _count_positions(obj["coordinates"], _POSITION_DEPTH[kind]) > MAX_VERTICES:
        raise Invalid("geometry_too_complex", params={"max": MAX_VERTICES})
    geom = _build(kind, obj["coordinates"])
    if not shapely.is_valid(geom):
        raise _invalid_geometry(geom)
    return geom


def _invalid_geometry(geom: BaseGeometry) -> Invalid:
    explanation = explain_validity(geom)
    located = _LOCATED_REASON.match(explanation)
    if located is None:
        return _broken(explanation)
    where = Point(float(located["x"]), float(located["y"]))
    return Invalid(
        "geometry_invalid",
        params={"reason": located["reason"]},
        extra={"geometry": to_geojson(where)},
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """The GeoJSON geometry object of `geom`, as plain JSON (lists, never tuples)."""
    result: dict[str, Any] = _plain(mapping(geom))
    return result


def split_polygon(poly: Polygon, line: LineString) -> list[Polygon]:
    """Cut `poly` along `line`; the pieces, largest area first.

    Raises `Invalid("split_failed")` unless the line crosses the polygon into 2+ pieces.
    """
    if not poly.intersects(line):
        raise Invalid("split_failed")
    pieces = [p for p in split(poly, line).geoms if isinstance(p, Polygon) and p.area > 0]
    if len(pieces) < 2:
        raise Invalid("split_failed")
    return sorted(pieces, key=lambda p: p.area, reverse=True)


def merge_polygons(polys: Sequence[Polygon]) -> Polygon:
    """Union `polys` into one polygon.

    Parts closer than `SNAP_TOLERANCE` count as touching; polygons meeting only at a corner
    or farther apart raise `Invalid("grids_not_adjacent")`.
    """
    merged = shapely.union_all(list(polys))
    if not isinstance(merged, Polygon):
        # Morphological closing: grow every part by the tolerance, union, shrink back. It
        # bridges hairline gaps, yet parts meeting at one point fall apart again. Mitred
        # joins keep corners sharp; buffer output is always valid.
        grown = [p.buffer(SNAP_TOLERANCE, join_style="mitre") for p in polys]
        merged = shapely.union_all(grown).buffer(-SNAP_TOLERANCE, join_style="mitre")
    if not isinstance(merged, Polygon) or merged.is_empty:
        raise Invalid("grids_not_adjacent")
    return merged
