"""Imports (R-IMP-1) and claims (R-IMP-2) of houses, rentals, key places, service teams, city
components and video points: one table of cases, each registry through the same checks —
its template, a wrong template refused, a good file claimed, bad rows rejected with their
reasons, pool duplicates claimed together and an existing record reported `duplicate`.
Locations given in GCJ-02 are kept in WGS-84 (R-GRID-4).

The job reads with its own sessions, so the files run on a committed territory of their
own (伊吾县, 650522), cleared afterwards."""

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from python_calamine import CalamineWorkbook

from domain.coords import Crs, to_wgs84
from domain.imports import TEMPLATES
from services import imports
from tests import territory
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.imports import URL
from tests.territory import IMPORT_TABLES, ImportTerritory, import_territory

REGION = "650522"
POOL = "/api/v1/import-pool"
# Inside the territory's 0.2° square (west 94.0, south 42.5), as a Chinese map gives it.
GCJ = (94.05, 42.55)
real_client = territory.real_client


@dataclass(frozen=True)
class Case:
    """A registry's good row (twice in its file), a bad row with the rejections it earns,
    and where its records are read."""

    registry: str
    good: dict[str, str]
    bad: dict[str, str]
    rejected: set[tuple[str, str]]
    url: str
    shown: dict[str, Any] = field(default_factory=dict)


CASES = [
    Case(
        "houses",
        {"house_no": "YW-H-1", "address": "伊吾县幸福路1号1栋101", "area": "86.5", "room": "101"},
        {"house_no": "有 空格", "address": "伊吾县幸福路2号", "area": "-3"},
        {("house_no", "field_invalid"), ("area", "field_invalid")},
        "/api/v1/houses",
        {"house_no": "YW-H-1", "area": 86.5},
    ),
    Case(
        "rentals",
        {"house_no": "YW-R-1", "landlord_name": "马房东", "rooms": "3", "hazard_level": "低"},
        {"house_no": "YW-R-1", "landlord_name": "马二", "rooms": "0", "hazard_level": "很高"},
        {("rooms", "field_invalid"), ("hazard_level", "field_invalid")},
        "/api/v1/rentals",
        {"landlord_name": "马房东", "rooms": 3, "hazard_level": "低"},
    ),
    Case(
        "places",
        {
            "name": "伊吾网吧",
            "address": "伊吾县商业街8号",
            "kinds": "消防安全重点、其他重点场所",
            "subtype": "其他",
        },
        {"name": "坏场所", "kinds": "游乐场", "phone": "电话"},
        {("kinds", "field_invalid"), ("phone", "field_invalid")},
        "/api/v1/places",
        {"name": "伊吾网吧", "address": "伊吾县商业街8号"},
    ),
    Case(
        "teams",
        {"name": "幸福社区调解队", "category": "基层综治组织", "subcategory": "人民调解委员会"},
        {"name": "坏团队", "category": "基层综治组织", "subcategory": "篮球队"},
        {("subcategory", "dictionary_value_invalid")},
        "/api/v1/teams",
        {"name": "幸福社区调解队", "category": "governance"},
    ),
    Case(
        "components",
        {"code": "YW-C-1", "name": "幸福路井盖", "category": "公共设施", "kind": "井盖"},
        {"code": "YW-C-2", "name": "错类井盖", "category": "民用设施", "kind": "井盖"},
        {("kind", "dictionary_value_invalid")},
        "/api/v1/components",
        {"code": "YW-C-1", "kind": "manhole_cover", "condition": "normal"},
    ),
    Case(
        "video_points",
        {
            "name": "幸福路口",
            "source": "交通视频",
            "stream_url": "rtsp://cam.example/1",
            "owner": "交警大队",
        },
        {"name": "坏点位", "source": "交通视频", "stream_url": "ftp://x/1", "owner": "交警"},
        {("stream_url", "field_invalid")},
        "/api/v1/video-points",
        {"name": "幸福路口", "source": "traffic"},
    ),
]
LOCATED = {"houses", "places", "components", "video_points"}


def _by_id(case: Case) -> str:
    return case.registry


def upload(registry: str, district_id: Any, body: bytes, **data: str) -> dict[str, Any]:
    return {
        "data": {"registry": registry, "district_id": str(district_id), **data},
        "files": {"file": (f"{registry}.csv", body, "application/octet-stream")},
    }


