"""Hostile and broken input (R-POP-2, R-GRID-1, R-MAP-1, API.md errors): every case is a
fast 4xx problem+json in Chinese, never a 5xx, and writes nothing (people, units and the
audit trail are counted before and after)."""

import json
import math
import time
from datetime import date
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.body_guard import MAX_BODY, MAX_DEPTH
from domain.geo import MAX_VERTICES
from domain.id_numbers import check_char
from domain.messages import MESSAGES
from services.db import set_scope
from services.models import AuditEntry, OrgUnit, Person
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.people import resident_id

PEOPLE = "/api/v1/people"
GRIDS = "/api/v1/grids"
MAP_QUERY = "/api/v1/map/query"
LOCATE = "/api/v1/grids/locate"
# Each refusal is answered well inside this, whatever the size of the input (wall time).
FAST_SECONDS = 3.0


def _with_check(first17: str) -> str:
    return first17 + check_char(first17)


def _ending_in_x() -> str:
    """A valid number whose check character is X."""
    return next(
        number
        for serial in range(1000)
        if (number := resident_id(date(1988, 8, 8), serial=serial)).endswith("X")
    )


VALID_X = _ending_in_x()
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# (id as sent, the number stored) for numbers that are valid once normalised (R-POP-2).
ACCEPTED = {
    "valid": (resident_id(date(1990, 5, 17), serial=11), None),
    "lowercase_x": (VALID_X.lower(), VALID_X),
    "full_width_digits": (VALID_X.translate(FULL_WIDTH), VALID_X),
    "surrounding_spaces": (f"  {VALID_X} ", VALID_X),
}

_BORN = "19900517"
# id as sent → the field error's code.
REFUSED = {
    "wrong_check_digit": (
        _with_check(f"653101{_BORN}123")[:17]
        + ("0" if _with_check(f"653101{_BORN}123")[17] != "0" else "1"),
        "id_number_checksum",
    ),
    "impossible_date": (_with_check("653101" + "19900230" + "001"), "id_number_birth_date"),
    "thirteenth_month": (_with_check("653101" + "19901301" + "001"), "id_number_birth_date"),
    "future_date": (resident_id(date(2027, 1, 1)), "id_number_birth_date"),
    "before_1850": (resident_id(date(1849, 12, 31)), "id_number_birth_date"),
    "seventeen_chars": (resident_id()[:17], "id_number_format"),
    "nineteen_chars": (resident_id() + "1", "id_number_format"),
    "sixteen_digits": (resident_id()[:16], "id_number_format"),
    # Refused by the body schema before the number is read: a field error, no rule.
    "empty": ("", "field_invalid"),
    "zero_width_space": (VALID_X[:9] + "\u200b" + VALID_X[9:], "id_number_format"),
    "zero_width_joiner": (VALID_X + "\u200d", "id_number_format"),
    "arabic_indic_digits": (
        VALID_X[:6] + VALID_X[6:17].translate(ARABIC_INDIC) + VALID_X[17],
        "id_number_format",
    ),
    "letter_in_the_middle": (VALID_X[:10] + "A" + VALID_X[11:], "id_number_format"),
    # Residence permits of Hong Kong, Macao and Taiwan residents (810000/820000/830000) share
    # the format, not the register: such people are overseas, with their permit (R-POP-2).
    "hong_kong_prefix": (_with_check("810000" + _BORN + "001"), "id_number_permit"),
    "macao_prefix": (_with_check("820000" + _BORN + "001"), "id_number_permit"),
    "taiwan_prefix": (_with_check("830000" + _BORN + "001"), "id_number_permit"),
    "unknown_region": (_with_check("999999" + _BORN + "001"), "id_number_region"),
    "sql_injection": ("653101' OR '1'='1", "id_number_format"),
    "sql_comment": ("65310119900517123X'; DROP TABLE people; --", "field_invalid"),
    "sql_short": ("1' OR 1=1 --", "id_number_format"),
    "html": ("<script>alert(1)</script>", "id_number_format"),
    "null_byte": (VALID_X[:17] + "\x00", "id_number_format"),
    "ltree_path": ("*.653101", "id_number_format"),
}


