"""Coordinate reference conversion to WGS-84 (SPEC R-GRID-4).

Chinese map providers publish obfuscated coordinates: GCJ-02 (AMap, Tencent) and BD-09
(Baidu, GCJ-02 plus a further shift). Everything is stored in WGS-84, so input in those
systems is converted on the way in. The maths is `prcoords`; this module fixes its
(lat, lon) argument order to our (lon, lat) and its behaviour outside China.
"""

from enum import StrEnum
from typing import Any

import prcoords
import shapely
from shapely.geometry.base import BaseGeometry


class Crs(StrEnum):
    """Coordinate reference systems accepted on input."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def _gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    gcj = prcoords.Coords(lat, lon)
    # GCJ-02 equals WGS-84 outside China. prcoords' exact inverse ignores its own check
    # (it iterates the forward transform with the check off), so test the bounds here.
    if not prcoords.sanity_in_china_p(gcj):
        return lat, lon
    wgs = prcoords.gcj_wgs_bored(gcj)
    return wgs.lat, wgs.lon


def to_wgs84(lon: float, lat: float, crs: Crs) -> tuple[float, float]:
    """Convert one (lon, lat) point given in `crs` to WGS-84 (lon, lat).

    GCJ-02 uses the iterative exact inverse (well below 1e-6° error); BD-09 is first
    taken back to GCJ-02.
    """
    if crs is Crs.WGS84:
        return lon, lat
    if crs is Crs.BD09:
        gcj = prcoords.bd_gcj(prcoords.Coords(lat, lon))
        lat, lon = gcj.lat, gcj.lon
    wgs_lat, wgs_lon = _gcj02_to_wgs84(lat, lon)
    return wgs_lon, wgs_lat


def geometry_to_wgs84(geom: BaseGeometry, crs: Crs) -> BaseGeometry:
    """Convert every vertex of `geom` from `crs` to WGS-84 (2-D); WGS-84 input is returned as is."""
    if crs is Crs.WGS84:
        return geom

    def convert(coords: Any) -> list[tuple[float, float]]:
        # shapely hands over an (N, 2) array of lon/lat rows and takes any (N, 2) sequence back.
        return [to_wgs84(float(lon), float(lat), crs) for lon, lat in coords]

    return shapely.transform(geom, convert)
