"""Geometry from request bodies and query strings: parsed, validated, converted to WGS-84."""

from typing import Any

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from domain.coords import Crs, geometry_to_wgs84, to_wgs84
from domain.errors import FieldError, Invalid
from domain.geo import parse_geojson


def _with_field(field: str, exc: Invalid) -> Invalid:
    if not exc.errors:
        exc.errors = [FieldError(field, exc.code, exc.params)]
    return exc


def read_geometry(
    obj: dict[str, Any], crs: Crs, *, allowed: tuple[str, ...], field: str
) -> BaseGeometry:
    try:
        return geometry_to_wgs84(parse_geojson(obj, allowed=allowed), crs)
    except Invalid as exc:
        raise _with_field(field, exc) from exc


def read_polygon(obj: dict[str, Any], crs: Crs, field: str = "geometry") -> Polygon:
    polygon = read_geometry(obj, crs, allowed=("Polygon",), field=field)
    assert isinstance(polygon, Polygon)
    return polygon


def read_line(obj: dict[str, Any], crs: Crs, field: str = "line") -> LineString:
    line = read_geometry(obj, crs, allowed=("LineString",), field=field)
    assert isinstance(line, LineString)
    return line


def read_point(lon: float, lat: float, crs: Crs) -> Point:
    # NaN fails every comparison, so it is out of range too.
    bad = [name for name, ok in (("lon", -180 <= lon <= 180), ("lat", -90 <= lat <= 90)) if not ok]
    if bad:
        raise Invalid(
            "coordinate_out_of_range",
            errors=[FieldError(name, "coordinate_out_of_range") for name in bad],
        )
    return Point(*to_wgs84(lon, lat, crs))


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """`minLon,minLat,maxLon,maxLat` (WGS-84)."""
    try:
        parts = tuple(float(part) for part in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or not (
        -180 <= parts[0] < parts[2] <= 180 and -90 <= parts[1] < parts[3] <= 90
    ):
        raise Invalid(
            "validation_failed",
            errors=[FieldError("bbox", "field_invalid", {"detail": "minLon,minLat,maxLon,maxLat"})],
        )
    return parts[0], parts[1], parts[2], parts[3]