async def _counts(session: AsyncSession) -> tuple[int, ...]:
    await set_scope(session, "*")
    return tuple(
        [
            (await session.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Person, OrgUnit, AuditEntry)
        ]
    )


def _person(world: World, id_number: Any) -> dict[str, Any]:
    return {
        "grid_id": str(world.g1.id),
        "kind": "registered",
        "id_number": id_number,
        "name": "张三",
        "no_house_reason": "借住亲友家",
    }


def _refused(r: Response, status: int, code: str, started: float) -> dict[str, Any]:
    assert time.monotonic() - started < FAST_SECONDS
    return assert_problem(r, status, code)


@pytest.mark.parametrize("case", sorted(ACCEPTED))
async def test_r_pop_2_numbers_valid_once_normalised_are_stored_canonical(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, case: str
) -> None:
    sent, stored = ACCEPTED[case]
    r = await client.post(PEOPLE, json=_person(world, sent), headers=auth(world.admin_d, clock))
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == (stored or sent)


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_r_pop_2_the_id_number_table_is_refused_and_nothing_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, case: str
) -> None:
    sent, code = REFUSED[case]
    before = await _counts(session)
    started = time.monotonic()
    r = await client.post(PEOPLE, json=_person(world, sent), headers=auth(world.admin_d, clock))
    schema = code == "field_invalid"
    problem = _refused(r, 422, "validation_failed" if schema else "id_number_invalid", started)
    [error] = problem["errors"]
    assert error["field"] == "id_number"
    # The field error is this rule's own message (its fixed text before any parameter).
    assert MESSAGES[code][0].split("{")[0] in error["message"], (code, error)
    assert await _counts(session) == before


@pytest.mark.parametrize("limit", ["0", "-1", "501", str(10**12), str(2**63), "1e9", "NaN", "x"])
async def test_huge_or_broken_limits_are_a_422(
    client: AsyncClient, world: World, clock: MovableClock, limit: str
) -> None:
    started = time.monotonic()
    r = await client.get(PEOPLE, params={"limit": limit}, headers=auth(world.admin_d, clock))
    _refused(r, 422, "validation_failed", started)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("depth", "code"),
    [
        (MAX_DEPTH + 1, "json_too_deep"),
        (10_000, "json_too_deep"),
        # So many arrays are refused on their number before their depth is measured.
        (1_000_000, "json_too_complex"),
    ],
)
async def test_deeply_nested_json_is_refused_before_parsing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    depth: int,
    code: str,
) -> None:
    before = await _counts(session)
    body = json.dumps(_person(world, resident_id()))[:-1] + f', "details": {_nested(depth)}}}'
    started = time.monotonic()
    r = await client.post(
        PEOPLE,
        content=body,
        headers={**auth(world.admin_d, clock), "Content-Type": "application/json"},
    )
    _refused(r, 400, code, started)
    assert await _counts(session) == before