def csv_body(registry: str, rows: list[dict[str, str]]) -> bytes:
    columns = TEMPLATES[registry].columns
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    writer.writerows([[cells.get(c.key, "") for c in columns] for cells in rows])
    return out.getvalue().encode()


# Templates and refusals, in the rolled-back world.


@pytest.mark.parametrize("case", CASES, ids=_by_id)
async def test_each_registry_has_its_template_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock, case: Case
) -> None:
    headers = auth(world.admin_d, clock)
    expected = TEMPLATES[case.registry].headers
    listed = {
        t["registry"]: t for t in (await client.get(f"{URL}/templates", headers=headers)).json()
    }
    assert [c["header"] for c in listed[case.registry]["columns"]] == expected
    assert expected[0] == "网格编码"
    if case.registry in LOCATED:
        assert expected[-3:] == ["经度", "纬度", "坐标系"]

    as_csv = await client.get(
        f"{URL}/templates/{case.registry}", params={"format": "csv"}, headers=headers
    )
    assert next(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig")))) == expected
    as_xlsx = await client.get(f"{URL}/templates/{case.registry}", headers=headers)
    book = CalamineWorkbook.from_filelike(io.BytesIO(as_xlsx.content))
    assert book.get_sheet_by_index(0).to_python()[0] == expected


@pytest.mark.parametrize("case", CASES, ids=_by_id)
async def test_another_registrys_file_is_refused_whole_r_imp_1(
    client: AsyncClient, world: World, clock: MovableClock, case: Case
) -> None:
    """A file of people's columns (or any other registry's) is not this registry's."""
    people = TEMPLATES["people_registered"].headers
    own = TEMPLATES[case.registry].headers
    r = await client.post(
        URL,
        headers=auth(world.admin_d, clock),
        **upload(case.registry, world.district.id, csv_body("people_registered", [])),
    )
    body = assert_problem(r, 422, "import_columns_mismatch")
    assert body["missing_columns"] == [h for h in own if h not in people]
    assert body["unexpected_columns"] == [h for h in people if h not in own]
    assert (await client.get(URL, headers=auth(world.admin_d, clock))).json()["total"] == 0


# Files through the job, the pool and claims on a committed territory.


Territory = ImportTerritory
# Beyond the imports: the records the claims create.
RECORD_TABLES = ("rentals", "houses", "place_kinds", "places", "teams", "components")
TABLES = (*IMPORT_TABLES, *RECORD_TABLES, "video_points")


@pytest.fixture
async def yiwu(app: FastAPI, clock: MovableClock) -> AsyncIterator[Territory]:
    async with import_territory(
        app, clock, region=REGION, west=94.0, south=42.5, tables=TABLES
    ) as found:
        yield found


async def _imported(
    client: AsyncClient,
    app: FastAPI,
    clock: MovableClock,
    yiwu: Territory,
    registry: str,
    rows: list[dict[str, str]],
    **data: str,
) -> dict[str, Any]:
    r = await client.post(
        URL,
        headers=yiwu.data.headers,
        **upload(registry, yiwu.district_id, csv_body(registry, rows), **data),
    )
    assert r.status_code == 202, r.text
    ran = await imports.run_import(app.state.sessionmaker, clock, uuid.UUID(r.json()["id"]))
    assert ran == "done"
    return dict((await client.get(f"{URL}/{r.json()['id']}", headers=yiwu.data.headers)).json())


async def _pool(client: AsyncClient, yiwu: Territory, import_id: str) -> list[dict[str, Any]]:
    listed = await client.get(POOL, params={"import_id": import_id}, headers=yiwu.data.headers)
    return list(listed.json()["items"])


async def _claim(client: AsyncClient, yiwu: Territory, *row_ids: str) -> dict[str, Any]:
    r = await client.post(
        f"{POOL}/claims",
        json={"grid_id": str(yiwu.data.grid_id), "row_ids": list(row_ids)},
        headers=yiwu.data.headers,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _house_for_rentals(client: AsyncClient, yiwu: Territory) -> None:
    made = await client.post(
        "/api/v1/houses",
        json={"grid_id": str(yiwu.data.grid_id), "house_no": "YW-R-1", "address": "伊吾县出租屋"},
        headers=yiwu.data.headers,
    )
    assert made.status_code == 201, made.text


@pytest.mark.parametrize("case", CASES, ids=_by_id)
async def test_a_file_is_checked_claimed_and_its_duplicates_found_r_imp_1_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory, case: Case
) -> None:
    if case.registry == "rentals":
        await _house_for_rentals(real_client, yiwu)
    located = case.registry in LOCATED
    lon, lat = GCJ
    good = {"grid_code": yiwu.grid_code, **case.good}
    if located:
        good |= {"lon": str(lon), "lat": str(lat), "crs": "GCJ-02"}
    rows = [good, good, {"grid_code": yiwu.grid_code, **case.bad}, {"grid_code": yiwu.grid_code}]
    done = await _imported(real_client, app, clock, yiwu, case.registry, rows)
    assert (done["rows_read"], done["rows_accepted"], done["rows_rejected"]) == (4, 2, 2)

    rejected = await real_client.get(f"{URL}/{done['id']}/rejections", headers=yiwu.data.headers)
    lines = {(x["row_no"], x["field"], x["reason"]) for x in rejected.json()["items"]}
    name_key = TEMPLATES[case.registry].name_key
    assert lines == {(4, f, r) for f, r in case.rejected} | {(5, name_key, "identity_required")}

    # The good row twice is one in the pool: claiming one claims both (R-IMP-2).
    first, twin = (item["id"] for item in await _pool(real_client, yiwu, done["id"]))
    claimed = await _claim(real_client, yiwu, first)
    assert claimed["failed"] == []
    [success] = claimed["succeeded"]
    assert {success["row_id"], *success["with"]} == {first, twin}
    record = await real_client.get(f"{case.url}/{success['record_id']}", headers=yiwu.data.headers)
    assert record.status_code == 200, record.text
    assert {k: record.json()[k] for k in case.shown} == case.shown
    if located:
        # Kept in WGS-84 (R-GRID-4).
        wgs = to_wgs84(lon, lat, Crs.GCJ02)
        assert record.json()["location"]["coordinates"] == pytest.approx(list(wgs), abs=1e-6)
        assert abs(wgs[0] - lon) > 1e-4

    # The same record imported again is a duplicate of the one claimed, side by side.
    again = await _imported(real_client, app, clock, yiwu, case.registry, [good])
    [row] = await _pool(real_client, yiwu, again["id"])
    repeat = await _claim(real_client, yiwu, row["id"])
    assert repeat["succeeded"] == []
    [failure] = repeat["failed"]
    assert failure["reason"] == "duplicate"
    assert failure["existing"]["record_id"] == success["record_id"]
    skipped = await real_client.post(f"{POOL}/{row['id']}/skip", headers=yiwu.data.headers)
    assert skipped.status_code == 200, skipped.text

    history = await real_client.get(
        "/api/v1/audit", params={"target_type": "import_row"}, headers=yiwu.data.headers
    )
    assert {"import_row.claim", "import_row.skip"} <= {e["action"] for e in history.json()["items"]}


async def test_the_upload_names_the_coordinate_system_of_blank_cells_r_grid_4(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory
) -> None:
    """A row's own 坐标系 wins over the upload's; a blank one takes the upload's."""
    lon, lat = GCJ
    base = {"grid_code": yiwu.grid_code, "category": "公共设施", "kind": "消防栓"}
    rows = [
        {**base, "code": "YW-F-1", "name": "消防栓一", "lon": str(lon), "lat": str(lat)},
        {
            **base,
            "code": "YW-F-2",
            "name": "消防栓二",
            "lon": str(lon),
            "lat": str(lat),
            "crs": "WGS-84",
        },
    ]
    done = await _imported(real_client, app, clock, yiwu, "components", rows, crs="gcj02")
    assert done["crs"] == "gcj02"
    items = {i["name"]: i for i in await _pool(real_client, yiwu, done["id"])}
    converted = items["消防栓一"]["values"]
    assert [converted["lon"], converted["lat"]] == pytest.approx(
        list(to_wgs84(lon, lat, Crs.GCJ02)), abs=1e-6
    )
    assert [items["消防栓二"]["values"]["lon"], items["消防栓二"]["values"]["lat"]] == [lon, lat]


async def test_a_component_without_its_location_is_incomplete_until_fixed_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory
) -> None:
    cells = {"grid_code": yiwu.grid_code, "code": "YW-C-9", "name": "无位置井盖"}
    cells |= {"category": "公共设施", "kind": "井盖"}
    done = await _imported(real_client, app, clock, yiwu, "components", [cells])
    [row] = await _pool(real_client, yiwu, done["id"])
    result = await _claim(real_client, yiwu, row["id"])
    [failure] = result["failed"]
    assert failure["reason"] == "incomplete"
    assert {e["field"] for e in failure["errors"]} == {"lon", "lat"}
    assert {e["header"] for e in failure["errors"]} == {"经度", "纬度"}

    current = await real_client.get(f"{POOL}/{row['id']}", headers=yiwu.data.headers)
    fixed = await real_client.patch(
        f"{POOL}/{row['id']}",
        json={"values": {"lon": "94.1", "lat": "42.6"}},
        headers={**yiwu.data.headers, "If-Match": current.headers["etag"]},
    )
    assert fixed.status_code == 200, fixed.text
    claimed = await _claim(real_client, yiwu, row["id"])
    assert [s["row_id"] for s in claimed["succeeded"]] == [row["id"]]


