"""Grids over the API against real PostGIS (SPEC R-GRID-1 … R-GRID-4).

World: C1 = 75.90–76.00 × 39.40–39.50 holds G1 (75.90–75.95 × 39.40–39.45) and G2
(75.95–76.00 × 39.40–39.45); the north half of C1 is free. C3 (S2) holds G3.
"""

import math
from datetime import datetime, timedelta
from typing import Any

import prcoords
import pytest
from httpx import AsyncClient
from shapely.geometry import shape

from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, geojson, square

GRIDS = "/api/v1/grids"
NEW_CODE = "653101001001003"  # the next free grid code in C1
C1_AREA_DEG2 = 0.1 * 0.1


def poly(lon0: float, lat0: float, lon1: float, lat1: float) -> dict[str, Any]:
    return geojson(square(lon0, lat0, lon1, lat1))


def m2(geometry: dict[str, Any]) -> float:
    """Rough area in m² of a small lon/lat geometry (equirectangular at its centroid)."""
    geom = shape(geometry)
    lat = geom.centroid.y
    return geom.area * 111_320 * math.cos(math.radians(lat)) * 110_574


def body_for(
    world: World, geometry: dict[str, Any], code: str = NEW_CODE, **extra: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "name": "新网格",
        "parent_id": str(world.c1.id),
        "geometry": geometry,
        **extra,
    }


async def grid_count(client: AsyncClient, headers: dict[str, str], world: World) -> int:
    r = await client.get(GRIDS, params={"parent_id": str(world.c1.id)}, headers=headers)
    assert r.status_code == 200, r.text
    total: int = r.json()["total"]
    return total


async def etag_of(client: AsyncClient, grid_id: Any, headers: dict[str, str]) -> str:
    r = await client.get(f"{GRIDS}/{grid_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.headers["ETag"]


# --------------------------------------------------------------------------- create


async def test_create_grid_r_grid_1(client: AsyncClient, world: World, clock: MovableClock) -> None:
    """R-GRID-1: a drawn polygon inside its community becomes a grid: 201, ETag, Location,
    and the GeoJSON read back equals the GeoJSON sent."""
    headers = auth(world.admin_d, clock)
    geometry = poly(75.90, 39.45, 75.95, 39.50)
    r = await client.post(GRIDS, json=body_for(world, geometry), headers=headers)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["geometry"] == geometry
    assert created["level"] == "grid"
    assert created["parent_id"] == str(world.c1.id)
    assert r.headers["ETag"] == f'"{created["version"]}"'
    assert r.headers["Location"] == f"{GRIDS}/{created['id']}"
    got = await client.get(r.headers["Location"], headers=headers)
    assert got.status_code == 200, got.text
    assert got.json()["geometry"] == geometry
    assert got.json()["code"] == NEW_CODE
    assert got.headers["ETag"] == r.headers["ETag"]


BOW_TIE = {
    "type": "Polygon",
    "coordinates": [
        [[75.91, 39.46], [75.93, 39.48], [75.93, 39.46], [75.91, 39.48], [75.91, 39.46]]
    ],
}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("parent_street", 422, "grid_parent_not_community"),
        ("code_suffix_000", 422, "code_malformed"),
        ("code_of_other_community", 422, "code_malformed"),
        ("code_not_digits", 422, "validation_failed"),
        ("code_taken", 409, "code_taken"),
        ("unknown_field", 422, "validation_failed"),
        ("bow_tie", 422, "geometry_invalid"),
        ("lon_200", 422, "coordinate_out_of_range"),
        ("linestring", 422, "geometry_type"),
    ],
)
async def test_create_grid_rejected_writes_nothing_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock, case: str, status: int, code: str
) -> None:
    """R-GRID-1: invalid input is refused with a stable code, a named field, and no grid
    is written."""
    headers = auth(world.admin_d, clock)
    free = poly(75.90, 39.45, 75.95, 39.50)
    body = body_for(world, free)
    if case == "parent_street":
        body["parent_id"] = str(world.s1.id)
    elif case == "code_suffix_000":
        body["code"] = "653101001001000"
    elif case == "code_of_other_community":
        body["code"] = "653101001002001"  # extends C2's code, not C1's
    elif case == "code_not_digits":
        body["code"] = "65310100100100X"
    elif case == "code_taken":
        body["code"] = world.g2.code
    elif case == "unknown_field":
        body["colour"] = "red"
    elif case == "bow_tie":
        body["geometry"] = BOW_TIE
    elif case == "lon_200":
        body["geometry"] = {
            "type": "Polygon",
            "coordinates": [[[75.9, 39.46], [200, 39.46], [75.9, 39.48], [75.9, 39.46]]],
        }
    elif case == "linestring":
        body["geometry"] = {"type": "LineString", "coordinates": [[75.9, 39.46], [75.92, 39.47]]}
    before = await grid_count(client, headers, world)
    r = await client.post(GRIDS, json=body, headers=headers)
    problem_body = assert_problem(r, status, code)
    fields = {e["field"] for e in problem_body["errors"]}
    expected_field = {
        "parent_street": "parent_id",
        "code_suffix_000": "code",
        "code_of_other_community": "code",
        "code_not_digits": "code",
        "code_taken": "code",
        "unknown_field": "colour",
        "bow_tie": "geometry",
        "lon_200": "geometry",
        "linestring": "geometry",
    }[case]
    assert expected_field in fields, problem_body
    if case == "bow_tie":
        # The problem point comes back as GeoJSON: the bow-tie crosses itself at its centre.
        where = problem_body["geometry"]
        assert where["type"] == "Point"
        assert where["coordinates"] == pytest.approx([75.92, 39.47], abs=1e-9)
    assert await grid_count(client, headers, world) == before


