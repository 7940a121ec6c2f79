"""R-HOUSE-2 rentals (出租房): one active rental per house, landlord masked per caller
(R-JUR-3), tenants are the people living in the house, "no longer rented" is a
deregistration with reason and time, restorable; lists and exports."""

import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, Rental
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.houses import (
    LANDLORD_ID,
    LANDLORD_PHONE,
    RESIDENT_PHONE,
    deregistered,
    make_house,
    make_rental,
    make_resident,
    resident_id,
)

RENTALS = "/api/v1/rentals"


def rental_url(house: dict[str, Any]) -> str:
    return f"/api/v1/houses/{house['id']}/rental"


async def rental_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int(await session.scalar(select(func.count()).select_from(Rental)) or 0)


async def actions(session: AsyncSession, target_id: Any, *, reads: bool = False) -> list[str]:
    """The audited writes on one rental (R-AUD-1), with the unmasked reads if asked."""
    await set_scope(session, "*")
    stmt = select(AuditEntry.action).where(
        AuditEntry.target_type == "rental", AuditEntry.target_id == str(target_id)
    )
    if not reads:
        stmt = stmt.where(AuditEntry.action.not_like("pii.%"))
    rows = await session.execute(stmt.order_by(AuditEntry.id))
    return list(rows.scalars())


LANDLORD = {
    "landlord_name": "李春花",
    "landlord_phone": LANDLORD_PHONE,
    "landlord_id_number": LANDLORD_ID,
    "rooms": 3,
    "nature": "个人出租",
    "category": "住宅",
    "use": "居住",
    "structure": "砖混",
    "hazard_level": "低",
}


async def test_r_house_2_let_a_house_with_its_tenants(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1, house_no="R-001")
    await make_resident(session, world.g1, house["id"], name="王小明", serial=41)
    r = await client.post(rental_url(house), json=LANDLORD, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{RENTALS}/{out['id']}"
    assert out["house_id"] == str(house["id"]) and out["house_no"] == "R-001"
    assert out["grid_id"] == str(world.g1.id)
    assert {k: out[k] for k in LANDLORD} == LANDLORD
    assert [(t["name"], t["id_number"], t["phone"]) for t in out["tenants"]] == [
        ("王小明", resident_id(41), RESIDENT_PHONE)
    ]
    # The admin's response is unmasked, so it is an audited read too (R-JUR-3).
    assert await actions(session, out["id"], reads=True) == ["rental.create", "pii.read"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"hazard_level": "极高"}, "hazard_level"),
        ({"rooms": 0}, "rooms"),
        ({"landlord_name": ""}, "landlord_name"),
        ({"landlord_name": None}, "landlord_name"),
        ({"landlord_phone": "12"}, "landlord_phone"),
        ({"house_id": str(uuid.uuid4())}, "house_id"),
    ],
)
async def test_r_house_2_bad_input_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    fields: dict[str, Any],
    field: str,
) -> None:
    house = await make_house(session, clock, world.g1)
    before = await rental_count(session)
    body = {k: v for k, v in {**LANDLORD, **fields}.items() if v is not None}
    r = await client.post(rental_url(house), json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 422, "validation_failed")
    assert field in [e["field"] for e in problem["errors"]]
    assert problem["detail"] == "输入数据校验未通过"
    assert await rental_count(session) == before