async def test_a_rental_of_no_house_in_the_grid_is_incomplete_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory
) -> None:
    cells = {"grid_code": yiwu.grid_code, "house_no": "YW-NONE", "landlord_name": "无房东"}
    done = await _imported(real_client, app, clock, yiwu, "rentals", [cells])
    [row] = await _pool(real_client, yiwu, done["id"])
    [failure] = (await _claim(real_client, yiwu, row["id"]))["failed"]
    assert failure["reason"] == "incomplete"
    assert [(e["field"], e["code"]) for e in failure["errors"]] == [("house_no", "house_not_found")]


async def test_a_duplicate_house_row_merges_into_the_record_r_imp_2(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory
) -> None:
    """Merge writes what the row states onto the active record it duplicates."""
    cells = {"grid_code": yiwu.grid_code, "house_no": "YW-M-1", "address": "伊吾县合并路1号"}
    first = await _imported(real_client, app, clock, yiwu, "houses", [cells])
    [row] = await _pool(real_client, yiwu, first["id"])
    [made] = (await _claim(real_client, yiwu, row["id"]))["succeeded"]
    lon, lat = GCJ
    again = {**cells, "area": "120", "lon": str(lon), "lat": str(lat), "crs": "GCJ-02"}
    second = await _imported(real_client, app, clock, yiwu, "houses", [again])
    [dup] = await _pool(real_client, yiwu, second["id"])
    [failure] = (await _claim(real_client, yiwu, dup["id"]))["failed"]
    side = {f["field"]: f for f in failure["existing"]["fields"]}
    assert (side["area"]["row"], side["area"]["record"], side["area"]["differs"]) == (
        "120",
        None,
        True,
    )
    merged = await real_client.post(
        f"{POOL}/{dup['id']}/merge",
        json={"grid_id": str(yiwu.data.grid_id)},
        headers=yiwu.headers,
    )
    assert merged.status_code == 200, merged.text
    house = await real_client.get(f"/api/v1/houses/{made['record_id']}", headers=yiwu.headers)
    assert house.json()["area"] == 120
    assert house.json()["location"]["coordinates"] == pytest.approx(
        list(to_wgs84(lon, lat, Crs.GCJ02)), abs=1e-6
    )


