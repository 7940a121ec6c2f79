"""R-MAP-3 standard addresses (楼宇/地址库): register at grid level with a unique normalised
text, typo-tolerant search over characters and pinyin initials with a keyset cursor over the
ranking, export, and the building view (以房找人) masked per caller (R-JUR-3)."""

import io
import uuid
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.coords import Crs, to_wgs84
from services.db import set_scope
from services.models import Address, AuditEntry
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.houses import (
    LANDLORD_ID,
    LANDLORD_PHONE,
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

ADDRESSES = "/api/v1/addresses"


async def address_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int(await session.scalar(select(func.count()).select_from(Address)) or 0)


async def audit_actions(session: AsyncSession, target_type: str, target_id: Any) -> list[str]:
    await set_scope(session, "*")
    rows = await session.execute(
        select(AuditEntry.action)
        .where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)
    )
    return list(rows.scalars())


async def search(
    client: AsyncClient, headers: dict[str, str], q: str, **params: Any
) -> list[dict[str, Any]]:
    r = await client.get(ADDRESSES, params={"q": q, **params}, headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


# --------------------------------------------------------------------------- register


async def test_r_map_3_create_normalises_the_text_and_derives_its_search_forms(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Full-width digits and stray spaces are folded, so one address has one spelling; the
    pinyin initials are derived per address component; the write is audited (R-AUD-1)."""
    r = await client.post(
        ADDRESSES,
        json={
            "grid_id": str(world.g1.id),
            "full_text": " 喀什市 西域大道１２号 ",
            "road": "西域大道",
            "house_number": "12号",
            "location": {"type": "Point", "coordinates": [75.921, 39.421]},
        },
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{ADDRESSES}/{out['id']}"
    assert out["full_text"] == "喀什市西域大道12号"
    assert out["pinyin_initials"] == "kss xydd 12h"
    assert out["grid_id"] == str(world.g1.id)
    assert out["status"] == "active"
    assert out["location"] == {"type": "Point", "coordinates": [75.921, 39.421]}
    assert out["created_at"].endswith("+08:00")
    assert await audit_actions(session, "address", out["id"]) == ["address.create"]


async def test_r_grid_4_a_gcj02_location_is_stored_as_wgs84(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    gcj = (75.925, 39.425)
    r = await client.post(
        ADDRESSES,
        params={"crs": "gcj02"},
        json={
            "grid_id": str(world.g1.id),
            "full_text": "喀什市解放北路3号",
            "location": {"type": "Point", "coordinates": list(gcj)},
        },
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 201, r.text
    lon, lat = r.json()["location"]["coordinates"]
    expected = to_wgs84(*gcj, Crs.GCJ02)
    assert lon == pytest.approx(expected[0], abs=1e-6)
    assert lat == pytest.approx(expected[1], abs=1e-6)
    assert (lon, lat) != pytest.approx(gcj, abs=1e-5)


async def test_r_map_3_an_active_address_is_registered_once(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The unique index sees every jurisdiction: S2's admin cannot register S1's address."""
    await make_address(session, clock, world.g1, "喀什市西域大道12号")
    before = await address_count(session)
    for user, grid in ((world.admin_s1, world.g2), (world.admin_s2, world.g3)):
        r = await client.post(
            ADDRESSES,
            json={"grid_id": str(grid.id), "full_text": "喀什市西域大道 １２号"},
            headers=auth(user, clock),
        )
        problem = assert_problem(r, 409, "address_taken")
        assert problem["detail"] == "标准地址“喀什市西域大道12号”已存在"
        assert [e["field"] for e in problem["errors"]] == ["full_text"]
    assert await address_count(session) == before


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"full_text": ""}, 422, "validation_failed", "full_text"),
        ({"full_text": "　"}, 422, "validation_failed", "full_text"),
        ({"full_text": "x" * 301}, 422, "validation_failed", "full_text"),
        ({"pinyin_initials": "abc"}, 422, "validation_failed", "pinyin_initials"),
        (
            {"location": {"type": "Point", "coordinates": [200, 39]}},
            422,
            "coordinate_out_of_range",
            "location",
        ),
        (
            {"location": {"type": "LineString", "coordinates": [[75.9, 39.4], [75.91, 39.41]]}},
            422,
            "geometry_type",
            "location",
        ),
    ],
)
async def test_r_map_3_bad_input_writes_nothing(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    before = await address_count(session)
    payload = {"grid_id": str(world.g1.id), "full_text": "喀什市人民路1号", **body}
    r = await client.post(ADDRESSES, json=payload, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, status, code)
    assert field in [e["field"] for e in problem["errors"]]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in problem["detail"])
    assert await address_count(session) == before