async def test_deep_json_without_a_content_type_is_not_parsed(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await _counts(session)
    body = json.dumps(_person(world, resident_id()))[:-1] + f', "details": {_nested(100_000)}}}'
    started = time.monotonic()
    r = await client.post(PEOPLE, content=body, headers=auth(world.admin_d, clock))
    assert "content-type" not in r.request.headers
    # Not declared JSON, so not read as JSON: the body is no object, whatever its depth.
    _refused(r, 422, "validation_failed", started)
    assert await _counts(session) == before


async def test_a_body_just_inside_the_depth_limit_is_read(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """The guard does not refuse what the route would take: at the depth limit the body
    reaches validation (and `details` of a registered person must be an object)."""
    body = (
        json.dumps(_person(world, resident_id()))[:-1] + f', "details": {_nested(MAX_DEPTH - 1)}}}'
    )
    r = await _post_raw(client, PEOPLE, body, auth(world.admin_d, clock))
    assert_problem(r, 422, "validation_failed")


async def test_brackets_inside_strings_do_not_count_as_nesting(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    sent = _person(world, resident_id()) | {"name": "[" * 40 + '\\"' + "{" * 40}
    r = await client.post(PEOPLE, json=sent, headers=auth(world.admin_d, clock))
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("declared", [True, False], ids=["content_length", "streamed"])
async def test_a_20_mb_body_is_a_413(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    declared: bool,
) -> None:
    before = await _counts(session)
    padding = "x" * (20 * 1024 * 1024)
    body = json.dumps(_person(world, resident_id()) | {"remarks": padding}).encode()
    assert len(body) > MAX_BODY

    async def chunks() -> Any:
        for start in range(0, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    started = time.monotonic()
    r = await client.post(
        PEOPLE,
        content=body if declared else chunks(),
        headers={**auth(world.admin_d, clock), "Content-Type": "application/json"},
    )
    problem = _refused(r, 413, "body_too_large", started)
    assert "10 MB" in problem["detail"]
    assert await _counts(session) == before


def _ring(vertices: int) -> list[list[float]]:
    """A closed, valid (convex) ring of `vertices` positions inside G1's community."""
    points = [
        [
            round(75.925 + 0.01 * math.cos(2 * math.pi * i / vertices), 7),
            round(39.425 + 0.01 * math.sin(2 * math.pi * i / vertices), 7),
        ]
        for i in range(vertices)
    ]
    return [*points, points[0]]


BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[75.91, 39.41], [75.94, 39.44], [75.94, 39.41], [75.91, 39.44], [75.91, 39.41]]
    ],
}


def _grid(world: World, geometry: dict[str, Any]) -> dict[str, Any]:
    return {
        "code": world.c1.code + "900",
        "name": "新网格",
        "parent_id": str(world.c1.id),
        "geometry": geometry,
    }


def _map(area: dict[str, Any]) -> dict[str, Any]:
    return {"layers": ["people"], **area}


async def _post_raw(client: AsyncClient, path: str, body: str, headers: dict[str, str]) -> Response:
    return await client.post(
        path, content=body, headers={**headers, "Content-Type": "application/json"}
    )


async def _post_geometry(
    client: AsyncClient, world: World, path: str, geometry: str, headers: dict[str, str]
) -> Response:
    """A grid create or a map query carrying `geometry` as JSON text (sent as is)."""
    wrapper, key = (
        (_grid(world, {}), "geometry") if path == GRIDS else (_map({"polygon": {}}), "polygon")
    )
    body = json.dumps(wrapper).replace(f'"{key}": {{}}', f'"{key}": {geometry}')
    return await _post_raw(client, path, body, headers)


def _compact(vertices: int) -> str:
    """A polygon of `vertices` positions written as tersely as JSON allows."""
    return '{"type":"Polygon","coordinates":[[' + "[75,39]," * (vertices - 1) + "[75,39]]]}"


@pytest.mark.parametrize("path", [GRIDS, MAP_QUERY])
async def test_a_million_vertex_polygon_is_refused_fast(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, path: str
) -> None:
    """At full precision a million vertices exceed the body limit; written tersely they fit
    in it and are refused for their count of arrays before any parse."""
    headers = auth(world.admin_d, clock)
    before = await _counts(session)
    full = json.dumps({"type": "Polygon", "coordinates": [_ring(1_000_000)]})
    started = time.monotonic()
    r = await _post_geometry(client, world, path, full, headers)
    _refused(r, 413, "body_too_large", started)
    terse = _compact(1_000_000)
    assert len(terse) < MAX_BODY
    started = time.monotonic()
    r = await _post_geometry(client, world, path, terse, headers)
    _refused(r, 400, "json_too_complex", started)
    assert await _counts(session) == before


@pytest.mark.parametrize("path", [GRIDS, MAP_QUERY])
async def test_a_polygon_over_the_vertex_limit_is_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, path: str
) -> None:
    before = await _counts(session)
    started = time.monotonic()
    r = await _post_geometry(
        client, world, path, _compact(MAX_VERTICES + 1), auth(world.admin_d, clock)
    )
    problem = _refused(r, 422, "geometry_too_complex", started)
    assert str(MAX_VERTICES) in problem["detail"]
    assert await _counts(session) == before


