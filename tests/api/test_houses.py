"""R-HOUSE-1 actual houses: grid-level records with a system-unique, editable house number
(a clash is refused with a clear message, also under a race), a standard address, residents
(以房管人, R-POP-5), owners masked per caller (R-JUR-3), life cycle with history, lists and
exports."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, House
from tests.api import test_concurrency
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.houses import (
    OWNER_ID,
    OWNER_PHONE,
    RESIDENT_PHONE,
    deregistered,
    make_address,
    make_house,
    make_rental,
    make_resident,
    resident_id,
)
from tests.territory import SUPERUSER_DSN, Committed

HOUSES = "/api/v1/houses"

# The concurrency tests' committed territory and real-commit client, as fixtures here too.
committed_territory = test_concurrency.committed
real_client = test_concurrency.real_client


async def house_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int(await session.scalar(select(func.count()).select_from(House)) or 0)


async def audit_of(session: AsyncSession, action: str, user: Any) -> list[AuditEntry]:
    await set_scope(session, "*")
    rows = await session.execute(
        select(AuditEntry)
        .where(AuditEntry.action == action, AuditEntry.actor_id == user.id)
        .order_by(AuditEntry.id)
    )
    return list(rows.scalars())


def house_body(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "grid_id": str(world.g1.id),
        "house_no": "KS-0001",
        "address": "喀什市人民路1号",
        **fields,
    }


# --------------------------------------------------------------------------- create


async def test_r_house_1_create_from_a_standard_address(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Address text and location default to the standard address's (楼宇 → 房屋)."""
    address = await make_address(
        session, clock, world.g1, "喀什市西域大道12号", location=Point(75.93, 39.43)
    )
    r = await client.post(
        HOUSES,
        json={
            "grid_id": str(world.g1.id),
            "house_no": "KS-0001",
            "address_id": str(address["id"]),
            "building": "1号楼",
            "unit_no": "2",
            "room": "301",
            "use": "自住",
            "structure": "砖混",
            "area": 85.5,
            "owner_name": "张建国",
            "owner_id_number": OWNER_ID.lower(),
            "owner_phone": OWNER_PHONE,
        },
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{HOUSES}/{out['id']}"
    assert out["address"] == "喀什市西域大道12号"
    assert out["address_id"] == str(address["id"])
    assert out["location"] == {"type": "Point", "coordinates": [75.93, 39.43]}
    assert out["area"] == 85.5
    assert out["owner_id_number"] == OWNER_ID  # normalised upper-case X
    assert out["residents"] == []
    await set_scope(session, "*")
    created = await session.scalar(
        select(AuditEntry).where(
            AuditEntry.target_id == out["id"], AuditEntry.action == "house.create"
        )
    )
    assert created is not None and created.after is not None
    assert created.after["house_no"] == "KS-0001"


async def test_r_house_1_own_text_and_point_win_over_the_address(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    address = await make_address(session, clock, world.g1, "喀什市西域大道12号")
    r = await client.post(
        HOUSES,
        params={"crs": "wgs84"},
        json=house_body(
            world,
            address_id=str(address["id"]),
            address="喀什市西域大道12号3栋",
            location={"type": "Point", "coordinates": [75.94, 39.44]},
        ),
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text
    assert r.json()["address"] == "喀什市西域大道12号3栋"
    assert r.json()["location"]["coordinates"] == [75.94, 39.44]


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"address": None}, 422, "house_address_required", "address"),
        ({"area": 0}, 422, "validation_failed", "area"),
        ({"area": -3}, 422, "validation_failed", "area"),
        ({"house_no": ""}, 422, "validation_failed", "house_no"),
        ({"house_no": "KS 01"}, 422, "validation_failed", "house_no"),
        ({"owner_phone": "电话"}, 422, "validation_failed", "owner_phone"),
        ({"path": "1.2"}, 422, "validation_failed", "path"),
        ({"address_id": str(uuid.uuid4())}, 404, "address_not_found", "address_id"),
    ],
)
async def test_r_house_1_bad_input_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    fields: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    before = await house_count(session)
    body = {k: v for k, v in house_body(world, **fields).items() if v is not None}
    r = await client.post(HOUSES, json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, status, code)
    assert field in [e["field"] for e in problem["errors"]]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"])
    assert await house_count(session) == before


