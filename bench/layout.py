"""The benchmark city: the demo's 喀什市 with each community cut into many more grids, so a
city-scale data set has city-scale grids (4,000 at SCALE=2m). Pure; deterministic."""

import math
from dataclasses import replace
from functools import cache

import shapely
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from services.demo_layout import MIN_AREA_M2, PRECISION, DemoUnit, area_m2, kashgar_layout

# Grid codes are the community's code + 3 digits.
MAX_GRIDS_PER_COMMUNITY = 999


def _cells(geometry: BaseGeometry, count: int) -> list[Polygon]:
    """About `count` polygons tiling `geometry`: a rows × columns cut of its bounding box."""
    west, south, east, north = geometry.bounds
    # Cells of the box that miss the geometry yield nothing: cut the box finer to make up.
    boxed = count * (east - west) * (north - south) / geometry.area
    rows = max(1, round(math.sqrt(boxed * (north - south) / (east - west))))
    columns = max(1, math.ceil(boxed / rows))
    width, height = (east - west) / columns, (north - south) / rows
    cells: list[Polygon] = []
    for row in range(rows):
        for column in range(columns):
            cell = box(
                west + column * width,
                south + row * height,
                west + (column + 1) * width,
                south + (row + 1) * height,
            )
            piece = shapely.set_precision(geometry.intersection(cell), PRECISION)
            parts = getattr(piece, "geoms", [piece])
            cells.extend(p for p in parts if isinstance(p, Polygon) and area_m2(p) >= MIN_AREA_M2)
    return cells


def _refine(community: DemoUnit, count: int) -> DemoUnit:
    cells = _cells(community.geometry, count)[:MAX_GRIDS_PER_COMMUNITY]
    grids = tuple(
        DemoUnit(f"{community.code}{n:03d}", f"第{n}网格", "grid", cell, ())
        for n, cell in enumerate(cells, start=1)
    )
    return replace(community, children=grids)


@cache
def bench_layout(grids: int) -> DemoUnit:
    """The demo district with about `grids` grids in all, spread evenly over communities."""
    district = kashgar_layout()
    communities = sum(len(street.children) for street in district.children)
    per_community = max(1, round(grids / communities))
    streets = tuple(
        replace(street, children=tuple(_refine(c, per_community) for c in street.children))
        for street in district.children
    )
    return replace(district, children=streets)