async def test_a_polygon_just_inside_the_vertex_limit_is_taken(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    polygon = {"type": "Polygon", "coordinates": [_ring(MAX_VERTICES - 1)]}
    r = await client.post(
        MAP_QUERY, json=_map({"polygon": polygon}), headers=auth(world.admin_d, clock)
    )
    assert r.status_code == 200, r.text


async def test_a_self_intersecting_polygon_is_refused_with_its_location(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    before = await _counts(session)
    for path, body in ((GRIDS, _grid(world, BOWTIE)), (MAP_QUERY, _map({"polygon": BOWTIE}))):
        started = time.monotonic()
        r = await client.post(path, json=body, headers=headers)
        problem = _refused(r, 422, "geometry_invalid", started)
        assert problem["geometry"]["type"] == "Point"
    assert await _counts(session) == before


NAN_BODIES = {
    "nan_center": '{"layers":["people"],"center":[NaN,39.42],"radius_m":500}',
    "infinite_center": '{"layers":["people"],"center":[75.92,Infinity],"radius_m":500}',
    "latitude_91_center": '{"layers":["people"],"center":[75.92,91],"radius_m":500}',
    "nan_bbox": '{"layers":["people"],"bbox":[75.9,NaN,76.0,39.5]}',
    "latitude_91_bbox": '{"layers":["people"],"bbox":[75.9,39.4,76.0,91]}',
    "nan_radius": '{"layers":["people"],"center":[75.92,39.42],"radius_m":NaN}',
    "nan_polygon": (
        '{"layers":["people"],"polygon":{"type":"Polygon","coordinates":'
        "[[[75.91,39.41],[NaN,39.44],[75.94,39.41],[75.91,39.41]]]}}"
    ),
    "latitude_91_polygon": (
        '{"layers":["people"],"polygon":{"type":"Polygon","coordinates":'
        "[[[75.91,39.41],[75.94,91],[75.94,39.41],[75.91,39.41]]]}}"
    ),
}


@pytest.mark.parametrize("case", sorted(NAN_BODIES))
async def test_nan_and_out_of_range_coordinates_in_map_queries_are_a_422(
    client: AsyncClient, world: World, clock: MovableClock, case: str
) -> None:
    started = time.monotonic()
    r = await _post_raw(client, MAP_QUERY, NAN_BODIES[case], auth(world.admin_d, clock))
    assert time.monotonic() - started < FAST_SECONDS
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("lon", "lat"),
    [("nan", "39.42"), ("75.92", "nan"), ("inf", "39.42"), ("75.92", "91"), ("181", "39.42")],
)
async def test_nan_and_out_of_range_points_are_a_422(
    client: AsyncClient, world: World, clock: MovableClock, lon: str, lat: str
) -> None:
    started = time.monotonic()
    r = await client.get(
        LOCATE, params={"lon": lon, "lat": lat}, headers=auth(world.admin_d, clock)
    )
    _refused(r, 422, "coordinate_out_of_range", started)


async def test_a_grid_with_a_latitude_of_91_writes_nothing(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await _counts(session)
    polygon = {
        "type": "Polygon",
        "coordinates": [[[75.91, 39.41], [75.94, 91], [75.94, 39.41], [75.91, 39.41]]],
    }
    started = time.monotonic()
    r = await client.post(GRIDS, json=_grid(world, polygon), headers=auth(world.admin_d, clock))
    _refused(r, 422, "coordinate_out_of_range", started)
    assert await _counts(session) == before
