"""R-ORG-1 org units over the API: code shapes, one level below the parent, unique live codes,
top units only for whole-tree users; R-JUR-1: own unit and below only, 404 outside;
R-GRID-1: a reshaped or moved unit keeps its children inside it."""

import uuid
from typing import Any

from httpx import AsyncClient
from shapely import affinity
from shapely.geometry import Polygon, shape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, OrgUnit
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, geojson, make_user, square

UNITS = "/api/v1/org-units"


def unit_body(code: str, level: str, parent_id: uuid.UUID | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "name": f"单位{code[-4:]}", "level": level}
    if parent_id is not None:
        body["parent_id"] = str(parent_id)
    body.update(extra)
    return body


async def unit_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(OrgUnit))).scalar_one())


async def live_with_code(session: AsyncSession, code: str) -> int:
    await set_scope(session, "*")
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(OrgUnit)
                .where(OrgUnit.code == code, OrgUnit.deleted_at.is_(None))
            )
        ).scalar_one()
    )


# --- create ----------------------------------------------------------------------------------


async def test_r_org_1_superuser_builds_district_street_community(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    root = await make_user(session, roles=["admin"], superuser=True)
    headers = auth(root, clock)
    r = await client.post(UNITS, json=unit_body("653102000000", "district", None), headers=headers)
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    district = r.json()
    assert r.headers["location"] == f"{UNITS}/{district['id']}"
    assert district["level"] == "district"
    assert district["parent_id"] is None
    assert district["code"] == "653102000000"
    assert district["version"] == 1

    r = await client.post(
        UNITS, json=unit_body("653102001000", "street", district["id"]), headers=headers
    )
    assert r.status_code == 201, r.text
    street = r.json()
    assert street["parent_id"] == district["id"]
    r = await client.post(
        UNITS, json=unit_body("653102001001", "community", street["id"]), headers=headers
    )
    assert r.status_code == 201, r.text
    community = r.json()
    assert community["level"] == "community"

    # The new subtree is outside the D admin's jurisdiction.
    r = await client.get(f"{UNITS}/{community['id']}", headers=auth(world.admin_d, clock))
    assert_problem(r, 404, "org_unit_not_found")

    await set_scope(session, "*")
    actions = (
        await session.execute(
            select(AuditEntry.action)
            .where(
                AuditEntry.target_id.in_([district["id"], street["id"], community["id"]]),
                AuditEntry.target_type == "org_unit",
            )
            .order_by(AuditEntry.id)
        )
    ).scalars()
    assert list(actions) == ["district.create", "street.create", "community.create"]


async def test_r_org_1_admins_create_children_within_their_subtree(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        UNITS,
        json=unit_body("653101003000", "street", world.district.id),
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 201, r.text
    r = await client.post(
        UNITS,
        json=unit_body(
            "653101001003",
            "community",
            world.s1.id,
            geometry={
                "type": "Polygon",
                "coordinates": [
                    [[75.91, 39.41], [75.92, 39.41], [75.92, 39.42], [75.91, 39.42], [75.91, 39.41]]
                ],
            },
        ),
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text
    assert r.json()["geometry"]["type"] == "Polygon"
    assert r.json()["parent_id"] == str(world.s1.id)


async def test_r_org_1_community_under_a_district_is_level_mismatch(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await unit_count(session)
    r = await client.post(
        UNITS,
        json=unit_body("653101001009", "community", world.district.id),
        headers=auth(world.admin_d, clock),
    )
    problem = assert_problem(r, 422, "level_mismatch")
    assert [e["field"] for e in problem["errors"]] == ["level"]
    r = await client.post(
        UNITS,
        json=unit_body("653101009000", "street", world.s1.id),
        headers=auth(world.admin_d, clock),
    )
    assert_problem(r, 422, "level_mismatch")
    assert await unit_count(session) == before


async def test_r_org_1_grids_go_through_the_grid_endpoint(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await unit_count(session)
    r = await client.post(
        UNITS,
        json=unit_body("653101001001009", "grid", world.c1.id),
        headers=auth(world.admin_s1, clock),
    )
    assert_problem(r, 422, "use_grid_endpoint")
    r = await client.patch(
        f"{UNITS}/{world.g1.id}", json={"name": "改名"}, headers=auth(world.admin_s1, clock)
    )
    assert_problem(r, 422, "use_grid_endpoint")
    r = await client.delete(f"{UNITS}/{world.g2.id}", headers=auth(world.admin_s1, clock))
    assert_problem(r, 422, "use_grid_endpoint")
    assert await unit_count(session) == before


async def test_r_org_1_duplicate_live_code_is_409(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await unit_count(session)
    r = await client.post(
        UNITS,
        json=unit_body(world.c2.code, "community", world.s1.id),
        headers=auth(world.admin_s1, clock),
    )
    problem = assert_problem(r, 409, "code_taken")
    assert [e["field"] for e in problem["errors"]] == ["code"]
    assert world.c2.code in problem["detail"]
    assert await unit_count(session) == before
    assert await live_with_code(session, world.c2.code) == 1


async def test_r_org_1_code_of_a_deleted_unit_can_be_reused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    assert (await client.delete(f"{UNITS}/{world.c2.id}", headers=headers)).status_code == 204
    r = await client.post(
        UNITS, json=unit_body(world.c2.code, "community", world.s1.id), headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["id"] != str(world.c2.id)
    assert await live_with_code(session, world.c2.code) == 1


MALFORMED = [
    ("65310100100", "validation_failed"),  # 11 digits
    ("65310100100a", "validation_failed"),  # a letter
    ("653101001000", "code_malformed"),  # a street's shape
    ("653101002005", "code_malformed"),  # another street's community
    ("６５３１０１００１００５", "code_malformed"),  # full-width digits
    ("653101001005000", "code_malformed"),  # a grid's length
]


async def test_r_org_1_malformed_codes_are_422(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await unit_count(session)
    for code, error in MALFORMED:
        r = await client.post(
            UNITS,
            json=unit_body(code, "community", world.s1.id),
            headers=auth(world.admin_s1, clock),
        )
        problem = assert_problem(r, 422, error)
        assert [e["field"] for e in problem["errors"]] == ["code"], code
    assert await unit_count(session) == before


async def test_r_org_1_top_units_need_whole_tree_scope(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """parent_for_new_child: a top unit (no parent) is only for whole-tree users; anyone else
    is told the parent is not found, and nothing is written."""
    before = await unit_count(session)
    r = await client.post(
        UNITS, json=unit_body("653102000000", "district", None), headers=auth(world.admin_d, clock)
    )
    problem = assert_problem(r, 404, "parent_not_found")
    assert [e["field"] for e in problem["errors"]] == ["parent_id"]
    assert await unit_count(session) == before
    assert await live_with_code(session, "653102000000") == 0

    root = await make_user(session, roles=["admin"], superuser=True)
    r = await client.post(
        UNITS, json=unit_body("653102001000", "street", None), headers=auth(root, clock)
    )
    problem = assert_problem(r, 422, "top_level_invalid")
    assert [e["field"] for e in problem["errors"]] == ["parent_id"]
    assert await unit_count(session) == before


async def test_r_org_1_unknown_parent_is_404(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        UNITS,
        json=unit_body("653101001005", "community", uuid.uuid4()),
        headers=auth(world.admin_d, clock),
    )
    assert_problem(r, 404, "parent_not_found")


async def test_r_org_1_unknown_field_is_named(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    body = unit_body("653101001005", "community", world.s1.id, path="x.y")
    r = await client.post(UNITS, json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["path"]
    r = await client.post(
        UNITS,
        json=unit_body("653101001005", "province", world.s1.id),
        headers=auth(world.admin_s1, clock),
    )
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["level"]


# --- read ------------------------------------------------------------------------------------


async def test_r_org_1_get_by_id_with_etag(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(f"{UNITS}/{world.c1.id}", headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    unit = r.json()
    assert unit["code"] == "653101001001"
    assert unit["level"] == "community"
    assert unit["parent_id"] == str(world.s1.id)
    assert unit["geometry"]["type"] == "Polygon"
    assert unit["created_at"].endswith("+08:00")
    r = await client.get(f"{UNITS}/{uuid.uuid4()}", headers=auth(world.admin_s1, clock))
    assert_problem(r, 404, "org_unit_not_found")


async def test_r_org_1_list_by_parent_and_level_with_keyset_paging(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(4):
        params: dict[str, Any] = {"parent_id": str(world.s1.id), "limit": 1}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(UNITS, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 2
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["code"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [world.c1.code, world.c2.code]

    r = await client.get(UNITS, params={"level": "community"}, headers=headers)
    assert [u["code"] for u in r.json()["items"]] == [world.c1.code, world.c2.code, world.c3.code]
    assert r.json()["total"] == 3
    assert r.json()["next_cursor"] is None
    r = await client.get(UNITS, params={"level": "grid", "limit": 2}, headers=headers)
    assert r.json()["total"] == 3
    assert [u["code"] for u in r.json()["items"]] == [world.g1.code, world.g2.code]
    r = await client.get(
        UNITS, params={"level": "grid", "cursor": r.json()["next_cursor"]}, headers=headers
    )
    assert [u["code"] for u in r.json()["items"]] == [world.g3.code]
    r = await client.get(UNITS, params={"level": "hamlet"}, headers=headers)
    assert r.status_code == 422, r.text
    for limit in (0, 501):
        r = await client.get(UNITS, params={"limit": limit}, headers=headers)
        assert_problem(r, 422, "validation_failed")
    for forged in ("!!", "WzFd", "WyJ4IiwgIm5vdC1hLXV1aWQiXQ"):
        r = await client.get(UNITS, params={"cursor": forged}, headers=headers)
        assert r.status_code == 400, (forged, r.text)


async def test_r_org_1_search_by_name(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    for code, name in (("653101001005", "幸福社区"), ("653101001006", "幸福里社区")):
        r = await client.post(
            UNITS,
            json={"code": code, "name": name, "level": "community", "parent_id": str(world.s1.id)},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    r = await client.get(UNITS, params={"q": "幸福"}, headers=headers)
    assert r.status_code == 200, r.text
    assert [u["name"] for u in r.json()["items"]] == ["幸福社区", "幸福里社区"]
    r = await client.get(UNITS, params={"q": "幸福里"}, headers=headers)
    assert [u["name"] for u in r.json()["items"]] == ["幸福里社区"]
    # Outside S2's jurisdiction: nothing.
    r = await client.get(UNITS, params={"q": "幸福"}, headers=auth(world.admin_s2, clock))
    assert r.json() == {"items": [], "next_cursor": None, "total": 0}
    # LIKE wildcards are literal.
    r = await client.get(UNITS, params={"q": "%"}, headers=headers)
    assert r.json()["total"] == 0


# --- update and delete -----------------------------------------------------------------------


async def test_r_org_1_rename_with_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = f"{UNITS}/{world.c1.id}"
    r = await client.patch(url, json={"name": "新名字社区"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["name"] == "新名字社区"
    assert r.json()["version"] == 2
    r = await client.patch(url, json={"name": "又一个"}, headers={**headers, "If-Match": '"1"'})
    body = assert_problem(r, 412, "precondition_failed")
    assert body["current_etag"] == '"2"'
    got = await client.get(url, headers=headers)
    assert got.json()["name"] == "新名字社区"
    assert got.headers["etag"] == '"2"'

    await set_scope(session, "*")
    entry = (
        await session.execute(
            select(AuditEntry).where(
                AuditEntry.target_id == str(world.c1.id), AuditEntry.action == "community.update"
            )
        )
    ).scalar_one()
    assert entry.before is not None and entry.after is not None
    assert entry.before["name"] == world.c1.name
    assert entry.after["name"] == "新名字社区"


async def test_r_org_1_delete_refuses_a_unit_with_children(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.delete(f"{UNITS}/{world.s1.id}", headers=auth(world.admin_d, clock))
    assert_problem(r, 409, "unit_has_children")
    r = await client.delete(f"{UNITS}/{world.c1.id}", headers=auth(world.admin_d, clock))
    assert_problem(r, 409, "unit_has_children")
    assert (
        await client.get(f"{UNITS}/{world.s1.id}", headers=auth(world.admin_d, clock))
    ).status_code == 200


async def test_r_org_1_delete_refuses_a_unit_with_users(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_user(session, roles=["community_staff"], unit=world.c2)
    r = await client.delete(f"{UNITS}/{world.c2.id}", headers=auth(world.admin_s1, clock))
    assert_problem(r, 409, "unit_has_members")


async def test_r_org_1_delete_an_empty_community(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = f"{UNITS}/{world.c2.id}"
    r = await client.delete(url, headers={**headers, "If-Match": '"7"'})
    assert_problem(r, 412, "precondition_failed")
    r = await client.delete(url, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_problem(await client.get(url, headers=headers), 404, "org_unit_not_found")
    assert_problem(await client.delete(url, headers=headers), 404, "org_unit_not_found")
    r = await client.get(UNITS, params={"parent_id": str(world.s1.id)}, headers=headers)
    assert [u["id"] for u in r.json()["items"]] == [str(world.c1.id)]


# --- jurisdiction ----------------------------------------------------------------------------


async def test_r_jur_1_sibling_admin_gets_404_on_s1_units(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s2, clock)
    for unit in (world.s1, world.c1, world.c2, world.g1):
        assert_problem(
            await client.get(f"{UNITS}/{unit.id}", headers=headers), 404, "org_unit_not_found"
        )
    r = await client.patch(f"{UNITS}/{world.c2.id}", json={"name": "x"}, headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.delete(f"{UNITS}/{world.c2.id}", headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.post(
        UNITS, json=unit_body("653101001007", "community", world.s1.id), headers=headers
    )
    assert_problem(r, 404, "parent_not_found")
    r = await client.get(UNITS, params={"parent_id": str(world.s1.id)}, headers=headers)
    assert r.json()["total"] == 0
    # Its own ancestor is outside its jurisdiction as well.
    r = await client.get(f"{UNITS}/{world.district.id}", headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.get(UNITS, params={"limit": 500}, headers=headers)
    assert {u["id"] for u in r.json()["items"]} == {
        str(world.s2.id),
        str(world.c3.id),
        str(world.g3.id),
    }
    await set_scope(session, "*")
    c2 = (
        await session.execute(
            select(OrgUnit.name, OrgUnit.deleted_at).where(OrgUnit.id == world.c2.id)
        )
    ).one()
    assert c2.name == world.c2.name
    assert c2.deleted_at is None


async def test_r_jur_1_grid_worker_sees_its_grid_only(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """R-JUR-1: own unit and below. The worker's district, street and community are above
    its jurisdiction, so reading them by id is 404 like any unit outside it."""
    headers = auth(world.worker_g1, clock)
    r = await client.get(f"{UNITS}/{world.g1.id}", headers=headers)
    assert r.status_code == 200, r.text
    for unit in (world.district, world.s1, world.c1, world.g2):
        assert_problem(
            await client.get(f"{UNITS}/{unit.id}", headers=headers), 404, "org_unit_not_found"
        )
    r = await client.get(UNITS, params={"parent_id": str(world.c1.id)}, headers=headers)
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["items"]] == [str(world.g1.id)]
    assert r.json()["total"] == 1
    r = await client.post(
        UNITS, json=unit_body("653101001008", "community", world.s1.id), headers=headers
    )
    assert_problem(r, 403, "permission_denied")


async def _reshape(
    client: AsyncClient, world: World, clock: MovableClock, unit: OrgUnit, shape: Polygon
) -> Any:
    return await client.patch(
        f"{UNITS}/{unit.id}",
        json={"geometry": geojson(shape)},
        headers={**auth(world.admin_d, clock), "If-Match": f'"{unit.version}"'},
    )


async def test_r_grid_1_a_community_cannot_be_reshaped_off_its_grids(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Shrinking C1 would leave the east of G2 outside: 422 with that part, nothing saved."""
    before = (await client.get(f"{UNITS}/{world.c1.id}", headers=auth(world.admin_d, clock))).json()
    r = await _reshape(client, world, clock, world.c1, square(75.90, 39.40, 75.97, 39.50))
    body = assert_problem(r, 422, "unit_leaves_children_outside")
    assert [c["code"] for c in body["children"]] == [world.g2.code]
    assert body["errors"][0]["field"] == "geometry"
    assert world.g2.code in body["detail"]
    outside = shape(body["geometry"])
    assert outside.symmetric_difference(square(75.97, 39.40, 76.00, 39.45)).area < 1e-12
    after = (await client.get(f"{UNITS}/{world.c1.id}", headers=auth(world.admin_d, clock))).json()
    assert after == before


async def test_r_grid_1_moving_a_community_names_every_grid_left_outside(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    moved = affinity.translate(square(75.90, 39.40, 76.00, 39.50), yoff=0.01)
    body = assert_problem(
        await _reshape(client, world, clock, world.c1, moved), 422, "unit_leaves_children_outside"
    )
    assert [c["code"] for c in body["children"]] == sorted([world.g1.code, world.g2.code])
    assert (
        shape(body["geometry"]).symmetric_difference(square(75.90, 39.40, 76.00, 39.41)).area
        < 1e-12
    )


async def test_r_grid_1_a_reshape_that_keeps_the_grids_inside_is_saved(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Growing C1, or trimming it by less than the 1 m tolerance, keeps its grids inside."""
    grown = square(75.90, 39.40, 76.00, 39.55)
    r = await _reshape(client, world, clock, world.c1, grown)
    assert r.status_code == 200, r.text
    assert shape(r.json()["geometry"]).equals(grown)
    half_a_metre = 0.5 / 85_800  # degrees of longitude at 39.4° N
    trimmed = square(75.90, 39.40, 76.00 - half_a_metre, 39.55)
    world.c1.version = r.json()["version"]
    assert (await _reshape(client, world, clock, world.c1, trimmed)).status_code == 200


async def test_r_grid_1_a_street_cannot_be_reshaped_off_its_communities(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await _reshape(client, world, clock, world.s1, square(75.90, 39.40, 76.00, 39.55))
    body = assert_problem(r, 422, "unit_leaves_children_outside")
    assert [c["code"] for c in body["children"]] == [world.c2.code]
