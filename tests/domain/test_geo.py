"""R-GRID-1 / R-GRID-2: GeoJSON validation and grid geometry operations."""

import json
import math
from typing import Any

import pytest
from shapely.geometry import LineString, MultiPolygon, Polygon, box, shape

from domain.errors import Invalid
from domain.geo import merge_polygons, parse_geojson, split_polygon, to_geojson

POLYGON = ("Polygon",)
SQUARE = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]


def _poly(coordinates: Any) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": coordinates}


def test_r_grid_1_valid_polygon() -> None:
    geom = parse_geojson(_poly(SQUARE), allowed=POLYGON)
    assert isinstance(geom, Polygon)
    assert geom.area == 1


@pytest.mark.parametrize(
    ("obj", "allowed", "geom_type"),
    [
        (_poly(SQUARE), ("Polygon", "MultiPolygon"), "Polygon"),
        ({"type": "MultiPolygon", "coordinates": [SQUARE]}, ("MultiPolygon",), "MultiPolygon"),
        ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, ("LineString",), "LineString"),
        ({"type": "Point", "coordinates": [75.99, 39.47, 1300.0]}, ("Point",), "Point"),
        # Extra members (a Feature's "properties", a bbox) are ignored.
        ({**_poly(SQUARE), "bbox": [0, 0, 1, 1]}, POLYGON, "Polygon"),
    ],
)
def test_r_grid_1_accepted(obj: dict[str, Any], allowed: tuple[str, ...], geom_type: str) -> None:
    geom = parse_geojson(obj, allowed=allowed)
    assert geom.geom_type == geom_type
    assert not geom.has_z


