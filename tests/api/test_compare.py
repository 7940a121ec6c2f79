"""Comparing a department's file with the registry (R-CMP-2): missing here, missing there and
conflicting fields, per unit, downloadable, masked per R-JUR-3."""

import csv
import io

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession

from domain.imports import TEMPLATES
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.imports import COMPARE, REGISTRY, csv_file
from tests.routes.people import make_person, resident_id


def row(**cells: str) -> list[str]:
    by_key = {c.key: c.header for c in TEMPLATES[REGISTRY].columns}
    named = {by_key[k]: v for k, v in cells.items()}
    return [named.get(h, "") for h in TEMPLATES[REGISTRY].headers]


async def compare_at_district(
    client: AsyncClient, world: World, clock: MovableClock, body: bytes
) -> Response:
    """The district's admin compares the police's file with the whole district."""
    return await client.post(
        COMPARE,
        data={"registry": REGISTRY, "unit_id": str(world.district.id), "source": "公安局"},
        files={"file": ("户籍.csv", body, "text/csv")},
        headers=auth(world.admin_d, clock),
    )


async def test_a_department_file_against_the_registry_per_unit_r_cmp_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    same = await make_person(session, clock, world.g1, name="张三", phone="13900000001")
    moved = await make_person(session, clock, world.g2, name="李四", phone="13900000002")
    gone = await make_person(session, clock, world.g3, name="王五")
    newcomer = resident_id()
    body = csv_file(
        [
            row(name="张三", id_number=same["id_number"], phone="13900000001"),
            # The department knows another phone and name for 李四.
            row(name="李老四", id_number=moved["id_number"], phone="13900000099"),
            row(grid_code=world.g1.code, name="赵六", id_number=newcomer),
        ]
    )
    r = await compare_at_district(client, world, clock, body)
    assert r.status_code == 201, r.text
    report = r.json()
    assert (report["rows_read"], report["missing_here"], report["missing_there"]) == (3, 1, 1)
    assert report["conflicts"] == 2

    detail = await client.get(f"{COMPARE}/{report['id']}", headers=auth(world.admin_d, clock))
    units = {u["code"]: u for u in detail.json()["units"]}
    assert units[world.g1.code]["missing_here"] == 1
    assert units[world.g2.code]["conflict"] == 2
    assert units[world.g3.code]["missing_there"] == 1

    lines = (
        await client.get(f"{COMPARE}/{report['id']}/lines", headers=auth(world.admin_d, clock))
    ).json()["items"]
    found = {(x["outcome"], x["key"], x["field"], x["here"], x["there"]) for x in lines}
    assert found == {
        ("missing_here", newcomer, None, None, None),
        ("missing_there", gone["id_number"], None, None, None),
        ("conflict", moved["id_number"], "name", "李四", "李老四"),
        ("conflict", moved["id_number"], "phone", "13900000002", "13900000099"),
    }
    only = await client.get(
        f"{COMPARE}/{report['id']}/lines",
        params={"outcome": "conflict", "unit_id": str(world.g2.id)},
        headers=auth(world.admin_d, clock),
    )
    assert only.json()["total"] == 2

    download = await client.get(
        f"{COMPARE}/{report['id']}/lines/export",
        params={"format": "csv", "outcome": "conflict"},
        headers=auth(world.admin_d, clock),
    )
    assert download.status_code == 200
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert {(x["字段"], x["本系统"], x["部门数据"]) for x in rows} == {
        ("姓名", "李四", "李老四"),
        ("联系电话", "13900000002", "13900000099"),
    }

    # Without pii:read the identities, names and phones are masked.
    operator = await make_user(session, roles=["district_operator"], unit=world.district)
    masked = (
        await client.get(
            f"{COMPARE}/{report['id']}/lines",
            params={"outcome": "conflict"},
            headers=auth(operator, clock),
        )
    ).json()["items"]
    assert all(moved["id_number"] != x["key"] for x in masked)
    assert all(x["here"] != "13900000002" for x in masked)


async def test_a_file_of_another_template_is_refused_whole_r_cmp_2(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        COMPARE,
        data={"registry": "organisations_social", "unit_id": str(world.s1.id), "source": "民政局"},
        files={"file": ("people.csv", csv_file([]), "text/csv")},
        headers=auth(world.admin_d, clock),
    )
    body = assert_problem(r, 422, "import_columns_mismatch")
    assert "名称" in body["missing_columns"]
    listed = await client.get(COMPARE, headers=auth(world.admin_d, clock))
    assert listed.json()["total"] == 0


async def test_two_comparisons_in_one_transaction_r_cmp_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The file's working table goes with its comparison, so a second comparison inside the
    same transaction (here the test's) works instead of failing on a table left behind."""
    person = await make_person(session, clock, world.g1, name="张三")
    body = csv_file([row(name="张三", id_number=person["id_number"])])
    for _ in range(2):
        r = await compare_at_district(client, world, clock, body)
        assert r.status_code == 201, r.text
        assert (r.json()["rows_read"], r.json()["missing_here"]) == (1, 0)
