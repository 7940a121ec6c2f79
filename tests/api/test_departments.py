"""R-ORG-2 functional departments: they belong to a district or a street unit, have unique live
codes, and are scoped by their unit (R-JUR-1: 404 outside the caller's jurisdiction)."""

import uuid
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, Department
from tests.conftest import MovableClock, unique
from tests.factories import World, assert_problem, auth, make_user

DEPARTMENTS = "/api/v1/departments"


def department(unit_id: uuid.UUID, code: str | None = None, name: str = "民政") -> dict[str, Any]:
    return {"code": code or unique("MZ"), "name": name, "unit_id": str(unit_id)}


async def department_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(Department))).scalar_one())


async def test_r_org_2_create_at_a_district_or_a_street(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    at_district = department(world.district.id, name="公安分局")
    r = await client.post(DEPARTMENTS, json=at_district, headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    out = r.json()
    assert r.headers["location"] == f"{DEPARTMENTS}/{out['id']}"
    assert out["code"] == at_district["code"]
    assert out["name"] == "公安分局"
    assert out["unit_id"] == str(world.district.id)
    assert out["version"] == 1

    r = await client.post(
        DEPARTMENTS,
        json=department(world.s2.id, name="城管中队"),
        headers=auth(world.admin_s2, clock),
    )
    assert r.status_code == 201, r.text
    assert r.json()["unit_id"] == str(world.s2.id)

    await set_scope(session, "*")
    row = (
        await session.execute(select(Department.path).where(Department.id == out["id"]))
    ).scalar_one()
    assert str(row) == world.district.path
    actions = (
        await session.execute(
            select(AuditEntry.action).where(
                AuditEntry.target_type == "department", AuditEntry.target_id == out["id"]
            )
        )
    ).scalars()
    assert list(actions) == ["department.create"]


async def test_r_org_2_not_at_a_community_or_a_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await department_count(session)
    headers = auth(world.admin_s1, clock)
    for unit in (world.c1, world.g1):
        r = await client.post(DEPARTMENTS, json=department(unit.id), headers=headers)
        problem = assert_problem(r, 422, "department_unit_level")
        assert [e["field"] for e in problem["errors"]] == ["unit_id"]
    assert await department_count(session) == before


async def test_r_org_2_malformed_code_is_422(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await department_count(session)
    headers = auth(world.admin_s1, clock)
    for code in ("X", "has space", "公安局", "a" * 33, "drop;table"):
        r = await client.post(DEPARTMENTS, json=department(world.s1.id, code=code), headers=headers)
        problem = assert_problem(r, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == ["code"], code
    r = await client.post(
        DEPARTMENTS, json={**department(world.s1.id), "path": "x"}, headers=headers
    )
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["path"]
    assert await department_count(session) == before


async def test_r_org_2_duplicate_code_is_409(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await department_count(session)
    r = await client.post(
        DEPARTMENTS,
        json=department(world.s1.id, code=world.dept_s1.code),
        headers=auth(world.admin_s1, clock),
    )
    problem = assert_problem(r, 409, "code_taken")
    assert world.dept_s1.code in problem["detail"]
    # Also when the department holding the code is outside the caller's jurisdiction.
    r = await client.post(
        DEPARTMENTS,
        json=department(world.s2.id, code=world.dept_s1.code),
        headers=auth(world.admin_s2, clock),
    )
    assert_problem(r, 409, "code_taken")
    assert await department_count(session) == before


async def test_r_org_2_get_and_list(client: AsyncClient, world: World, clock: MovableClock) -> None:
    headers = auth(world.admin_d, clock)
    prefix = unique("ZJ")
    created = []
    for suffix in ("b", "a"):
        r = await client.post(
            DEPARTMENTS, json=department(world.s2.id, code=f"{prefix}{suffix}"), headers=headers
        )
        assert r.status_code == 201, r.text
        created.append(r.json())

    r = await client.get(f"{DEPARTMENTS}/{world.dept_s1.id}", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json()["code"] == world.dept_s1.code
    assert r.json()["unit_id"] == str(world.s1.id)
    r = await client.get(f"{DEPARTMENTS}/{uuid.uuid4()}", headers=headers)
    assert_problem(r, 404, "department_not_found")

    r = await client.get(DEPARTMENTS, params={"unit_id": str(world.s2.id)}, headers=headers)
    assert r.status_code == 200, r.text
    assert [d["code"] for d in r.json()["items"]] == [f"{prefix}a", f"{prefix}b"]
    assert r.json()["total"] == 2

    r = await client.get(DEPARTMENTS, params={"limit": 1}, headers=headers)
    page = r.json()
    assert page["total"] == 3
    seen = [page["items"][0]["id"]]
    while page["next_cursor"]:
        page = (
            await client.get(
                DEPARTMENTS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=headers
            )
        ).json()
        seen += [d["id"] for d in page["items"]]
    assert sorted(seen) == sorted([str(world.dept_s1.id), created[0]["id"], created[1]["id"]])


async def test_r_jur_1_departments_of_a_sibling_street_are_404(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s2, clock)
    r = await client.get(f"{DEPARTMENTS}/{world.dept_s1.id}", headers=headers)
    assert_problem(r, 404, "department_not_found")
    r = await client.get(DEPARTMENTS, headers=headers)
    assert r.json() == {"items": [], "next_cursor": None, "total": 0}
    r = await client.get(DEPARTMENTS, params={"unit_id": str(world.s1.id)}, headers=headers)
    assert r.json()["total"] == 0
    before = await department_count(session)
    r = await client.post(DEPARTMENTS, json=department(world.s1.id), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    # A street admin cannot put a department on its district either (above its unit).
    r = await client.post(DEPARTMENTS, json=department(world.district.id), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    assert await department_count(session) == before


async def test_r_jur_1_a_street_department_is_above_a_community_user(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A department belongs to its street (R-ORG-2); a community user's jurisdiction is its
    community and below, so the street's department is outside it (R-JUR-1)."""
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    r = await client.get(f"{DEPARTMENTS}/{world.dept_s1.id}", headers=auth(staff, clock))
    assert_problem(r, 404, "department_not_found")
    r = await client.get(f"{DEPARTMENTS}/{world.dept_s1.id}", headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text


async def test_r_org_3_department_write_needs_its_permission(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        DEPARTMENTS, json=department(world.s1.id), headers=auth(world.worker_g1, clock)
    )
    assert_problem(r, 403, "permission_denied")


async def test_r_org_2_rename_with_if_match_and_stale_412(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    url = f"{DEPARTMENTS}/{world.dept_s1.id}"
    headers = auth(world.admin_s1, clock)
    etag = (await client.get(url, headers=headers)).headers["etag"]
    r = await client.patch(url, json={"name": "新派出所"}, headers={**headers, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "新派出所" and r.headers["etag"] != etag
    stale = await client.patch(url, json={"name": "再改"}, headers={**headers, "If-Match": etag})
    assert_problem(stale, 412, "precondition_failed")
    assert (await client.get(url, headers=headers)).json()["name"] == "新派出所"
    assert_problem(
        await client.patch(url, json={"code": "X9"}, headers=headers), 422, "validation_failed"
    )


async def test_r_org_2_delete_refused_while_users_belong_then_allowed(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    url = f"{DEPARTMENTS}/{world.dept_s1.id}"
    headers = auth(world.admin_s1, clock)
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    assert_problem(await client.delete(url, headers=headers), 409, "unit_has_members")
    r = await client.patch(
        f"/api/v1/users/{handler.id}", json={"is_active": False}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert (await client.delete(url, headers=headers)).status_code == 204
    assert_problem(await client.get(url, headers=headers), 404, "department_not_found")
