"""The demo city 喀什市: real boundary (R-GRID-4 converted) tiled by generated units."""

from collections.abc import Iterator
from itertools import combinations

import pytest
import shapely
from shapely.geometry import Polygon

from services.demo_layout import (
    STREET_NAMES,
    DemoUnit,
    kashgar_boundary_gcj02,
    kashgar_layout,
)

CHILD_LEVEL = {"district": "street", "street": "community", "community": "grid"}
# 1e-10 deg² is about 1 m² at this latitude; 1e-12 about 0.01 m².
COVER_TOLERANCE = 1e-10
OVERLAP_TOLERANCE = 1e-12


def _walk(unit: DemoUnit) -> Iterator[DemoUnit]:
    yield unit
    for child in unit.children:
        yield from _walk(child)


def _parents(unit: DemoUnit) -> Iterator[DemoUnit]:
    return (u for u in _walk(unit) if u.children)


@pytest.fixture(scope="module")
def district() -> DemoUnit:
    return kashgar_layout()


def test_district(district: DemoUnit) -> None:
    assert (district.code, district.name, district.level) == ("653101000000", "喀什市", "district")
    assert district.geometry.geom_type == "MultiPolygon"
    assert [s.name for s in district.children] == list(STREET_NAMES)


def test_deterministic(district: DemoUnit) -> None:
    kashgar_layout.cache_clear()
    again = kashgar_layout()
    assert [(u.code, u.name, u.geometry.wkb) for u in _walk(again)] == [
        (u.code, u.name, u.geometry.wkb) for u in _walk(district)
    ]


def test_codes_well_formed_and_unique(district: DemoUnit) -> None:
    units = list(_walk(district))
    assert len({u.code for u in units}) == len(units)
    for parent in _parents(district):
        assert all(child.level == CHILD_LEVEL[parent.level] for child in parent.children)
    for street in district.children:
        assert street.code[:6] == "653101" and street.code[9:] == "000"
        assert len(street.code) == 12 and street.code.isdigit()
        assert 3 <= len(street.children) <= 4
        for community in street.children:
            assert len(community.code) == 12 and community.code.isdigit()
            assert community.code[:9] == street.code[:9] and community.code[9:] != "000"
            assert community.name.endswith("社区")
            assert community.children
            for n, grid in enumerate(community.children, start=1):
                assert grid.code == f"{community.code}{n:03d}"
                assert grid.name == f"第{n}网格"
                assert grid.children == ()


def test_every_geometry_valid_and_grids_are_polygons(district: DemoUnit) -> None:
    for unit in _walk(district):
        assert unit.geometry.is_valid, unit.code
        assert not unit.geometry.is_empty, unit.code
        if unit.level == "grid":
            assert isinstance(unit.geometry, Polygon), unit.code


def test_children_inside_parent_and_disjoint(district: DemoUnit) -> None:
    for parent in _parents(district):
        for child in parent.children:
            assert child.geometry.difference(parent.geometry).area < COVER_TOLERANCE, child.code
        for a, b in combinations(parent.children, 2):
            overlap = a.geometry.intersection(b.geometry).area
            assert overlap < OVERLAP_TOLERANCE, (a.code, b.code)


def test_grid_count(district: DemoUnit) -> None:
    grids = [u for u in _walk(district) if u.level == "grid"]
    assert 60 <= len(grids) <= 250


def test_streets_cover_district(district: DemoUnit) -> None:
    streets = shapely.union_all([s.geometry for s in district.children])
    assert streets.area >= 0.99 * district.geometry.area


def test_r_grid_4_boundary_converted_to_wgs84(district: DemoUnit) -> None:
    """R-GRID-4: the AMap (GCJ-02) boundary lands on Kashgar in WGS-84, visibly shifted."""
    centroid = district.geometry.centroid
    assert abs(centroid.x - 75.99) < 0.3
    assert abs(centroid.y - 39.47) < 0.3
    raw = kashgar_boundary_gcj02().centroid
    assert max(abs(raw.x - centroid.x), abs(raw.y - centroid.y)) > 0.0005