async def test_r_house_2_one_active_rental_per_house(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    first = await make_rental(session, clock, house["id"])
    before = await rental_count(session)
    headers = auth(world.admin_s1, clock)
    again = await client.post(rental_url(house), json=LANDLORD, headers=headers)
    assert_problem(again, 409, "duplicate_active_record")
    assert await rental_count(session) == before
    # No longer rented, then let to someone else: a new record; the old one cannot come back.
    await deregistered(session, clock, "rental", first["id"])
    second = await client.post(rental_url(house), json=LANDLORD, headers=headers)
    assert second.status_code == 201, second.text
    back = await client.post(f"{RENTALS}/{first['id']}/restore", headers=headers)
    assert_problem(back, 409, "duplicate_active_record")
    assert (await client.get(f"{RENTALS}/{first['id']}", headers=headers)).json()["status"] == (
        "deregistered"
    )


async def test_r_house_2_a_deregistered_house_is_not_let(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1, house_no="R-GONE")
    await deregistered(session, clock, "house", house["id"])
    before = await rental_count(session)
    r = await client.post(rental_url(house), json=LANDLORD, headers=auth(world.admin_s1, clock))
    assert assert_problem(r, 409, "house_deregistered")["detail"] == (
        "房屋 R-GONE 已注销，不能登记出租"
    )
    r = await client.post(rental_url(house), json=LANDLORD, headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "house_not_found")
    assert await rental_count(session) == before


async def test_r_jur_3_landlord_and_tenants_are_masked_for_a_grid_worker(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    await make_resident(session, world.g1, house["id"], name="王小明", serial=42)
    rental = await make_rental(session, clock, house["id"])
    r = await client.get(f"{RENTALS}/{rental['id']}", headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    for secret in (LANDLORD_ID, LANDLORD_PHONE, "李春花", resident_id(42), RESIDENT_PHONE):
        assert secret not in r.text
    out = r.json()
    assert out["landlord_name"] == "李**"
    assert out["landlord_phone"] == "136****8888"
    assert out["landlord_id_number"] == "653101********1235"
    assert out["tenants"][0]["name"] == "王**"

    r = await client.get(f"{RENTALS}/{rental['id']}", headers=auth(world.admin_d, clock))
    assert r.json()["landlord_id_number"] == LANDLORD_ID
    await set_scope(session, "*")
    reads = await session.execute(
        select(AuditEntry.target_type).where(
            AuditEntry.action == "pii.read", AuditEntry.actor_id == world.admin_d.id
        )
    )
    assert sorted(reads.scalars()) == ["person", "rental"]
    r = await client.get(f"{RENTALS}/{rental['id']}", headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "rental_not_found")


async def test_r_house_2_patch_with_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    rental = await make_rental(session, clock, house["id"])
    url = f"{RENTALS}/{rental['id']}"
    headers = auth(world.worker_g1, clock)
    r = await client.patch(
        url, json={"hazard_level": "高", "rooms": 5}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert (r.json()["hazard_level"], r.json()["rooms"]) == ("高", 5)
    stale = await client.patch(url, json={"rooms": 1}, headers={**headers, "If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")
    nulled = await client.patch(url, json={"landlord_name": None}, headers=headers)
    assert_problem(nulled, 422, "validation_failed")
    bad = await client.patch(url, json={"house_id": str(uuid.uuid4())}, headers=headers)
    assert_problem(bad, 422, "validation_failed")
    assert (await client.get(url, headers=headers)).json()["rooms"] == 5
    assert await actions(session, rental["id"]) == ["rental.create", "rental.update"]


async def test_r_house_2_no_longer_rented_then_let_again(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    rental = await make_rental(session, clock, house["id"])
    url = f"{RENTALS}/{rental['id']}"
    headers = auth(world.admin_s1, clock)
    missing = await client.post(f"{url}/deregister", json={"reason": ""}, headers=headers)
    assert_problem(missing, 422, "validation_failed")
    r = await client.post(f"{url}/deregister", json={"reason": "房东自住"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deregistered"
    assert r.json()["status_reason"] == "房东自住"
    assert r.json()["status_changed_at"] == "2026-11-23T10:00:00+08:00"
    r = await client.post(f"{url}/restore", json={"reason": "再次出租"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [(h["to_status"], h["reason"]) for h in history] == [
        ("deregistered", "房东自住"),
        ("active", "再次出租"),
    ]
    assert await actions(session, rental["id"]) == [
        "rental.create",
        "rental.deregistered",
        "rental.active",
    ]


async def test_r_house_2_a_let_house_is_not_deregistered(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    await make_rental(session, clock, house["id"])
    r = await client.post(
        f"/api/v1/houses/{house['id']}/deregister",
        json={"reason": "拆迁"},
        headers=auth(world.admin_s1, clock),
    )
    assert "1 条有效出租登记" in assert_problem(r, 409, "house_in_use")["detail"]


async def test_r_house_2_a_rental_of_a_deregistered_house_is_not_restored(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1)
    rental = await make_rental(session, clock, house["id"])
    await deregistered(session, clock, "rental", rental["id"])
    await deregistered(session, clock, "house", house["id"])
    r = await client.post(f"{RENTALS}/{rental['id']}/restore", headers=auth(world.admin_s1, clock))
    assert_problem(r, 409, "house_deregistered")


async def test_r_house_2_list_filters_search_and_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    rentals = {}
    for no, grid, hazard in (
        ("T-1", world.g1, "高"),
        ("T-2", world.g2, "无"),
        ("T-3", world.g2, "高"),
    ):
        house = await make_house(session, clock, grid, house_no=no)
        rentals[no] = await make_rental(session, clock, house["id"], hazard_level=hazard)
    await deregistered(session, clock, "rental", rentals["T-3"]["id"])
    s2_house = await make_house(session, clock, world.g3, house_no="T-4")
    await make_rental(session, clock, s2_house["id"])
    headers = auth(world.admin_s1, clock)

    async def numbers(**params: Any) -> list[str]:
        r = await client.get(RENTALS, params={"q": "T-", **params}, headers=headers)
        assert r.status_code == 200, r.text
        return [x["house_no"] for x in r.json()["items"]]

    assert await numbers() == ["T-1", "T-2", "T-3"]
    assert await numbers(hazard_level="高") == ["T-1", "T-3"]
    assert await numbers(hazard_level="高", status="active") == ["T-1"]
    assert await numbers(unit_id=str(world.g2.id)) == ["T-2", "T-3"]
    assert_problem(
        await client.get(RENTALS, params={"hazard_level": "极高"}, headers=headers),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(RENTALS, params={"unit_id": str(world.c3.id)}, headers=headers),
        404,
        "org_unit_not_found",
    )
    by_id = await client.get(
        RENTALS, params={"q": LANDLORD_ID, "unit_id": str(world.g1.id)}, headers=headers
    )
    assert [x["house_no"] for x in by_id.json()["items"]] == ["T-1"]
    by_name = await client.get(
        RENTALS, params={"q": "春花", "status": "active"}, headers=auth(world.worker_g1, clock)
    )
    assert [(x["house_no"], x["landlord_name"]) for x in by_name.json()["items"]] == [
        ("T-1", "李**")
    ]

    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"q": "T-", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(RENTALS, params=params, headers=headers)).json()
        assert page["total"] == 3
        seen += [x["house_no"] for x in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ["T-1", "T-2", "T-3"]


async def test_r_exp_1_rental_export_is_masked_for_the_worker_and_audited_for_the_admin(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    house = await make_house(session, clock, world.g1, house_no="X-1")
    await make_rental(session, clock, house["id"], hazard_level="中")
    params = {"hazard_level": "中"}
    worker = await client.get(
        f"{RENTALS}/export", params=params, headers=auth(world.worker_g1, clock)
    )
    assert worker.status_code == 200, worker.text
    text = worker.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("房屋编号,出租房地址,房东姓名,房东身份证号,联系电话")
    assert "X-1" in text and "653101********1235" in text and "136****8888" in text
    assert LANDLORD_ID not in text and LANDLORD_PHONE not in text and "李春花" not in text
    admin = await client.get(
        f"{RENTALS}/export", params=params, headers=auth(world.admin_s1, clock)
    )
    assert LANDLORD_ID in admin.content.decode("utf-8-sig")
    await set_scope(session, "*")
    exports = (
        (
            await session.execute(
                select(AuditEntry).where(
                    AuditEntry.action == "pii.export", AuditEntry.actor_id == world.admin_s1.id
                )
            )
        )
        .scalars()
        .all()
    )
    assert [(e.target_type, e.after) for e in exports] == [
        ("rental", {"filters": {"hazard_level": "中"}})
    ]