async def test_create_grid_malformed_json_is_400_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1 (API conventions): a body that is not JSON is bad syntax, 400."""
    headers = {**auth(world.admin_d, clock), "Content-Type": "application/json"}
    before = await grid_count(client, headers, world)
    r = await client.post(GRIDS, content=b'{"code": "653101001001003", "name": ', headers=headers)
    assert_problem(r, 400, "bad_request")
    assert await grid_count(client, headers, world) == before


# --------------------------------------------------------------------------- placement


async def test_grid_outside_community_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1: a grid reaching ~11 m beyond its community is refused and the overhang
    comes back as geometry."""
    headers = auth(world.admin_d, clock)
    before = await grid_count(client, headers, world)
    r = await client.post(
        GRIDS, json=body_for(world, poly(75.90, 39.45, 75.95, 39.5001)), headers=headers
    )
    body = assert_problem(r, 422, "grid_outside_parent")
    outside = shape(body["geometry"])
    assert outside.area == pytest.approx(0.05 * 0.0001, rel=0.01)
    assert outside.bounds == pytest.approx((75.90, 39.50, 75.95, 39.5001), abs=1e-7)
    assert await grid_count(client, headers, world) == before


async def test_grid_overhang_within_tolerance_accepted_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1: an overhang of ~0.55 m (0.000005° of latitude) is within the 1 m tolerance."""
    r = await client.post(
        GRIDS,
        json=body_for(world, poly(75.90, 39.45, 75.95, 39.500005)),
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 201, r.text


async def test_grid_overlapping_sibling_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1: overlapping G2 by a ~110 m strip is refused; the overlap and G2 are named."""
    headers = auth(world.admin_d, clock)
    before = await grid_count(client, headers, world)
    r = await client.post(
        GRIDS, json=body_for(world, poly(75.95, 39.449, 76.00, 39.46)), headers=headers
    )
    body = assert_problem(r, 422, "grid_overlap")
    overlap = shape(body["geometry"])
    assert overlap.bounds == pytest.approx((75.95, 39.449, 76.00, 39.45), abs=1e-7)
    assert len(body["overlaps"]) == 1
    assert body["overlaps"][0]["grid_id"] == str(world.g2.id)
    assert body["overlaps"][0]["area_m2"] == pytest.approx(m2(body["geometry"]), rel=0.02)
    assert await grid_count(client, headers, world) == before