async def test_r_house_1_the_address_must_be_active_and_in_scope(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await house_count(session)
    headers = auth(world.admin_s1, clock)
    theirs = await make_address(session, clock, world.g3)
    r = await client.post(
        HOUSES, json=house_body(world, address_id=str(theirs["id"])), headers=headers
    )
    assert_problem(r, 404, "address_not_found")
    old = await make_address(session, clock, world.g1)
    await deregistered(session, clock, "address", old["id"])
    r = await client.post(
        HOUSES, json=house_body(world, address_id=str(old["id"])), headers=headers
    )
    assert_problem(r, 422, "address_deregistered")
    r = await client.post(HOUSES, json=house_body(world, grid_id=str(world.c1.id)), headers=headers)
    assert_problem(r, 422, "record_needs_grid")
    r = await client.post(HOUSES, json=house_body(world, grid_id=str(world.g3.id)), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    assert await house_count(session) == before


async def test_r_house_1_house_number_is_system_unique_with_a_clear_message(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Unique among active houses everywhere, even one outside the caller's jurisdiction."""
    await make_house(session, clock, world.g3, house_no="KS-0001")
    before = await house_count(session)
    r = await client.post(HOUSES, json=house_body(world), headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 409, "house_no_taken")
    assert problem["detail"] == "房屋编号 KS-0001 已被其他房屋使用，请更换编号"
    assert problem["errors"] == [{"field": "house_no", "message": problem["detail"]}]
    r = await client.post(
        HOUSES,
        json=house_body(world),
        headers={**auth(world.admin_s1, clock), "Accept-Language": "en"},
    )
    assert "KS-0001" in assert_problem(r, 409, "house_no_taken")["detail"]
    assert await house_count(session) == before


async def test_r_house_1_a_deregistered_houses_number_is_free_but_blocks_its_restore(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    old = await make_house(session, clock, world.g1, house_no="KS-0002")
    await deregistered(session, clock, "house", old["id"])
    headers = auth(world.admin_s1, clock)
    r = await client.post(HOUSES, json=house_body(world, house_no="KS-0002"), headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(f"{HOUSES}/{old['id']}/restore", headers=headers)
    problem = assert_problem(r, 409, "house_no_taken")
    assert "KS-0002" in problem["detail"]
    assert (await client.get(f"{HOUSES}/{old['id']}", headers=headers)).json()["status"] == (
        "deregistered"
    )


# --------------------------------------------------------------------------- read, residents


async def test_r_pop_5_a_house_lists_its_residents_in_full_for_the_admin(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """API.md: GET /houses/{id} with residents; unmasked reads are audited (R-JUR-3)."""
    house = await make_house(session, clock, world.g1)
    await make_resident(session, world.g1, house["id"], name="王小明", serial=21)
    await make_resident(session, world.g2, house["id"], name="赵丽", serial=22)
    await make_resident(
        session, world.g1, house["id"], name="钱多", serial=23, status="deregistered"
    )
    r = await client.get(f"{HOUSES}/{house['id']}", headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [(p["name"], p["id_number"], p["phone"]) for p in out["residents"]] == [
        ("王小明", resident_id(21), RESIDENT_PHONE),
        ("赵丽", resident_id(22), RESIDENT_PHONE),
    ]
    assert out["owner_id_number"] == OWNER_ID and out["owner_phone"] == OWNER_PHONE
    reads = await audit_of(session, "pii.read", world.admin_s1)
    assert sorted(e.target_type for e in reads) == ["house", "person"]
    people = next(e for e in reads if e.target_type == "person")
    assert people.after is not None and len(people.after["ids"]) == 2


async def test_r_jur_3_a_grid_worker_reveals_one_house_with_a_reason(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """pii:reveal unmasks one house with its residents on demand; the reason is audited;
    a blank reason is refused and a sibling's house does not exist."""
    house = await make_house(session, clock, world.g1)
    await make_resident(session, world.g1, house["id"], name="王小明", serial=41)
    rental = await make_rental(session, clock, house["id"])
    headers = auth(world.worker_g1, clock)
    r = await client.post(
        f"{HOUSES}/{house['id']}/reveal", json={"reason": "核查产权"}, headers=headers
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["owner_id_number"] == OWNER_ID and out["owner_phone"] == OWNER_PHONE
    assert [(p["name"], p["id_number"]) for p in out["residents"]] == [("王小明", resident_id(41))]
    let = await client.post(
        f"/api/v1/rentals/{rental['id']}/reveal", json={"reason": "核查租户"}, headers=headers
    )
    assert let.status_code == 200, let.text
    assert let.json()["tenants"][0]["id_number"] == resident_id(41)
    reveals = await audit_of(session, "pii.reveal", world.worker_g1)
    assert sorted((e.target_type, e.reason) for e in reveals) == [
        ("house", "核查产权"),
        ("rental", "核查租户"),
    ]
    blank = await client.post(
        f"{HOUSES}/{house['id']}/reveal", json={"reason": " "}, headers=headers
    )
    assert blank.status_code == 422
    sibling = await client.post(
        f"{HOUSES}/{house['id']}/reveal", json={"reason": "x"}, headers=auth(world.admin_s2, clock)
    )
    assert_problem(sibling, 404, "house_not_found")


async def test_r_jur_3_a_grid_worker_sees_owner_and_residents_masked(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    await make_resident(session, world.g1, house["id"], name="王小明", serial=31)
    r = await client.get(f"{HOUSES}/{house['id']}", headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    for secret in (OWNER_ID, OWNER_PHONE, resident_id(31), RESIDENT_PHONE, "王小明", "张建国"):
        assert secret not in r.text
    out = r.json()
    assert out["owner_name"] == "张**"
    assert out["owner_id_number"] == "653101********2317"
    assert out["owner_phone"] == "138****1234"
    assert out["residents"][0]["name"] == "王**"
    assert out["residents"][0]["phone"] == "150****2222"
    assert await audit_of(session, "pii.read", world.worker_g1) == []


# --------------------------------------------------------------------------- update


async def test_r_house_1_patch_with_if_match_and_a_taken_number(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1, house_no="KS-0010")
    await make_house(session, clock, world.g2, house_no="KS-0011")
    url = f"{HOUSES}/{house['id']}"
    headers = auth(world.worker_g1, clock)
    r = await client.patch(
        url, json={"house_no": "KS-0012", "area": 60}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["house_no"] == "KS-0012" and r.json()["area"] == 60
    stale = await client.patch(url, json={"room": "1"}, headers={**headers, "If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")
    taken = await client.patch(url, json={"house_no": "KS-0011"}, headers=headers)
    assert assert_problem(taken, 409, "house_no_taken")["detail"] == (
        "房屋编号 KS-0011 已被其他房屋使用，请更换编号"
    )
    for body in ({"house_no": None}, {"address": None}):
        assert_problem(
            await client.patch(url, json=body, headers=headers), 422, "validation_failed"
        )
    cleared = await client.patch(url, json={"area": None, "room": None}, headers=headers)
    assert cleared.json()["area"] is None
    noop = await client.patch(url, json={}, headers=headers)
    assert noop.headers["etag"] == cleared.headers["etag"]
    after = (await client.get(url, headers=headers)).json()
    assert after["house_no"] == "KS-0012"
    await set_scope(session, "*")
    updates = (
        (
            await session.execute(
                select(AuditEntry)
                .where(
                    AuditEntry.target_id == str(house["id"]), AuditEntry.action == "house.update"
                )
                .order_by(AuditEntry.id)
            )
        )
        .scalars()
        .all()
    )
    assert len(updates) == 2
    assert updates[0].before is not None and updates[0].before["house_no"] == "KS-0010"
    assert updates[0].after is not None and updates[0].after["house_no"] == "KS-0012"


async def test_r_house_1_a_new_address_brings_its_text_and_point(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    moved_to = await make_address(
        session, clock, world.g1, "喀什市解放北路9号", location=Point(75.91, 39.41)
    )
    r = await client.patch(
        f"{HOUSES}/{house['id']}",
        json={"address_id": str(moved_to["id"])},
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 200, r.text
    assert r.json()["address"] == "喀什市解放北路9号"
    assert r.json()["location"]["coordinates"] == [75.91, 39.41]
    # The same address again is no change of address: the house's own text stays.
    url, headers = f"{HOUSES}/{house['id']}", auth(world.admin_s1, clock)
    await client.patch(url, json={"address": "喀什市解放北路9号2栋"}, headers=headers)
    r = await client.patch(url, json={"address_id": str(moved_to["id"])}, headers=headers)
    assert r.json()["address"] == "喀什市解放北路9号2栋"


async def test_r_jur_1_a_sibling_street_cannot_touch_the_house(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    headers = auth(world.admin_s2, clock)
    url = f"{HOUSES}/{house['id']}"
    assert_problem(await client.get(url, headers=headers), 404, "house_not_found")
    assert_problem(
        await client.patch(url, json={"room": "1"}, headers=headers), 404, "house_not_found"
    )
    r = await client.post(f"{url}/deregister", json={"reason": "x"}, headers=headers)
    assert_problem(r, 404, "house_not_found")
    assert (await client.get(url, headers=auth(world.admin_s1, clock))).json()["version"] == 1


# --------------------------------------------------------------------------- life cycle


async def test_r_house_1_deregister_and_restore_with_history(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    resident = await make_resident(session, world.g1, house["id"])
    rental = await make_rental(session, clock, house["id"])
    url = f"{HOUSES}/{house['id']}"
    headers = auth(world.admin_s1, clock)
    assert_problem(
        await client.post(f"{url}/deregister", json={}, headers=headers), 422, "validation_failed"
    )
    busy = await client.post(f"{url}/deregister", json={"reason": "拆迁"}, headers=headers)
    assert assert_problem(busy, 409, "house_in_use")["detail"].startswith(
        "该房屋仍有 1 名居住人员、1 条"
    )
    resident.house_id = None
    resident.no_house_reason = "已搬离"
    await session.flush()
    await deregistered(session, clock, "rental", rental["id"])
    stale = await client.post(
        f"{url}/deregister", json={"reason": "拆迁"}, headers={**headers, "If-Match": '"7"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    clock.advance(timedelta(hours=1))
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{url}/deregister", json={"reason": "拆迁"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deregistered"
    assert r.json()["status_changed_at"] == "2026-11-23T11:00:00+08:00"
    r = await client.post(f"{url}/restore", json={"reason": "登记错误"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active" and r.json()["version"] == 3
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [(h["to_status"], h["reason"]) for h in history] == [
        ("deregistered", "拆迁"),
        ("active", "登记错误"),
    ]
    assert history[0]["actor_id"] == str(world.admin_s1.id)


# --------------------------------------------------------------------------- list and export


async def test_r_house_1_list_filters_search_and_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    a = await make_house(session, clock, world.g1, house_no="L-001", use="自住")
    b = await make_house(session, clock, world.g2, house_no="L-002", use="出租", owner_name="李四")
    c = await make_house(
        session, clock, world.g2, house_no="L-003", use="出租", owner_id_number=resident_id(77)
    )
    await deregistered(session, clock, "house", c["id"])
    await make_house(session, clock, world.g3, house_no="L-004")  # S2's
    headers = auth(world.worker_g1, clock)

    async def numbers(**params: Any) -> list[str]:
        r = await client.get(
            HOUSES, params={"q": "L-", **params}, headers=auth(world.admin_s1, clock)
        )
        assert r.status_code == 200, r.text
        return [h["house_no"] for h in r.json()["items"]]

    assert await numbers() == ["L-001", "L-002", "L-003"]
    assert await numbers(unit_id=str(world.g2.id)) == ["L-002", "L-003"]
    assert await numbers(use="出租", status="active") == ["L-002"]
    assert await numbers(status="deregistered") == ["L-003"]
    assert await numbers(q="李四") == ["L-002"]
    # A full ID number finds its owner, also for a caller who sees it masked (R-JUR-3).
    admin_hits = await client.get(
        HOUSES, params={"q": resident_id(77)}, headers=auth(world.admin_s1, clock)
    )
    assert [h["id"] for h in admin_hits.json()["items"]] == [str(c["id"])]
    worker_hits = (await client.get(HOUSES, params={"q": OWNER_ID}, headers=headers)).json()
    assert [h["id"] for h in worker_hits["items"]] == [str(a["id"])]  # B is in G2, not G1
    assert worker_hits["items"][0]["owner_id_number"] == "653101********2317"
    assert OWNER_ID not in str(worker_hits)
    assert str(b["id"]) not in {h["id"] for h in worker_hits["items"]}

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"q": "L-", "limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(HOUSES, params=params, headers=auth(world.admin_s1, clock))).json()
        assert page["total"] == 3
        seen += [h["house_no"] for h in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["L-001", "L-002", "L-003"]


async def test_r_exp_1_house_export_is_masked_for_the_worker_and_audited_for_the_admin(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_house(session, clock, world.g1, house_no="E-001", area=70)
    await make_house(session, clock, world.g1, house_no="E-002")
    worker = await client.get(
        f"{HOUSES}/export", params={"q": "E-"}, headers=auth(world.worker_g1, clock)
    )
    assert worker.status_code == 200, worker.text
    text = worker.content.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].split(",")[:3] == ["房屋编号", "房屋地址", "楼栋"]
    assert [line.split(",")[0] for line in lines[1:]] == ["E-001", "E-002"]
    assert OWNER_ID not in text and OWNER_PHONE not in text and "张建国" not in text
    assert "653101********2317" in text and "70.00" in text
    admin = await client.get(
        f"{HOUSES}/export",
        params={"q": "E-", "format": "xlsx"},
        headers=auth(world.admin_s1, clock),
    )
    assert admin.status_code == 200, admin.text
    assert admin.headers["content-type"].startswith("application/vnd.openxmlformats")
    exports = await audit_of(session, "pii.export", world.admin_s1)
    assert len(exports) == 1 and exports[0].target_type == "house"
    assert exports[0].after == {"filters": {"q": "E-"}}
    bad = await client.get(
        f"{HOUSES}/export", params={"format": "pdf"}, headers=auth(world.admin_s1, clock)
    )
    assert_problem(bad, 422, "validation_failed")


# --------------------------------------------------------------------------- races


@pytest.fixture
async def territory(committed_territory: Committed) -> AsyncIterator[Committed]:
    """The committed territory, with the houses the races wrote removed before it goes."""
    yield committed_territory
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        await conn.execute("DELETE FROM houses WHERE grid_id = $1", committed_territory.grid_id)
    finally:
        await conn.close()


async def test_r_house_1_racing_creates_of_one_number_create_one_house(
    real_client: AsyncClient, territory: Committed
) -> None:
    body = {"grid_id": str(territory.grid_id), "house_no": "RACE-1", "address": "博乐市1号"}

    async def create() -> int:
        return (await real_client.post(HOUSES, json=body, headers=territory.headers)).status_code

    assert sorted(await asyncio.gather(create(), create())) == [201, 409]


async def test_r_house_1_racing_renames_to_one_number_apply_once(
    real_client: AsyncClient, territory: Committed
) -> None:
    ids = []
    for n in (1, 2):
        body = {"grid_id": str(territory.grid_id), "house_no": f"RN-{n}", "address": "博乐市2号"}
        r = await real_client.post(HOUSES, json=body, headers=territory.headers)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])

    async def rename(house_id: str) -> int:
        r = await real_client.patch(
            f"{HOUSES}/{house_id}", json={"house_no": "RN-X"}, headers=territory.headers
        )
        return r.status_code

    assert sorted(await asyncio.gather(*(rename(i) for i in ids))) == [200, 409]
    listed = await real_client.get(HOUSES, params={"q": "RN-X"}, headers=territory.headers)
    assert listed.json()["total"] == 1
