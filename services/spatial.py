"""Spatial SQL pieces shared by every query that touches geometry."""

from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, LargeBinary, bindparam, func


def geometry_param(geom: BaseGeometry) -> Any:
    """A shapely geometry as a bound WKB parameter in SRID 4326 (full precision)."""
    return func.ST_GeomFromWKB(bindparam(None, shapely.to_wkb(geom), type_=LargeBinary), 4326)


def boxed(column: Any, shape: Any) -> ColumnElement[bool]:
    """`column && shape`: the bounding-box test the GiST index answers. It is declared
    leakproof (migration 0002), so it can drive an index scan under row-level security,
    where ST_Intersects / ST_Covers / ST_DWithin alone cannot. Pair it with the exact test."""
    return column.op("&&")(shape)