async def test_grid_touching_sibling_accepted_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1: sharing G2's north edge exactly is touching, not overlapping."""
    r = await client.post(
        GRIDS,
        json=body_for(world, poly(75.95, 39.45, 76.00, 39.50)),
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 201, r.text


async def test_messages_follow_accept_language_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1 (API conventions): Chinese by default, English on `Accept-Language: en`."""
    body = body_for(world, poly(75.95, 39.449, 76.00, 39.46))
    headers = auth(world.admin_d, clock)
    zh = assert_problem(await client.post(GRIDS, json=body, headers=headers), 422, "grid_overlap")
    en = assert_problem(
        await client.post(GRIDS, json=body, headers={**headers, "Accept-Language": "en-US"}),
        422,
        "grid_overlap",
    )
    assert zh["detail"] == "网格与相邻网格重叠"
    assert en["detail"] == "The grid overlaps a sibling grid"


# --------------------------------------------------------------------------- adjust, history


async def test_patch_grid_with_if_match_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: reshaping and renaming with the current ETag succeeds and changes the ETag;
    a stale one is 412, a malformed one 400."""
    headers = auth(world.admin_d, clock)
    url = f"{GRIDS}/{world.g1.id}"
    etag = await etag_of(client, world.g1.id, headers)
    smaller = poly(75.90, 39.40, 75.94, 39.45)
    r = await client.patch(
        url,
        json={"name": "一号网格", "geometry": smaller, "reason": "调整"},
        headers={**headers, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "一号网格"
    assert r.json()["geometry"] == smaller
    new_etag = r.headers["ETag"]
    assert new_etag != etag
    assert await etag_of(client, world.g1.id, headers) == new_etag

    stale = await client.patch(url, json={"name": "过期"}, headers={**headers, "If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    bad = await client.patch(url, json={"name": "坏"}, headers={**headers, "If-Match": "abc"})
    assert bad.status_code == 400, bad.text
    assert bad.json()["code"] == "if_match_invalid"
    got = await client.get(url, headers=headers)
    assert got.json()["name"] == "一号网格"
    assert got.headers["ETag"] == new_etag


async def test_reshape_into_overlap_leaves_grid_unchanged_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-1/R-GRID-2: a reshape that would overlap G2 is refused; G1 stays as it was."""
    headers = auth(world.admin_d, clock)
    url = f"{GRIDS}/{world.g1.id}"
    before = await client.get(url, headers=headers)
    r = await client.patch(
        url,
        json={"name": "改名", "geometry": poly(75.90, 39.40, 75.96, 39.45)},
        headers={**headers, "If-Match": before.headers["ETag"]},
    )
    body = assert_problem(r, 422, "grid_overlap")
    assert body["overlaps"][0]["grid_id"] == str(world.g2.id)
    after = await client.get(url, headers=headers)
    assert after.json() == before.json()
    assert after.headers["ETag"] == before.headers["ETag"]
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [v["operation"] for v in history] == ["create"]


async def test_history_and_as_of_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: every change keeps the previous version with its validity period, and the
    layout can be read as it stood at an earlier instant."""
    url = f"{GRIDS}/{world.g1.id}"
    original = poly(75.90, 39.40, 75.95, 39.45)
    created_at = clock.now()
    clock.advance(timedelta(hours=1))
    first_change = clock.now()
    headers = auth(world.admin_d, clock)
    r = await client.patch(
        url,
        json={"name": "改一", "geometry": poly(75.90, 39.40, 75.94, 39.45), "reason": "r1"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    clock.advance(timedelta(hours=1))
    second_change = clock.now()
    headers = auth(world.admin_d, clock)
    r = await client.patch(url, json={"name": "改二"}, headers=headers)
    assert r.status_code == 200, r.text

    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [v["operation"] for v in history] == ["create", "update", "update"]
    assert [v["version"] for v in history] == sorted(v["version"] for v in history)
    first, second, third = history
    assert first["geometry"] == original  # the old geometry is kept
    assert first["name"] == world.g1.name
    assert _instant(first["valid_from"]) == created_at
    assert _instant(first["valid_to"]) == first_change
    assert second["name"] == "改一" and second["reason"] == "r1"
    assert second["actor_id"] == str(world.admin_d.id)
    assert _instant(second["valid_from"]) == first_change
    assert _instant(second["valid_to"]) == second_change
    assert third["valid_to"] is None and third["name"] == "改二"
    assert third["geometry"] == second["geometry"] == poly(75.90, 39.40, 75.94, 39.45)

    async def layout_at(at: datetime) -> dict[str, dict[str, Any]]:
        r = await client.get(
            GRIDS,
            params={"parent_id": str(world.c1.id), "as_of": at.isoformat()},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        return {item["id"]: item for item in r.json()["items"]}

    early = await layout_at(created_at + timedelta(minutes=30))
    assert set(early) == {str(world.g1.id), str(world.g2.id)}
    assert early[str(world.g1.id)]["name"] == world.g1.name
    assert early[str(world.g1.id)]["geometry"] == original
    middle = await layout_at(first_change + timedelta(minutes=30))
    assert middle[str(world.g1.id)]["name"] == "改一"
    now = await layout_at(second_change)
    assert now[str(world.g1.id)]["name"] == "改二"
    before_world = await layout_at(created_at - timedelta(days=1))
    assert before_world == {}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------- merge, split


async def test_merge_siblings_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: merging G1 and G2 keeps G1 with the union; G2 is gone; history says merge."""
    headers = auth(world.admin_d, clock)
    r = await client.post(
        f"{GRIDS}/merge",
        json={"grid_ids": [str(world.g1.id), str(world.g2.id)], "name": "合并网格"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["id"] == str(world.g1.id)
    assert merged["name"] == "合并网格"
    assert "ETag" in r.headers
    geom = shape(merged["geometry"])
    assert geom.geom_type == "Polygon"
    assert geom.area == pytest.approx(0.05 * 0.05 * 2, rel=1e-6)
    assert geom.symmetric_difference(square(75.90, 39.40, 76.00, 39.45)).area < 1e-12
    assert (await client.get(f"{GRIDS}/{world.g2.id}", headers=headers)).status_code == 404
    history = (await client.get(f"{GRIDS}/{world.g1.id}/history", headers=headers)).json()
    assert history[-1]["operation"] == "merge"
    assert history[-1]["attributes"]["merged_from"] == [str(world.g2.id)]
    assert await grid_count(client, headers, world) == 1


async def test_merge_refuses_non_siblings_and_non_adjacent_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: only touching grids of one community merge."""
    headers = auth(world.admin_d, clock)
    r = await client.post(
        f"{GRIDS}/merge", json={"grid_ids": [str(world.g1.id), str(world.g3.id)]}, headers=headers
    )
    assert_problem(r, 422, "grids_not_siblings")
    far = await client.post(
        GRIDS, json=body_for(world, poly(75.90, 39.46, 75.95, 39.50)), headers=headers
    )
    assert far.status_code == 201, far.text
    r = await client.post(
        f"{GRIDS}/merge", json={"grid_ids": [str(world.g1.id), far.json()["id"]]}, headers=headers
    )
    assert_problem(r, 422, "grids_not_adjacent")
    # Nothing changed.
    assert (await client.get(f"{GRIDS}/{world.g3.id}", headers=headers)).status_code == 200
    assert await grid_count(client, headers, world) == 3
    g1 = (await client.get(f"{GRIDS}/{world.g1.id}", headers=headers)).json()
    assert g1["geometry"] == poly(75.90, 39.40, 75.95, 39.45)


async def test_split_by_line_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: a vertical line cuts G1 in two; G1 keeps the larger (western) piece and
    the new grid takes the rest; the areas add up."""
    headers = auth(world.admin_d, clock)
    line = {"type": "LineString", "coordinates": [[75.93, 39.39], [75.93, 39.46]]}
    r = await client.post(
        f"{GRIDS}/{world.g1.id}/split",
        json={"line": line, "new_grids": [{"code": NEW_CODE, "name": "拆分东"}]},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    kept, new = r.json()
    assert kept["id"] == str(world.g1.id)
    assert new["code"] == NEW_CODE and new["parent_id"] == str(world.c1.id)
    kept_geom, new_geom = shape(kept["geometry"]), shape(new["geometry"])
    assert kept_geom.area + new_geom.area == pytest.approx(0.05 * 0.05, rel=1e-9)
    assert kept_geom.area > new_geom.area
    assert kept_geom.bounds == pytest.approx((75.90, 39.40, 75.93, 39.45), abs=1e-9)
    assert new_geom.bounds == pytest.approx((75.93, 39.40, 75.95, 39.45), abs=1e-9)
    assert await grid_count(client, headers, world) == 3
    history = (await client.get(f"{GRIDS}/{world.g1.id}/history", headers=headers)).json()
    assert [v["operation"] for v in history] == ["create", "split"]
    assert history[0]["geometry"] == poly(75.90, 39.40, 75.95, 39.45)


async def test_split_refusals_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: one new grid per extra piece; a line that misses the grid cuts nothing."""
    headers = auth(world.admin_d, clock)
    url = f"{GRIDS}/{world.g1.id}/split"
    line = {"type": "LineString", "coordinates": [[75.93, 39.39], [75.93, 39.46]]}
    two = [{"code": NEW_CODE, "name": "甲"}, {"code": "653101001001004", "name": "乙"}]
    body = assert_problem(
        await client.post(url, json={"line": line, "new_grids": two}, headers=headers),
        422,
        "split_codes_mismatch",
    )
    assert "new_grids" in {e["field"] for e in body["errors"]}
    missing = {"type": "LineString", "coordinates": [[75.97, 39.39], [75.97, 39.46]]}
    assert_problem(
        await client.post(url, json={"line": missing, "new_grids": two[:1]}, headers=headers),
        422,
        "split_failed",
    )
    assert await grid_count(client, headers, world) == 2
    g1 = (await client.get(f"{GRIDS}/{world.g1.id}", headers=headers)).json()
    assert g1["geometry"] == poly(75.90, 39.40, 75.95, 39.45)


# --------------------------------------------------------------------------- delete, move


async def test_delete_requires_moving_records_first_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: a grid holding records cannot be deleted; after moving them it can, and
    its history stays readable."""
    headers = auth(world.admin_d, clock)
    url = f"{GRIDS}/{world.g1.id}"
    etag = await etag_of(client, world.g1.id, headers)
    body = assert_problem(
        await client.delete(url, headers={**headers, "If-Match": etag}), 409, "grid_has_records"
    )
    assert body["records"] == {"users": 1}
    assert (await client.get(url, headers=headers)).status_code == 200

    r = await client.post(
        f"{url}/move-records", json={"target_grid_id": str(world.g2.id)}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"moved": {"users": 1}}
    me = await client.get("/api/v1/me", headers=auth(world.worker_g1, clock))
    assert me.status_code == 200, me.text
    assert me.json()["unit"]["id"] == str(world.g2.id)

    clock.advance(timedelta(hours=1))
    headers = auth(world.admin_d, clock)
    etag = await etag_of(client, world.g1.id, headers)
    r = await client.delete(url, headers={**headers, "If-Match": etag})
    assert r.status_code == 204, r.text
    assert_problem(await client.get(url, headers=headers), 404, "grid_not_found")
    history = await client.get(f"{url}/history", headers=headers)
    assert history.status_code == 200, history.text
    assert [v["operation"] for v in history.json()] == ["create", "delete"]
    assert await grid_count(client, headers, world) == 1
    # Gone from locate and from today's layout, still in yesterday's.
    located = await client.get(
        f"{GRIDS}/locate", params={"lon": 75.925, "lat": 39.425}, headers=headers
    )
    assert_problem(located, 404, "point_not_in_grid")
    for at, present in ((clock.now() - timedelta(minutes=1), True), (clock.now(), False)):
        r = await client.get(
            GRIDS, params={"parent_id": str(world.c1.id), "as_of": at.isoformat()}, headers=headers
        )
        assert (str(world.g1.id) in {i["id"] for i in r.json()["items"]}) is present
    # Its place and its code are free again.
    again = await client.post(
        GRIDS,
        json=body_for(world, poly(75.90, 39.40, 75.95, 39.45), code=world.g1.code),
        headers=headers,
    )
    assert again.status_code == 201, again.text


async def test_delete_with_stale_if_match_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: DELETE honours If-Match like PATCH."""
    headers = auth(world.admin_d, clock)
    r = await client.delete(f"{GRIDS}/{world.g2.id}", headers={**headers, "If-Match": '"999"'})
    assert_problem(r, 412, "precondition_failed")
    assert (await client.get(f"{GRIDS}/{world.g2.id}", headers=headers)).status_code == 200


# --------------------------------------------------------------------------- locate, crs


async def test_locate_returns_grid_and_ancestors_r_grid_3(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-3: a point in G1 locates G1 with its parents D, S1, C1 top first; the grid
    worker (reading within G1 only) gets the same chain."""
    for user in (world.admin_d, world.worker_g1):
        r = await client.get(
            f"{GRIDS}/locate", params={"lon": 75.925, "lat": 39.425}, headers=auth(user, clock)
        )
        assert r.status_code == 200, r.text
        located = r.json()
        assert located["grid"]["id"] == str(world.g1.id)
        assert [a["id"] for a in located["ancestors"]] == [
            str(world.district.id),
            str(world.s1.id),
            str(world.c1.id),
        ]
        assert [a["level"] for a in located["ancestors"]] == ["district", "street", "community"]
    r = await client.get(
        f"{GRIDS}/locate",
        params={"lon": 75.925, "lat": 39.48},
        headers=auth(world.admin_d, clock),
    )
    assert_problem(r, 404, "point_not_in_grid")


async def _locate(
    client: AsyncClient, headers: dict[str, str], lon: float, lat: float, crs: str | None
) -> str:
    params: dict[str, Any] = {"lon": lon, "lat": lat}
    if crs:
        params["crs"] = crs
    r = await client.get(f"{GRIDS}/locate", params=params, headers=headers)
    assert r.status_code == 200, r.text
    grid_id: str = r.json()["grid"]["id"]
    return grid_id


async def test_locate_gcj02_r_grid_4(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-4: a phone's GCJ-02 point near G1's east edge is converted back into G1; read
    as WGS-84 the same numbers would land ~240 m east, in G2."""
    headers = auth(world.admin_d, clock)
    wgs = prcoords.Coords(39.425, 75.949)  # (lat, lon), 0.001° west of G1's east edge
    gcj = prcoords.wgs_gcj(wgs)
    assert gcj.lon > 75.95  # the offset carries it over the edge
    assert await _locate(client, headers, gcj.lon, gcj.lat, "gcj02") == str(world.g1.id)
    assert await _locate(client, headers, gcj.lon, gcj.lat, None) == str(world.g2.id)


async def test_locate_bd09_r_grid_4(client: AsyncClient, world: World, clock: MovableClock) -> None:
    """R-GRID-4: a Baidu BD-09 point is converted back into G1; raw it lands in G2."""
    headers = auth(world.admin_d, clock)
    wgs = prcoords.Coords(39.425, 75.945)
    bd = prcoords.gcj_bd(prcoords.wgs_gcj(wgs))
    assert 75.95 < bd.lon < 76.00 and 39.40 < bd.lat < 39.45
    assert await _locate(client, headers, bd.lon, bd.lat, "bd09") == str(world.g1.id)
    assert await _locate(client, headers, bd.lon, bd.lat, None) == str(world.g2.id)


async def test_polygon_in_gcj02_is_stored_in_wgs84_r_grid_4(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-4: a polygon sent with crs=gcj02 is stored as WGS-84."""
    headers = auth(world.admin_d, clock)
    wgs_ring = [(75.91, 39.46), (75.94, 39.46), (75.94, 39.49), (75.91, 39.49), (75.91, 39.46)]
    gcj_ring = []
    for lon, lat in wgs_ring:
        converted = prcoords.wgs_gcj(prcoords.Coords(lat, lon))
        gcj_ring.append([converted.lon, converted.lat])
    assert abs(gcj_ring[0][0] - 75.91) > 1e-3  # the input really is shifted
    r = await client.post(
        GRIDS,
        params={"crs": "gcj02"},
        json=body_for(world, {"type": "Polygon", "coordinates": [gcj_ring]}),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    stored = (await client.get(r.headers["Location"], headers=headers)).json()["geometry"]
    ring = stored["coordinates"][0]
    assert len(ring) == len(wgs_ring)
    for (lon, lat), (want_lon, want_lat) in zip(ring, wgs_ring, strict=True):
        assert abs(lon - want_lon) < 1e-6 and abs(lat - want_lat) < 1e-6


async def test_patch_polygon_in_bd09_is_stored_in_wgs84_r_grid_4(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-4: PATCH with crs=bd09 converts the reshaped polygon to WGS-84 too."""
    headers = auth(world.admin_d, clock)
    wgs_ring = [(75.90, 39.40), (75.94, 39.40), (75.94, 39.45), (75.90, 39.45), (75.90, 39.40)]
    bd_ring = []
    for lon, lat in wgs_ring:
        converted = prcoords.gcj_bd(prcoords.wgs_gcj(prcoords.Coords(lat, lon)))
        bd_ring.append([converted.lon, converted.lat])
    r = await client.patch(
        f"{GRIDS}/{world.g1.id}",
        params={"crs": "bd09"},
        json={"geometry": {"type": "Polygon", "coordinates": [bd_ring]}},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    for (lon, lat), (want_lon, want_lat) in zip(
        r.json()["geometry"]["coordinates"][0], wgs_ring, strict=True
    ):
        assert abs(lon - want_lon) < 1e-6 and abs(lat - want_lat) < 1e-6


# --------------------------------------------------------------------------- coverage


async def test_coverage_of_community_r_grid_3(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-3: G1 and G2 cover the south half of C1; the gap is the north half."""
    headers = auth(world.admin_d, clock)
    r = await client.get(f"/api/v1/org-units/{world.c1.id}/coverage", headers=headers)
    assert r.status_code == 200, r.text
    cov = r.json()
    assert cov["community_id"] == str(world.c1.id)
    assert cov["grid_count"] == 2
    assert cov["coverage_ratio"] == pytest.approx(0.5, abs=0.01)
    assert cov["covered_m2"] == pytest.approx(cov["area_m2"] * cov["coverage_ratio"], rel=1e-3)
    gaps = shape(cov["gaps"])
    assert gaps.area == pytest.approx(C1_AREA_DEG2 / 2, rel=1e-6)
    assert gaps.symmetric_difference(square(75.90, 39.45, 76.00, 39.50)).area < 1e-12
    assert cov["area_m2"] == pytest.approx(
        m2(geojson(square(75.90, 39.40, 76.00, 39.50))), rel=0.01
    )

    # A new grid in the gap raises the ratio; a deleted one stops counting.
    new = await client.post(
        GRIDS, json=body_for(world, poly(75.90, 39.45, 75.95, 39.50)), headers=headers
    )
    assert new.status_code == 201, new.text
    cov = (await client.get(f"/api/v1/org-units/{world.c1.id}/coverage", headers=headers)).json()
    assert cov["grid_count"] == 3
    assert cov["coverage_ratio"] == pytest.approx(0.75, abs=0.01)
    r = await client.delete(f"{GRIDS}/{world.g2.id}", headers=headers)
    assert r.status_code == 204, r.text
    cov = (await client.get(f"/api/v1/org-units/{world.c1.id}/coverage", headers=headers)).json()
    assert cov["grid_count"] == 2
    assert cov["coverage_ratio"] == pytest.approx(0.5, abs=0.01)


async def test_coverage_of_non_community_r_grid_3(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-3: coverage is reported for communities only."""
    headers = auth(world.admin_d, clock)
    for unit in (world.s1, world.g1):
        r = await client.get(f"/api/v1/org-units/{unit.id}/coverage", headers=headers)
        assert_problem(r, 422, "not_a_community")
    # A community without grids is all gap.
    r = await client.get(f"/api/v1/org-units/{world.c2.id}/coverage", headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["grid_count"] == 0 and r.json()["coverage_ratio"] == 0
    assert shape(r.json()["gaps"]).equals(square(75.90, 39.50, 76.00, 39.60))


# --------------------------------------------------------------------------- lists


async def test_list_grids_keyset_pages(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """API conventions (R-GRID-2 layout): limit/cursor pages with the filtered total."""
    headers = auth(world.admin_d, clock)
    params = {"parent_id": str(world.c1.id), "limit": "1"}
    first = await client.get(GRIDS, params=params, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_cursor"]
    assert page["items"][0]["id"] == str(world.g1.id)  # ordered by code
    second = await client.get(
        GRIDS, params={**params, "cursor": page["next_cursor"]}, headers=headers
    )
    assert second.status_code == 200, second.text
    page2 = second.json()
    assert [i["id"] for i in page2["items"]] == [str(world.g2.id)]
    assert page2["next_cursor"] is None and page2["total"] == 2
    for garbage in ("garbage!!", "W10", "WyJ4IiwieSJd"):  # junk, [] and ["x","y"]
        r = await client.get(GRIDS, params={**params, "cursor": garbage}, headers=headers)
        assert_problem(r, 400, "cursor_invalid")


async def test_list_grids_bbox(client: AsyncClient, world: World, clock: MovableClock) -> None:
    """API conventions: `bbox=` keeps the grids meeting the box; a bad box is 422."""
    headers = auth(world.admin_d, clock)
    r = await client.get(GRIDS, params={"bbox": "75.96,39.41,75.99,39.44"}, headers=headers)
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [str(world.g2.id)]
    assert r.json()["total"] == 1
    r = await client.get(GRIDS, params={"bbox": "75.90,39.40,76.10,39.50"}, headers=headers)
    assert {i["id"] for i in r.json()["items"]} == {
        str(world.g1.id),
        str(world.g2.id),
        str(world.g3.id),
    }
    for bad in ("1,2,3", "a,b,c,d", "76,39.4,75.9,39.5", "75.9,39.4,200,39.5", "nan,1,2,3"):
        r = await client.get(GRIDS, params={"bbox": bad}, headers=headers)
        body = assert_problem(r, 422, "validation_failed")
        assert body["errors"][0]["field"] == "bbox"


# --------------------------------------------------------------------------- jurisdiction


async def test_grids_outside_jurisdiction_are_not_found(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2 with R-JUR-1: S2's admin cannot see or touch G1 (in S1): 404 everywhere."""
    headers = auth(world.admin_s2, clock)
    url = f"{GRIDS}/{world.g1.id}"
    # A real ETag, so a 404 cannot be a 412 in disguise.
    etag = await etag_of(client, world.g1.id, auth(world.admin_d, clock))
    write = {**headers, "If-Match": etag}
    line = {"type": "LineString", "coordinates": [[75.93, 39.39], [75.93, 39.46]]}
    responses = [
        await client.get(url, headers=headers),
        await client.patch(url, json={"name": "越权"}, headers=write),
        await client.delete(url, headers=write),
        await client.get(f"{url}/history", headers=headers),
        await client.post(
            f"{url}/split",
            json={"line": line, "new_grids": [{"code": NEW_CODE, "name": "越权"}]},
            headers=headers,
        ),
        await client.post(
            f"{url}/move-records", json={"target_grid_id": str(world.g3.id)}, headers=headers
        ),
        # Pulling records into G1 from S2's own G3 crosses the boundary too.
        await client.post(
            f"{GRIDS}/{world.g3.id}/move-records",
            json={"target_grid_id": str(world.g1.id)},
            headers=headers,
        ),
        await client.post(
            f"{GRIDS}/merge",
            json={"grid_ids": [str(world.g3.id), str(world.g1.id)]},
            headers=headers,
        ),
    ]
    for r in responses:
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
    r = await client.post(
        GRIDS, json=body_for(world, poly(75.90, 39.45, 75.95, 39.50)), headers=headers
    )
    assert r.status_code == 404, r.text
    r = await client.get(f"{GRIDS}/locate", params={"lon": 75.925, "lat": 39.425}, headers=headers)
    assert_problem(r, 404, "point_not_in_grid")
    listed = await client.get(GRIDS, params={"parent_id": str(world.c1.id)}, headers=headers)
    assert listed.json()["total"] == 0
    as_of = await client.get(
        GRIDS,
        params={"parent_id": str(world.c1.id), "as_of": clock.now().isoformat()},
        headers=headers,
    )
    assert as_of.json()["total"] == 0
    r = await client.get(f"/api/v1/org-units/{world.c1.id}/coverage", headers=headers)
    assert r.status_code == 404, r.text
    # S2's admin still sees its own grid, and G1 is untouched.
    assert (await client.get(f"{GRIDS}/{world.g3.id}", headers=headers)).status_code == 200
    admin = auth(world.admin_d, clock)
    g1 = await client.get(url, headers=admin)
    assert g1.headers["ETag"] == etag and g1.json()["name"] == world.g1.name
    history = (await client.get(f"{url}/history", headers=admin)).json()
    assert [v["operation"] for v in history] == ["create"]


async def test_grid_worker_cannot_write_grids(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2 with roles: a grid worker reads its grid but may not draw or reshape."""
    headers = auth(world.worker_g1, clock)
    assert (await client.get(f"{GRIDS}/{world.g1.id}", headers=headers)).status_code == 200
    r = await client.post(
        GRIDS, json=body_for(world, poly(75.90, 39.45, 75.95, 39.50)), headers=headers
    )
    assert_problem(r, 403, "permission_denied")
    r = await client.patch(f"{GRIDS}/{world.g1.id}", json={"name": "改"}, headers=headers)
    assert_problem(r, 403, "permission_denied")
    r = await client.delete(f"{GRIDS}/{world.g1.id}", headers=headers)
    assert_problem(r, 403, "permission_denied")
    assert (await client.get(f"{GRIDS}/{world.g1.id}", headers=headers)).json()[
        "name"
    ] == world.g1.name


# --------------------------------------------------------------------------- tolerances, edges


M_LAT = 1 / 110_574  # one metre of latitude in degrees
M_LON = 1 / (111_320 * math.cos(math.radians(39.5)))  # one metre of longitude at 39.5°N


@pytest.mark.parametrize(
    ("metres", "direction", "accepted"),
    [
        (0.5, "north", True),
        (1.5, "north", False),
        (0.5, "east", True),
        (1.5, "east", False),
    ],
)
async def test_outside_tolerance_is_one_metre_r_grid_1(
    client: AsyncClient,
    world: World,
    clock: MovableClock,
    metres: float,
    direction: str,
    accepted: bool,
) -> None:
    """R-GRID-1: the 1 m tolerance holds north-south and east-west (metres, not degrees)."""
    if direction == "north":
        geometry = poly(75.95, 39.45, 76.00, 39.50 + metres * M_LAT)
    else:
        geometry = poly(75.95, 39.45, 76.00 + metres * M_LON, 39.50)
    r = await client.post(GRIDS, json=body_for(world, geometry), headers=auth(world.admin_d, clock))
    if accepted:
        assert r.status_code == 201, r.text
    else:
        body = assert_problem(r, 422, "grid_outside_parent")
        assert m2(body["geometry"]) == pytest.approx(metres * 5_500, rel=0.3)


@pytest.mark.parametrize(("dip_m2", "accepted"), [(0.5, True), (3.0, False)])
async def test_overlap_tolerance_is_one_square_metre_r_grid_1(
    client: AsyncClient, world: World, clock: MovableClock, dip_m2: float, accepted: bool
) -> None:
    """R-GRID-1: a triangular dip into G2 of under 1 m² is tolerated, a bigger one is not."""
    depth = 1.0 * M_LAT  # 1 m deep
    half_base = dip_m2 * M_LON  # triangle area = half_base × depth
    geometry = {
        "type": "Polygon",
        "coordinates": [
            [
                [75.95, 39.45],
                [75.975 - half_base, 39.45],
                [75.975, 39.45 - depth],
                [75.975 + half_base, 39.45],
                [76.00, 39.45],
                [76.00, 39.50],
                [75.95, 39.50],
                [75.95, 39.45],
            ]
        ],
    }
    r = await client.post(GRIDS, json=body_for(world, geometry), headers=auth(world.admin_d, clock))
    if accepted:
        assert r.status_code == 201, r.text
    else:
        body = assert_problem(r, 422, "grid_overlap")
        assert body["overlaps"][0]["grid_id"] == str(world.g2.id)
        assert body["overlaps"][0]["area_m2"] == pytest.approx(dip_m2, rel=0.05)


async def test_as_of_layout_pages_like_live_list_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2 with the list conventions: the "as of" layout is a keyset page with the
    filtered total, a working cursor and the same filters."""
    headers = auth(world.admin_d, clock)
    at = (clock.now() + timedelta(minutes=5)).isoformat()
    params: dict[str, Any] = {"parent_id": str(world.c1.id), "as_of": at, "limit": 1}
    first = await client.get(GRIDS, params=params, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [str(world.g1.id)]
    assert page["next_cursor"]
    second = await client.get(
        GRIDS, params={**params, "cursor": page["next_cursor"]}, headers=headers
    )
    assert second.status_code == 200, second.text
    assert [i["id"] for i in second.json()["items"]] == [str(world.g2.id)]
    assert second.json()["next_cursor"] is None
    boxed = await client.get(
        GRIDS, params={"as_of": at, "bbox": "75.96,39.41,75.99,39.44"}, headers=headers
    )
    assert [i["id"] for i in boxed.json()["items"]] == [str(world.g2.id)]
    named = await client.get(GRIDS, params={"as_of": at, "q": world.g3.code}, headers=headers)
    assert [i["id"] for i in named.json()["items"]] == [str(world.g3.id)]
    bad = await client.get(GRIDS, params={**params, "cursor": "garbage!!"}, headers=headers)
    assert_problem(bad, 400, "cursor_invalid")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"geometry": None}, "grid_geometry_required", "geometry"),
        ({"name": None}, "validation_failed", "name"),
    ],
)
async def test_patch_cannot_clear_name_or_geometry_r_grid_1(
    client: AsyncClient,
    world: World,
    clock: MovableClock,
    body: dict[str, Any],
    code: str,
    field: str,
) -> None:
    """R-GRID-1: a grid always has a polygon and a name; an explicit null is refused, not
    silently ignored."""
    headers = auth(world.admin_d, clock)
    url = f"{GRIDS}/{world.g1.id}"
    before = await client.get(url, headers=headers)
    problem_body = assert_problem(await client.patch(url, json=body, headers=headers), 422, code)
    assert field in {e["field"] for e in problem_body["errors"]}
    after = await client.get(url, headers=headers)
    assert after.json() == before.json()


@pytest.mark.parametrize(
    ("lon", "lat", "field"), [(200, 39.4, "lon"), (75.9, 95, "lat"), ("nan", 39.4, "lon")]
)
async def test_locate_out_of_range_point_r_grid_3(
    client: AsyncClient, world: World, clock: MovableClock, lon: Any, lat: Any, field: str
) -> None:
    """R-GRID-3: a point off the globe is refused, naming the bad coordinate."""
    r = await client.get(
        f"{GRIDS}/locate", params={"lon": lon, "lat": lat}, headers=auth(world.admin_d, clock)
    )
    body = assert_problem(r, 422, "coordinate_out_of_range")
    assert [e["field"] for e in body["errors"]] == [field]


async def test_merge_moves_records_to_survivor_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: the first grid listed survives; the absorbed grid's records move to it."""
    headers = auth(world.admin_d, clock)
    r = await client.post(
        f"{GRIDS}/merge",
        json={"grid_ids": [str(world.g2.id), str(world.g1.id)], "reason": "合并"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(world.g2.id)
    assert (await client.get(f"{GRIDS}/{world.g1.id}", headers=headers)).status_code == 404
    me = (await client.get("/api/v1/me", headers=auth(world.worker_g1, clock))).json()
    assert me["unit"]["id"] == str(world.g2.id)
    history = (await client.get(f"{GRIDS}/{world.g2.id}/history", headers=headers)).json()
    assert history[-1]["operation"] == "merge"
    assert history[-1]["attributes"]["moved_records"] == {"users": 1}
    assert history[-1]["reason"] == "合并"
    absorbed = (await client.get(f"{GRIDS}/{world.g1.id}/history", headers=headers)).json()
    assert [v["operation"] for v in absorbed] == ["create", "delete"]
    located = await client.get(
        f"{GRIDS}/locate", params={"lon": 75.925, "lat": 39.425}, headers=headers
    )
    assert located.json()["grid"]["id"] == str(world.g2.id)


async def test_as_of_without_offset_is_read_in_business_time_r_grid_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """API.md: times are business time (+08:00) unless they carry an offset."""
    clock.advance(timedelta(hours=2))
    headers = auth(world.admin_d, clock)
    r = await client.patch(f"{GRIDS}/{world.g1.id}", json={"name": "后改名"}, headers=headers)
    assert r.status_code == 200, r.text
    # One hour after creation, written as Beijing wall-clock time without an offset.
    beijing = (clock.now() - timedelta(hours=1) + timedelta(hours=8)).replace(tzinfo=None)
    r = await client.get(
        GRIDS,
        params={"parent_id": str(world.c1.id), "as_of": beijing.isoformat()},
        headers=headers,
    )
    names = {item["id"]: item["name"] for item in r.json()["items"]}
    assert names[str(world.g1.id)] == world.g1.name