@pytest.mark.parametrize(
    ("obj", "allowed", "code", "params"),
    [
        pytest.param(
            {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            POLYGON,
            "geometry_type",
            {"expected": "Polygon"},
            id="wrong type",
        ),
        pytest.param(
            {"type": "MultiPolygon", "coordinates": [SQUARE]},
            ("Polygon", "LineString"),
            "geometry_type",
            {"expected": "Polygon / LineString"},
            id="type not among several",
        ),
        pytest.param(
            {"coordinates": SQUARE}, POLYGON, "geometry_type", {"expected": "Polygon"}, id="no type"
        ),
        pytest.param(
            _poly([[[0, 0], [200, 0], [200, 1], [0, 0]]]),
            POLYGON,
            "coordinate_out_of_range",
            {},
            id="lon 200",
        ),
        pytest.param(
            _poly([[[0, 0], [1, -91], [1, 1], [0, 0]]]),
            POLYGON,
            "coordinate_out_of_range",
            {},
            id="lat -91",
        ),
        pytest.param(
            _poly([[[0, 0], [math.nan, 0], [1, 1], [0, 0]]]),
            POLYGON,
            "coordinate_out_of_range",
            {},
            id="NaN",
        ),
        pytest.param(
            _poly([[[0, 0], [math.inf, 0], [1, 1], [0, 0]]]),
            POLYGON,
            "coordinate_out_of_range",
            {},
            id="infinity",
        ),
        pytest.param(
            _poly([[[0, 0], [1, 0], [1, 1], [0, 1]]]),
            POLYGON,
            "geometry_invalid",
            {"reason": "ring not closed"},
            id="ring not closed",
        ),
        pytest.param(
            _poly([[[0, 0], [1, 0], [0, 0]]]),
            POLYGON,
            "geometry_invalid",
            {"reason": "too few points in ring (at least 4)"},
            id="3 points",
        ),
        pytest.param(
            _poly([]), POLYGON, "geometry_invalid", {"reason": "empty polygon"}, id="empty"
        ),
        pytest.param(
            _poly([[[0, 0], ["1", 0], [1, 1], [0, 0]]]),
            POLYGON,
            "geometry_invalid",
            {"reason": "coordinates must be numbers"},
            id="string coordinate",
        ),
        pytest.param(
            _poly([[[0], [1, 0], [1, 1], [0]]]),
            POLYGON,
            "geometry_invalid",
            {"reason": "a position needs longitude and latitude"},
            id="short position",
        ),
        pytest.param(
            {"type": "Polygon"},
            POLYGON,
            "geometry_invalid",
            {"reason": "missing coordinates"},
            id="no coordinates",
        ),
        pytest.param(
            {"type": "LineString", "coordinates": [[0, 0]]},
            ("LineString",),
            "geometry_invalid",
            {"reason": "too few points in line (at least 2)"},
            id="1-point line",
        ),
    ],
)
def test_r_grid_1_rejected(
    obj: dict[str, Any], allowed: tuple[str, ...], code: str, params: dict[str, Any]
) -> None:
    with pytest.raises(Invalid) as caught:
        parse_geojson(obj, allowed=allowed)
    assert caught.value.code == code
    assert caught.value.params == params


def test_r_grid_1_bow_tie_reports_where_it_crosses() -> None:
    """R-GRID-1: OGC-invalid input names the reason and the location for the map."""
    bow_tie = _poly([[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]])
    with pytest.raises(Invalid) as caught:
        parse_geojson(bow_tie, allowed=POLYGON)
    error = caught.value
    assert error.code == "geometry_invalid"
    assert "self-intersection" in error.params["reason"].lower()
    assert error.extra == {"geometry": {"type": "Point", "coordinates": [0.5, 0.5]}}


def test_r_grid_1_hole_outside_shell_is_invalid() -> None:
    hole = [[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 5.0]]
    with pytest.raises(Invalid) as caught:
        parse_geojson(_poly([*SQUARE, hole]), allowed=POLYGON)
    assert caught.value.code == "geometry_invalid"
    assert caught.value.extra["geometry"]["type"] == "Point"


def test_r_grid_1_to_geojson_is_plain_json_and_round_trips() -> None:
    obj = to_geojson(box(0, 0, 1, 1))
    assert json.loads(json.dumps(obj)) == obj  # lists, not tuples
    assert obj["type"] == "Polygon"
    assert shape(obj).equals(box(0, 0, 1, 1))
    assert parse_geojson(obj, allowed=POLYGON).equals(box(0, 0, 1, 1))


def test_r_grid_2_split_square_in_two() -> None:
    square = box(0, 0, 1, 1)
    pieces = split_polygon(square, LineString([(0.3, -1), (0.3, 2)]))
    assert len(pieces) == 2
    assert sum(p.area for p in pieces) == pytest.approx(square.area)
    assert pieces[0].area == pytest.approx(0.7)  # largest first
    assert all(isinstance(p, Polygon) and p.is_valid for p in pieces)


def test_r_grid_2_split_in_three_sorted_by_area() -> None:
    zigzag = LineString([(0.2, -1), (0.2, 2), (0.5, 2), (0.5, -1)])
    pieces = split_polygon(box(0, 0, 1, 1), zigzag)
    assert [round(p.area, 9) for p in pieces] == [0.5, 0.3, 0.2]


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(LineString([(5, 5), (6, 6)]), id="misses"),
        pytest.param(LineString([(0.5, -1), (0.5, 0.5)]), id="stops inside"),
        pytest.param(LineString([(0, -1), (0, 2)]), id="along an edge"),
    ],
)
def test_r_grid_2_split_failed(line: LineString) -> None:
    with pytest.raises(Invalid) as caught:
        split_polygon(box(0, 0, 1, 1), line)
    assert caught.value.code == "split_failed"


def test_r_grid_2_merge_adjacent_squares() -> None:
    merged = merge_polygons([box(0, 0, 1, 1), box(1, 0, 2, 1)])
    assert isinstance(merged, Polygon) and merged.is_valid
    assert merged.area == pytest.approx(2)


def test_r_grid_2_merge_closes_hairline_gap() -> None:
    """R-GRID-2: neighbours less than ~1e-7° apart count as touching."""
    merged = merge_polygons([box(0, 0, 1, 1), box(1 + 5e-8, 0, 2, 1)])
    assert isinstance(merged, Polygon) and merged.is_valid
    assert merged.area == pytest.approx(2, abs=1e-6)
    assert merged.buffer(1e-9).contains(MultiPolygon([box(0, 0, 1, 1), box(1 + 5e-8, 0, 2, 1)]))


@pytest.mark.parametrize(
    "second",
    [
        pytest.param(box(5, 5, 6, 6), id="distant"),
        pytest.param(box(1, 1, 2, 2), id="corner only"),
        pytest.param(box(1 + 1e-5, 0, 2, 1), id="1 m gap"),
    ],
)
def test_r_grid_2_merge_not_adjacent(second: Polygon) -> None:
    with pytest.raises(Invalid) as caught:
        merge_polygons([box(0, 0, 1, 1), second])
    assert caught.value.code == "grids_not_adjacent"
