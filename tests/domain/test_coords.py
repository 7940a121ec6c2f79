"""R-GRID-4: GCJ-02 and BD-09 input is converted to WGS-84.

Reference pairs are the widely published outputs of the standard algorithm for
WGS-84 (116.404, 39.915) → GCJ-02, GCJ-02 (116.404, 39.915) → BD-09 and
BD-09 (116.404, 39.915) → GCJ-02.
"""

import math

import prcoords
import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from domain.coords import Crs, geometry_to_wgs84, to_wgs84

BEIJING_WGS84 = (116.404, 39.915)
BEIJING_GCJ02 = (116.41024449916938, 39.91640428150164)
GCJ02_AS_BD09 = (116.41036949371029, 39.92133699351021)


def test_r_grid_4_gcj02_reference_pair() -> None:
    """R-GRID-4: the published GCJ-02 image of a WGS-84 point converts back within 1e-6°."""
    lon, lat = to_wgs84(*BEIJING_GCJ02, Crs.GCJ02)
    assert lon == pytest.approx(BEIJING_WGS84[0], abs=1e-6)
    assert lat == pytest.approx(BEIJING_WGS84[1], abs=1e-6)


@pytest.mark.parametrize(
    ("bd09", "gcj02"),
    [
        (GCJ02_AS_BD09, (116.404, 39.915)),
        ((116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    ],
)
def test_r_grid_4_bd09_reference_pairs(
    bd09: tuple[float, float], gcj02: tuple[float, float]
) -> None:
    """R-GRID-4: BD-09 goes through its published GCJ-02 image on the way to WGS-84."""
    lon, lat = to_wgs84(*bd09, Crs.BD09)
    expected = to_wgs84(*gcj02, Crs.GCJ02)
    assert lon == pytest.approx(expected[0], abs=1e-5)
    assert lat == pytest.approx(expected[1], abs=1e-5)


def test_r_grid_4_bd09_of_gcj02_image_returns_to_wgs84() -> None:
    """R-GRID-4: WGS-84 → GCJ-02 → BD-09 (reference maths) → to_wgs84 is the identity."""
    bd = prcoords.gcj_bd(prcoords.Coords(BEIJING_GCJ02[1], BEIJING_GCJ02[0]))
    lon, lat = to_wgs84(bd.lon, bd.lat, Crs.BD09)
    assert lon == pytest.approx(BEIJING_WGS84[0], abs=1e-5)
    assert lat == pytest.approx(BEIJING_WGS84[1], abs=1e-5)


def test_r_grid_4_wgs84_is_unchanged() -> None:
    assert to_wgs84(*BEIJING_WGS84, Crs.WGS84) == BEIJING_WGS84


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("crs", [Crs.GCJ02, Crs.WGS84])
def test_r_grid_4_outside_china_gcj02_is_wgs84(crs: Crs) -> None:
    """R-GRID-4: GCJ-02 is only offset inside China; Paris stays put (and nothing warns)."""
    assert to_wgs84(2.3522, 48.8566, crs) == (2.3522, 48.8566)


@given(
    lon=st.floats(min_value=73, max_value=135),
    lat=st.floats(min_value=18, max_value=53),
)
def test_r_grid_4_gcj02_round_trip(lon: float, lat: float) -> None:
    """R-GRID-4: WGS-84 → GCJ-02 (reference maths) → to_wgs84 is the identity within 1e-6°."""
    gcj = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
    back_lon, back_lat = to_wgs84(gcj.lon, gcj.lat, Crs.GCJ02)
    assert back_lon == pytest.approx(lon, abs=1e-6)
    assert back_lat == pytest.approx(lat, abs=1e-6)


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return prcoords.Coords(a[1], a[0]).distance(prcoords.Coords(b[1], b[0]))


def test_r_grid_4_geometry_every_vertex_converted() -> None:
    """R-GRID-4: a Kashgar polygon keeps its vertices, each moved by the point conversion."""
    ring = [(75.98, 39.46), (76.01, 39.46), (76.01, 39.48), (75.99, 39.49), (75.98, 39.46)]
    converted = geometry_to_wgs84(Polygon(ring), Crs.GCJ02)
    assert isinstance(converted, Polygon) and converted.is_valid
    out = list(converted.exterior.coords)
    assert len(out) == len(ring)
    for before, after in zip(ring, out, strict=True):
        assert after == pytest.approx(to_wgs84(*before, Crs.GCJ02), abs=1e-12)
        assert 1 < _metres(before, after) < 1000


def test_r_grid_4_geometry_wgs84_returned_unchanged() -> None:
    point = Point(75.99, 39.47)
    assert geometry_to_wgs84(point, Crs.WGS84) is point


def test_r_grid_4_geometry_bd09() -> None:
    converted = geometry_to_wgs84(Point(*GCJ02_AS_BD09), Crs.BD09)
    expected = to_wgs84(*GCJ02_AS_BD09, Crs.BD09)
    assert math.dist((converted.x, converted.y), expected) < 1e-12