async def test_a_team_file_in_xml_is_read_r_imp_1(
    real_client: AsyncClient, app: FastAPI, clock: MovableClock, yiwu: Territory
) -> None:
    template = TEMPLATES["teams"]
    cells = {"grid_code": yiwu.grid_code, "name": "巡逻队", "category": "群防群治队伍"}
    cells["established_on"] = "2020/5/1"
    row = "".join(f"<{c.header}>{cells.get(c.key, '')}</{c.header}>" for c in template.columns)
    body = f"<rows><row>{row}</row></rows>".encode()
    r = await real_client.post(
        URL,
        headers=yiwu.headers,
        data={"registry": "teams", "district_id": str(yiwu.district_id)},
        files={"file": ("teams.xml", body, "application/xml")},
    )
    assert r.status_code == 202, r.text
    assert (
        await imports.run_import(app.state.sessionmaker, clock, uuid.UUID(r.json()["id"])) == "done"
    )
    [pooled] = await _pool(real_client, yiwu, r.json()["id"])
    assert pooled["values"]["established_on"] == "2020-05-01"
    [made] = (await _claim(real_client, yiwu, pooled["id"]))["succeeded"]
    team = await real_client.get(f"/api/v1/teams/{made['record_id']}", headers=yiwu.headers)
    assert (team.json()["category"], team.json()["grid_id"]) == (
        "mass_prevention",
        str(yiwu.data.grid_id),
    )
