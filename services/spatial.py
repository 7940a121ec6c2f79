"""Spatial SQL pieces shared by every query that touches geometry."""

from typing import Any

import shapely
from geoalchemy2 import Geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, LargeBinary, String, bindparam, cast, func


def geometry_param(geom: BaseGeometry) -> Any:
    """A shapely geometry as a bound WKB parameter in SRID 4326 (full precision)."""
    return func.ST_GeomFromWKB(bindparam(None, shapely.to_wkb(geom), type_=LargeBinary), 4326)


def geometry_bind(name: str) -> Any:
    """A named geometry parameter in SRID 4326, for statements built once and run with many
    geometries; its value is `geometry_value(...)`."""
    return cast(bindparam(name, type_=String), Geometry(srid=4326))


def geometry_value(geom: BaseGeometry) -> str:
    """A shapely geometry as hex EWKB in SRID 4326 (full precision), the value of a
    `geometry_bind` parameter."""
    return shapely.to_wkb(shapely.set_srid(geom, 4326), hex=True, include_srid=True)


def boxed(column: Any, shape: Any) -> ColumnElement[bool]:
    """`column && shape`: the bounding-box test the GiST index answers. It is declared
    leakproof (migration 0002), so it can drive an index scan under row-level security,
    where ST_Intersects / ST_Covers / ST_DWithin alone cannot. Pair it with the exact test."""
    return column.op("&&")(shape)