async def test_r_reg_1_addresses_are_added_at_grid_level_inside_the_jurisdiction(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await address_count(session)
    headers = auth(world.admin_s1, clock)
    body = {"grid_id": str(world.c1.id), "full_text": "喀什市人民路1号"}
    assert_problem(
        await client.post(ADDRESSES, json=body, headers=headers), 422, "record_needs_grid"
    )
    body["grid_id"] = str(world.g3.id)
    assert_problem(
        await client.post(ADDRESSES, json=body, headers=headers), 404, "org_unit_not_found"
    )
    assert await address_count(session) == before


# --------------------------------------------------------------------------- read and write


async def test_r_map_3_get_patch_with_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    address = await make_address(session, clock, world.g1, "喀什市人民路5号")
    await make_address(session, clock, world.g1, "喀什市人民路6号")
    url = f"{ADDRESSES}/{address['id']}"
    headers = auth(world.worker_g1, clock)
    r = await client.get(url, headers=headers)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    r = await client.patch(
        url,
        json={"full_text": "喀什市人民路５号院", "building": "A座"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["full_text"] == "喀什市人民路5号院"
    assert r.json()["pinyin_initials"] == "kss rml 5hy"
    assert_problem(
        await client.patch(url, json={"road": "人民路"}, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    taken = await client.patch(url, json={"full_text": "喀什市人民路6号"}, headers=headers)
    assert_problem(taken, 409, "address_taken")
    assert_problem(
        await client.patch(url, json={"full_text": None}, headers=headers), 422, "validation_failed"
    )
    same = await client.patch(url, json={}, headers=headers)
    assert same.headers["etag"] == '"2"'
    assert (await client.get(url, headers=headers)).json()["full_text"] == "喀什市人民路5号院"
    assert await audit_actions(session, "address", address["id"]) == [
        "address.create",
        "address.update",
    ]
    r = await client.get(url, headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "address_not_found")


async def test_r_map_3_deregister_and_restore_keep_history(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    address = await make_address(session, clock, world.g1, "喀什市人民路7号")
    url = f"{ADDRESSES}/{address['id']}"
    headers = auth(world.admin_s1, clock)
    for body in ({}, {"reason": " "}):
        r = await client.post(f"{url}/deregister", json=body, headers=headers)
        assert_problem(r, 422, "validation_failed")
    r = await client.post(f"{url}/deregister", json={"reason": "道路改名"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "deregistered"
    assert r.json()["status_reason"] == "道路改名"
    assert r.json()["status_changed_at"] == "2026-11-23T10:00:00+08:00"
    again = await client.post(f"{url}/deregister", json={"reason": "x"}, headers=headers)
    assert_problem(again, 409, "status_transition_invalid")

    # Meanwhile the text is registered again; restoring the old record would duplicate it.
    newer = await make_address(session, clock, world.g2, "喀什市人民路7号")
    assert_problem(await client.post(f"{url}/restore", headers=headers), 409, "address_taken")
    await client.post(
        f"{ADDRESSES}/{newer['id']}/deregister", json={"reason": "重复"}, headers=headers
    )
    r = await client.post(f"{url}/restore", json={"reason": "恢复使用"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        ("active", "deregistered", "道路改名"),
        ("deregistered", "active", "恢复使用"),
    ]
    assert await audit_actions(session, "address", address["id"]) == [
        "address.create",
        "address.deregistered",
        "address.active",
    ]


async def test_r_map_3_an_address_in_use_by_a_house_is_not_deregistered(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    address = await make_address(session, clock, world.g1)
    await make_house(session, clock, world.g1, address_id=address["id"])
    r = await client.post(
        f"{ADDRESSES}/{address['id']}/deregister",
        json={"reason": "拆除"},
        headers=auth(world.admin_s1, clock),
    )
    problem = assert_problem(r, 409, "address_in_use")
    assert "1 处房屋" in problem["detail"]


# --------------------------------------------------------------------------- search


@pytest.fixture
async def street_names(session: AsyncSession, world: World, clock: MovableClock) -> list[str]:
    texts = [
        "喀什市西域大道12号",
        "喀什市西域大道88号阳光小区3栋",
        "喀什市兴业东道1号",  # same initials as 西域大道: xydd
        "喀什市人民路5号",
        "喀什市解放北路9号",
    ]
    for text in texts:
        await make_address(session, clock, world.g1, text)
    await make_address(session, clock, world.g3, "喀什市西域大道99号")  # S2's
    return texts


async def test_r_map_3_pinyin_initials_find_the_address(
    client: AsyncClient, world: World, clock: MovableClock, street_names: list[str]
) -> None:
    """ "xyjd" (initials with a slip) finds 西域大道; exact initials rank both readings."""
    headers = auth(world.admin_s1, clock)
    found = [a["full_text"] for a in await search(client, headers, "xyjd")]
    assert "喀什市西域大道12号" in found
    assert "喀什市西域大道88号阳光小区3栋" in found
    assert "喀什市人民路5号" not in found and "喀什市解放北路9号" not in found
    assert "喀什市西域大道99号" not in found  # outside S1 (R-JUR-1)
    exact = [a["full_text"] for a in await search(client, headers, "XYDD")]
    assert set(exact[:3]) == {
        "喀什市西域大道12号",
        "喀什市西域大道88号阳光小区3栋",
        "喀什市兴业东道1号",
    }


async def test_r_map_3_a_homophone_typo_finds_the_address_first(
    client: AsyncClient, world: World, clock: MovableClock, street_names: list[str]
) -> None:
    """A homophone slip (西域打道: 打 for 大, picked from the IME) ranks 西域大道 above 兴业东道,
    which only sounds alike."""
    headers = auth(world.admin_s1, clock)
    items = await search(client, headers, "西域打道")
    found = [a["full_text"] for a in items]
    assert set(found[:2]) == {"喀什市西域大道12号", "喀什市西域大道88号阳光小区3栋"}
    assert found.index("喀什市兴业东道1号") > 1
    assert "喀什市人民路5号" not in found
    scores = [a["score"] for a in items]
    assert scores == sorted(scores, reverse=True)
    assert all(0 < s <= 1 for s in scores)


async def test_r_map_3_keyword_and_typo_search(
    client: AsyncClient, world: World, clock: MovableClock, street_names: list[str]
) -> None:
    headers = auth(world.admin_s1, clock)
    items = await search(client, headers, "人民路")
    assert items[0]["full_text"] == "喀什市人民路5号"
    assert items[0]["score"] == 1.0
    typo = await search(client, headers, "阳光小去3栋")
    assert typo[0]["full_text"] == "喀什市西域大道88号阳光小区3栋"
    assert await search(client, headers, "乌鲁木齐") == []
    wildcard = await search(client, headers, "%")
    assert wildcard == []


async def test_r_map_3_ranked_search_pages_with_a_keyset_cursor(
    client: AsyncClient, world: World, clock: MovableClock, street_names: list[str]
) -> None:
    """Paging one by one yields exactly the one-page ranking; the cursor is bound to its
    query, so reusing it for another search is a 400 instead of silently skipping rows."""
    headers = auth(world.admin_s1, clock)
    whole = await search(client, headers, "xydd", limit=50)
    assert len(whole) >= 3
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "xydd", "limit": 1}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(ADDRESSES, params=params, headers=headers)).json()
        assert page["total"] == len(whole)
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [a["id"] for a in whole]
    first = (await client.get(ADDRESSES, params={"q": "xydd", "limit": 1}, headers=headers)).json()
    other = await client.get(
        ADDRESSES, params={"q": "人民路", "cursor": first["next_cursor"]}, headers=headers
    )
    assert_problem(other, 400, "cursor_invalid")
    plain = await client.get(ADDRESSES, params={"cursor": first["next_cursor"]}, headers=headers)
    assert_problem(plain, 400, "cursor_invalid")


async def test_r_map_3_list_filters_by_unit_and_status(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    in_g1 = str((await make_address(session, clock, world.g1, "喀什市东湖路1号"))["id"])
    in_g2 = str((await make_address(session, clock, world.g2, "喀什市东湖路2号"))["id"])
    headers = auth(world.admin_s1, clock)

    async def ids(**params: Any) -> list[str]:
        r = await client.get(ADDRESSES, params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [a["id"] for a in r.json()["items"]]

    assert await ids(unit_id=str(world.g1.id)) == [in_g1]
    assert await ids(unit_id=str(world.c1.id)) == [in_g1, in_g2]
    await client.post(f"{ADDRESSES}/{in_g2}/deregister", json={"reason": "拆除"}, headers=headers)
    assert await ids(unit_id=str(world.c1.id), status="active") == [in_g1]
    assert await ids(status="deregistered") == [in_g2]
    r = await client.get(ADDRESSES, params={"unit_id": str(world.g3.id)}, headers=headers)
    assert_problem(r, 404, "org_unit_not_found")


async def test_r_exp_1_export_follows_the_search(
    client: AsyncClient, world: World, clock: MovableClock, street_names: list[str]
) -> None:
    headers = auth(world.worker_g1, clock)
    r = await client.get(f"{ADDRESSES}/export", params={"q": "西域打道"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    lines = r.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("标准地址,道路,门牌号")
    listed = [a["full_text"] for a in await search(client, headers, "西域打道")]
    assert [line.split(",")[0] for line in lines[1:]] == listed
    r = await client.get(f"{ADDRESSES}/export", params={"format": "xlsx"}, headers=headers)
    assert r.status_code == 200, r.text
    assert io.BytesIO(r.content).read(2) == b"PK"
    assert "filename*=UTF-8" in r.headers["content-disposition"]


# --------------------------------------------------------------------------- building view


@pytest.fixture
async def building(session: AsyncSession, world: World, clock: MovableClock) -> dict[str, Any]:
    """An address with two rooms (one let, two residents), a deregistered room and a former
    resident — neither of the last two is shown."""
    address = await make_address(session, clock, world.g1, "喀什市西域大道66号")
    let = await make_house(
        session, clock, world.g1, house_no="B66-0101", address_id=address["id"], room="101"
    )
    empty = await make_house(
        session, clock, world.g1, house_no="B66-0102", address_id=address["id"], room="102"
    )
    gone = await make_house(
        session, clock, world.g1, house_no="B66-0103", address_id=address["id"], room="103"
    )
    await deregistered(session, clock, "house", gone["id"])
    await make_resident(session, world.g1, let["id"], name="王小明", serial=11)
    await make_resident(session, world.g1, let["id"], name="赵丽", serial=12)
    await make_resident(session, world.g1, let["id"], name="钱多", serial=13, status="deregistered")
    await make_rental(session, clock, let["id"])
    return {"address": address, "let": let, "empty": empty}


async def test_r_map_3_building_shows_rooms_residents_and_rentals(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    building: dict[str, Any],
) -> None:
    """以房找人: from the address to its rooms, their residents and rental records; the admin
    sees full values and each unmasked read is audited (R-JUR-3)."""
    url = f"{ADDRESSES}/{building['address']['id']}/building"
    r = await client.get(url, headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["address"]["full_text"] == "喀什市西域大道66号"
    rooms = view["rooms"]
    assert rooms["total"] == 2
    assert [room["house_no"] for room in rooms["items"]] == ["B66-0101", "B66-0102"]
    let, empty = rooms["items"]
    assert sorted(p["name"] for p in let["residents"]) == ["王小明", "赵丽"]
    assert {p["id_number"] for p in let["residents"]} == {resident_id(11), resident_id(12)}
    assert let["owner_id_number"] == OWNER_ID
    assert [(x["landlord_id_number"], x["status"]) for x in let["rentals"]] == [
        (LANDLORD_ID, "active")
    ]
    assert empty["residents"] == [] and empty["rentals"] == []
    await set_scope(session, "*")
    reads = await session.execute(
        select(AuditEntry.target_type).where(
            AuditEntry.action == "pii.read", AuditEntry.actor_id == world.admin_s1.id
        )
    )
    assert sorted(reads.scalars()) == ["house", "person", "rental"]

    page = (await client.get(url, params={"limit": 1}, headers=auth(world.admin_s1, clock))).json()
    assert [room["house_no"] for room in page["rooms"]["items"]] == ["B66-0101"]
    after = await client.get(
        url,
        params={"limit": 1, "cursor": page["rooms"]["next_cursor"]},
        headers=auth(world.admin_s1, clock),
    )
    assert [room["house_no"] for room in after.json()["rooms"]["items"]] == ["B66-0102"]


async def test_r_jur_3_building_is_masked_for_a_grid_worker(
    client: AsyncClient, world: World, clock: MovableClock, building: dict[str, Any]
) -> None:
    url = f"{ADDRESSES}/{building['address']['id']}/building"
    r = await client.get(url, headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    for secret in (OWNER_ID, OWNER_PHONE, LANDLORD_ID, LANDLORD_PHONE, RESIDENT_PHONE, "王小明"):
        assert secret not in r.text
    let = r.json()["rooms"]["items"][0]
    assert sorted(p["name"] for p in let["residents"]) == ["王**", "赵*"]
    assert {p["id_number"] for p in let["residents"]} == {
        "653101********" + resident_id(serial)[-4:] for serial in (11, 12)
    }
    assert let["owner_phone"] == "138****1234"
    assert let["rentals"][0]["landlord_name"] == "李**"
    r = await client.get(url, headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "address_not_found")


async def test_r_map_3_unknown_address_has_no_building(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(f"{ADDRESSES}/{uuid.uuid4()}/building", headers=auth(world.admin_d, clock))
    assert_problem(r, 404, "address_not_found")
