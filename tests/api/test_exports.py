"""Exports of the foundation lists (R-EXP-1): streamed CSV/XLSX with the list's filters,
jurisdiction and masking."""

import csv
import io
import zipfile

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())  # Excel needs the BOM for Chinese text
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


async def test_grid_export_follows_filters_and_jurisdiction_r_exp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(
        "/api/v1/grids/export",
        params={"format": "csv", "parent_id": str(world.c1.id)},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert sorted(row["编码"] for row in read_csv(r.content)) == [world.g1.code, world.g2.code]
    sibling = await client.get(
        "/api/v1/grids/export", params={"format": "csv"}, headers=auth(world.admin_s2, clock)
    )
    assert [row["编码"] for row in read_csv(sibling.content)] == [world.g3.code]


async def test_org_unit_export_as_xlsx_r_exp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(
        "/api/v1/org-units/export",
        params={"format": "xlsx", "level": "community"},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as book:
        strings = (
            book.read("xl/sharedStrings.xml").decode()
            if "xl/sharedStrings.xml" in book.namelist()
            else ""
        )
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    content = strings + sheet
    for unit in (world.c1, world.c2, world.c3):
        assert unit.code in content
    assert world.g1.code not in content


async def test_user_export_masks_phones_without_pii_read_r_jur_3(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await set_scope(session, "*")
    await session.execute(
        text("UPDATE users SET phone = '13812345678' WHERE id = :id"), {"id": world.worker_g1.id}
    )
    staff = await make_user(session, roles=["community_staff"], unit=world.s1)
    masked = await client.get(
        "/api/v1/users/export", params={"format": "csv"}, headers=auth(staff, clock)
    )
    phones = {row["用户名"]: row["电话"] for row in read_csv(masked.content)}
    assert phones[world.worker_g1.username] == "138****5678"
    full = await client.get(
        "/api/v1/users/export", params={"format": "csv"}, headers=auth(world.admin_d, clock)
    )
    phones = {row["用户名"]: row["电话"] for row in read_csv(full.content)}
    assert phones[world.worker_g1.username] == "13812345678"
    await set_scope(session, "*")
    audited = await session.scalar(
        text("SELECT count(*) FROM audit_log WHERE action = 'pii.export' AND actor_id = :a"),
        {"a": world.admin_d.id},
    )
    assert audited == 1


async def test_export_needs_its_permission_and_a_known_format(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    bad = await client.get(
        "/api/v1/departments/export", params={"format": "pdf"}, headers=auth(world.admin_d, clock)
    )
    assert_problem(bad, 422, "validation_failed")
    denied = await client.get(
        "/api/v1/users/export", params={"format": "csv"}, headers=auth(world.worker_g1, clock)
    )
    assert_problem(denied, 403, "permission_denied")
