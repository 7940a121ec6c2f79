"""Actual population over the API: four kinds with their details (R-POP-1, R-POP-3), ID
numbers (R-POP-2), one active record per grid and ID (R-POP-1), residence (R-POP-5),
settling (R-POP-4), deregistration and restoration with history (SPEC §3), masking
(R-JUR-3), jurisdiction (R-JUR-1), audit (R-AUD-1), lists and exports (R-EXP-1)."""

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from geoalchemy2.shape import from_shape, to_shape
from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.id_numbers import check_char
from domain.people import DICTIONARIES, ETHNIC_GROUPS, Kind
from services.db import set_scope
from services.models import AuditEntry, House, OrgUnit, Person, StatusChange
from tests import territory
from tests.conftest import MovableClock, unique
from tests.factories import (
    World,
    assert_problem,
    auth,
    make_user,
)
from tests.routes.people import make_person, resident_id
from tests.territory import Committed, committed_territory

PEOPLE = "/api/v1/people"
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
PHONE = "13812345678"
BORN = date(1990, 5, 17)


def body(world: World, **over: Any) -> dict[str, Any]:
    return {
        "grid_id": str(world.g1.id),
        "kind": "registered",
        "id_number": resident_id(BORN),
        "name": "张三丰",
        "phone": PHONE,
        "register_address": "新疆喀什市人民路1号",
        "current_address": "新疆喀什市解放路2号",
        "no_house_reason": "借住亲友家",
        **over,
    }


async def count(session: AsyncSession, model: type[Any] = Person) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def audit(session: AsyncSession, target_id: Any, action: str | None = None) -> list[Any]:
    await set_scope(session, "*")
    stmt = select(AuditEntry).where(AuditEntry.target_id == str(target_id))
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return list((await session.execute(stmt.order_by(AuditEntry.id))).scalars())


async def insert_house(
    session: AsyncSession, grid: OrgUnit, *, status: str = "active", lon: float = 75.92
) -> House:
    """A house inserted directly (the houses API is another feature)."""
    await set_scope(session, "*")
    house = House(
        grid_id=grid.id,
        path=grid.path,
        house_no=unique("H"),
        address="新疆喀什市人民路9号3单元",
        location=from_shape(Point(lon, 39.42), srid=4326),
        status=status,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(house)
    await session.flush()
    return house


async def test_r_pop_1_register_a_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    number = resident_id(BORN, serial=123)
    sent = body(world, id_number=" " + number.lower().replace("6", "６") + " ")
    r = await client.post(PEOPLE, json=sent, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{PEOPLE}/{out['id']}"
    assert out["id_number"] == number  # R-POP-2: normalised
    assert (out["birth_date"], out["gender"]) == ("1990-05-17", "male")  # derived
    assert out["name"] == "张三丰" and out["phone"] == PHONE  # the admin holds pii:read
    assert out["grid_code"] == world.g1.code
    assert (out["kind"], out["status"], out["version"]) == ("registered", "active", 1)
    assert out["created_at"].endswith("+08:00")
    [entry] = await audit(session, out["id"], "person.create")
    assert entry.after["id_number"] == number and entry.after["phone"] == PHONE  # real values
    assert entry.actor_id == world.admin_s1.id


@pytest.mark.parametrize(
    ("over", "field", "code"),
    [
        ({"id_number": "65310119900517123"}, "id_number", "id_number_format"),
        ({"id_number": "65310119900517123Y"}, "id_number", "id_number_format"),
        ({"id_number": "653101199005171231"}, "id_number", "id_number_checksum"),
        ({"id_number": resident_id(BORN, region="999999")}, "id_number", "id_number_region"),
        ({"id_number": resident_id(date(2027, 1, 1))}, "id_number", "id_number_birth_date"),
        # 30 February: a well-formed number with a correct check digit and an impossible date.
        (
            {"id_number": "65310119900230001" + check_char("65310119900230001")},
            "id_number",
            "id_number_birth_date",
        ),
        ({"id_number": None}, "id_number", "field_required"),
        ({"birth_date": "1990-05-18"}, "birth_date", "birth_date_mismatch"),
        (
            {"gender": "female", "id_number": resident_id(BORN, serial=1)},
            "gender",
            "gender_mismatch",
        ),
    ],
)
async def test_r_pop_2_bad_id_numbers_are_refused_and_nothing_is_written(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    over: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = (await count(session), await count(session, AuditEntry))
    r = await client.post(PEOPLE, json=body(world, **over), headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 422, "id_number_invalid")
    assert [e["field"] for e in problem["errors"]] == [field]
    assert problem["detail"] == "身份证号码校验未通过"
    r = await client.post(
        PEOPLE,
        json=body(world, **over),
        headers={**auth(world.admin_s1, clock), "Accept-Language": "en"},
    )
    assert assert_problem(r, 422, "id_number_invalid")["errors"][0]["message"].isascii()
    assert (await count(session), await count(session, AuditEntry)) == before


async def test_r_pop_2_a_legacy_15_digit_number_is_upgraded(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    number = resident_id(date(1975, 3, 9), serial=42)
    legacy = number[:6] + number[8:17]
    r = await client.post(
        PEOPLE, json=body(world, id_number=legacy), headers=auth(world.admin_s1, clock)
    )
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == number
    assert (r.json()["birth_date"], r.json()["gender"]) == ("1975-03-09", "female")


async def test_r_pop_1_one_active_record_per_grid_and_id_whatever_the_kind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    number = resident_id(BORN)
    first = await client.post(PEOPLE, json=body(world, id_number=number), headers=headers)
    assert first.status_code == 201, first.text
    before = (await count(session), await count(session, AuditEntry))
    for kind, details in (("registered", {}), ("floating", {"stay_reason": "务工"})):
        again = body(world, id_number=number, kind=kind, details=details)
        problem = assert_problem(
            await client.post(PEOPLE, json=again, headers=headers), 409, "duplicate_active_record"
        )
        assert [e["field"] for e in problem["errors"]] == ["id_number"]
    assert (await count(session), await count(session, AuditEntry)) == before
    # The same person may be recorded in another grid.
    other_grid = body(world, id_number=number, grid_id=str(world.g2.id), kind="floating")
    assert (await client.post(PEOPLE, json=other_grid, headers=headers)).status_code == 201
    # Once the first record is deregistered, the identity is free in its grid again…
    r = await client.post(
        f"{PEOPLE}/{first.json()['id']}/deregister", json={"reason": "迁出"}, headers=headers
    )
    assert r.status_code == 200, r.text
    second = await client.post(
        PEOPLE, json=body(world, id_number=number, kind="floating"), headers=headers
    )
    assert second.status_code == 201, second.text
    # …and the first cannot come back while the second is active.
    r = await client.post(f"{PEOPLE}/{first.json()['id']}/restore", headers=headers)
    assert_problem(r, 409, "duplicate_active_record")
    r = await client.get(f"{PEOPLE}/{first.json()['id']}", headers=headers)
    assert r.json()["status"] == "deregistered"


async def test_r_pop_3_kind_details_are_validated_per_kind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    floating = {
        "residence_permit_no": "6531012026000123",
        "stay_reason": "务工",
        "inflow_date": "2026-03-01",
        "landlord": "李春花",
    }
    r = await client.post(
        PEOPLE, json=body(world, kind="floating", details=floating), headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["details"] == floating
    r = await client.post(
        PEOPLE,
        json=body(world, kind="unsettled", details={"reason": "出生未落"}, ethnicity="维吾尔族"),
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["details"], r.json()["ethnicity"]) == ({"reason": "出生未落"}, "维吾尔族")

    before = (await count(session), await count(session, AuditEntry))
    bad: list[tuple[dict[str, Any], str]] = [
        ({"kind": "floating", "details": {"stay_reason": "务工", "pet": "猫"}}, "details.pet"),
        ({"kind": "registered", "details": {"landlord": "李春花"}}, "details.landlord"),
        ({"kind": "unsettled", "details": {}}, "details.reason"),
        ({"kind": "unsettled", "details": {"reason": "不想落"}}, "details.reason"),
        ({"kind": "floating", "details": {"inflow_date": "昨天"}}, "details.inflow_date"),
        ({"ethnicity": "火星族"}, "ethnicity"),
        ({"marital_status": "保密"}, "marital_status"),
        ({"phone": "12345"}, "phone"),
        ({"kind": "alien"}, "kind"),
        ({"password": "x"}, "password"),
    ]
    for over, field in bad:
        r = await client.post(PEOPLE, json=body(world, **over), headers=headers)
        problem = assert_problem(r, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [field], over
    assert (await count(session), await count(session, AuditEntry)) == before


async def test_r_pop_3_every_common_field_is_kept_and_dictionaries_are_checked(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-POP-3 "Common": name, former name, gender, birth date, ethnicity, phone, both
    addresses, education, occupation, employer, political status, marital status, photo,
    low-income and away flags — each stored and returned; the dictionary fields refuse
    terms outside their dictionary."""
    headers = auth(world.admin_s1, clock)
    common = {
        "former_name": "张小三",
        "gender": "male",
        "birth_date": "1990-05-17",
        "ethnicity": "维吾尔族",
        "education": "大学本科",
        "occupation": "教师",
        "employer": "喀什市第一中学",
        "political_status": "中共党员",
        "marital_status": "已婚",
        "photo_url": "https://img.example.cn/p/1.jpg",
        "low_income": True,
        "away": True,
    }
    male = resident_id(BORN, serial=101)  # an odd sequence number: a man
    r = await client.post(PEOPLE, json=body(world, id_number=male, **common), headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert {k: out[k] for k in common} == common
    assert (out["name"], out["phone"]) == ("张三丰", PHONE)
    assert (out["register_address"], out["current_address"]) == (
        "新疆喀什市人民路1号",
        "新疆喀什市解放路2号",
    )
    shown = (await client.get(f"{PEOPLE}/{out['id']}", headers=headers)).json()
    assert {k: shown[k] for k in common} == common
    r = await client.patch(
        f"{PEOPLE}/{out['id']}", json={"low_income": False, "away": False}, headers=headers
    )
    assert (r.json()["low_income"], r.json()["away"]) == (False, False)

    before = (await count(session), await count(session, AuditEntry))
    for field, term in (
        ("education", "博士后"),
        ("political_status", "无党派"),
        ("marital_status", "保密"),
        ("ethnicity", "火星族"),
    ):
        problem = assert_problem(
            await client.post(PEOPLE, json=body(world, **{field: term}), headers=headers),
            422,
            "validation_failed",
        )
        assert [e["field"] for e in problem["errors"]] == [field]
        assert DICTIONARIES[field][0] in problem["errors"][0]["message"]
    assert (await count(session), await count(session, AuditEntry)) == before


async def test_r_pop_3_the_56_ethnic_groups_and_other(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    assert len(set(ETHNIC_GROUPS)) == 56
    assert DICTIONARIES["ethnicity"] == (*ETHNIC_GROUPS, "其他")
    headers = auth(world.admin_s1, clock)
    for ethnicity in ("汉族", "柯尔克孜族", "其他"):
        r = await client.post(PEOPLE, json=body(world, ethnicity=ethnicity), headers=headers)
        assert r.json()["ethnicity"] == ethnicity, r.text
    r = await client.post(PEOPLE, json=body(world, ethnicity="维吾尔"), headers=headers)
    problem = assert_problem(r, 422, "validation_failed")
    assert problem["errors"][0]["field"] == "ethnicity"
    assert "维吾尔族" in problem["errors"][0]["message"]


async def test_r_pop_2_overseas_people_are_identified_by_their_document(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    details = {
        "nationality": "pak",
        "document_type": "passport",
        "document_number": "ab 1234567",
        "visa_type": "Z",
        "entry_date": "2026-02-01",
    }
    sent = body(world, kind="overseas", details=details, gender="male", birth_date="1985-01-02")
    sent.pop("id_number")
    r = await client.post(PEOPLE, json=sent, headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id_number"] == "passport:PAK:AB1234567"
    assert out["details"]["document_number"] == "AB1234567"
    assert (out["gender"], out["birth_date"]) == ("male", "1985-01-02")
    before = await count(session)
    assert_problem(
        await client.post(PEOPLE, json=sent, headers=headers), 409, "duplicate_active_record"
    )
    r = await client.post(PEOPLE, json={**sent, "id_number": resident_id()}, headers=headers)
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["id_number"]
    r = await client.post(PEOPLE, json={**sent, "details": {"nationality": "PAK"}}, headers=headers)
    problem = assert_problem(r, 422, "validation_failed")
    assert {e["field"] for e in problem["errors"]} == {
        "details.document_type",
        "details.document_number",
    }
    assert await count(session) == before
    # A whole document number finds the person.
    found = await client.get(PEOPLE, params={"q": "AB1234567"}, headers=headers)
    assert [p["id"] for p in found.json()["items"]] == [out["id"]]


async def test_r_pop_5_a_person_lives_in_a_house_or_states_why_not(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    house = await insert_house(session, world.g1)
    before = await count(session)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"no_house_reason": None}, 422, "residence_invalid"),
        ({"house_id": str(house.id)}, 422, "residence_invalid"),  # and a no-house reason
        ({"house_id": str(uuid.uuid4()), "no_house_reason": None}, 404, "house_not_found"),
    ]
    for over, status, code in cases:
        r = await client.post(PEOPLE, json=body(world, **over), headers=headers)
        problem = assert_problem(r, status, code)
        assert [e["field"] for e in problem["errors"]] in (["no_house_reason"], ["house_id"])
    gone = await insert_house(session, world.g1, status="deregistered")
    r = await client.post(
        PEOPLE, json=body(world, house_id=str(gone.id), no_house_reason=None), headers=headers
    )
    assert_problem(r, 422, "house_inactive")
    # A house outside the caller's jurisdiction does not exist for them (R-JUR-1).
    far = await insert_house(session, world.g3, lon=76.02)
    r = await client.post(
        PEOPLE, json=body(world, house_id=str(far.id), no_house_reason=None), headers=headers
    )
    assert_problem(r, 404, "house_not_found")
    assert await count(session) == before

    r = await client.post(
        PEOPLE, json=body(world, house_id=str(house.id), no_house_reason=None), headers=headers
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["house_id"], out["house_address"]) == (str(house.id), house.address)
    assert out["no_house_reason"] is None
    await set_scope(session, "*")
    location = await session.scalar(select(Person.location).where(Person.id == out["id"]))
    assert location is not None and to_shape(location).equals(Point(75.92, 39.42))
    residents = await client.get(PEOPLE, params={"house_id": str(house.id)}, headers=headers)
    assert [p["id"] for p in residents.json()["items"]] == [out["id"]]

    # Naming a no-house reason drops the house, and naming a house drops the reason.
    url = f"{PEOPLE}/{out['id']}"
    r = await client.patch(url, json={"no_house_reason": "外出务工"}, headers=headers)
    assert (r.json()["house_id"], r.json()["no_house_reason"]) == (None, "外出务工")
    assert await session.scalar(select(Person.location).where(Person.id == out["id"])) is None
    r = await client.patch(url, json={"house_id": str(house.id)}, headers=headers)
    assert (r.json()["house_id"], r.json()["no_house_reason"]) == (str(house.id), None)
    r = await client.patch(url, json={"house_id": None}, headers=headers)
    assert_problem(r, 422, "residence_invalid")


async def test_r_pop_3_patch_with_if_match_and_audited_changes(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    created = await client.post(
        PEOPLE,
        json=body(world, kind="floating", details={"stay_reason": "务工", "landlord": "李春花"}),
        headers=headers,
    )
    url = f"{PEOPLE}/{created.json()['id']}"
    r = await client.patch(
        url,
        json={"phone": "13900001111", "details": {"landlord": None, "inflow_date": "2026-01-05"}},
        headers={**headers, "If-Match": created.headers["etag"]},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["details"] == {"stay_reason": "务工", "inflow_date": "2026-01-05"}
    [entry] = await audit(session, created.json()["id"], "person.update")
    assert entry.before == {
        "phone": PHONE,
        "details": {"stay_reason": "务工", "landlord": "李春花"},
    }
    assert entry.after["phone"] == "13900001111"

    stale = await client.patch(
        url, json={"name": "王五"}, headers={**headers, "If-Match": created.headers["etag"]}
    )
    assert_problem(stale, 412, "precondition_failed")
    for bad in ({"name": None}, {"grid_id": str(world.g2.id)}, {"kind": "registered"}):
        assert_problem(await client.patch(url, json=bad, headers=headers), 422, "validation_failed")
    r = await client.patch(url, json={"birth_date": "1991-01-01"}, headers=headers)
    assert_problem(r, 422, "id_number_invalid")
    # A corrected ID number re-derives the birth date and gender.
    corrected = resident_id(date(1988, 8, 8), serial=2)
    r = await client.patch(url, json={"id_number": corrected}, headers=headers)
    assert (r.json()["id_number"], r.json()["birth_date"], r.json()["gender"]) == (
        corrected,
        "1988-08-08",
        "female",
    )
    assert (await client.get(url, headers=headers)).json()["name"] == "张三丰"


async def test_spec_3_deregister_and_restore_keep_history(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    person = await make_person(session, clock, world.g1)
    url = f"{PEOPLE}/{person['id']}"
    assert_problem(
        await client.post(f"{url}/deregister", json={}, headers=headers), 422, "validation_failed"
    )
    stale = {**headers, "If-Match": '"9"'}
    r = await client.post(f"{url}/deregister", json={"reason": "死亡"}, headers=stale)
    assert_problem(r, 412, "precondition_failed")
    r = await client.post(f"{url}/deregister", json={"reason": "死亡"}, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_reason"]) == ("deregistered", "死亡")
    assert r.json()["status_changed_at"] == "2026-11-23T10:00:00+08:00"
    r = await client.post(f"{url}/deregister", json={"reason": "again"}, headers=headers)
    assert_problem(r, 409, "status_transition_invalid")
    assert_problem(
        await client.patch(url, json={"name": "李四"}, headers=headers), 409, "record_deregistered"
    )

    clock.current = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{url}/restore", json={"reason": "误注销"}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    history = (await client.get(f"{url}/history", headers=headers)).json()
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history] == [
        ("active", "deregistered", "死亡"),
        ("deregistered", "active", "误注销"),
    ]
    assert history[1]["at"] == "2026-11-24T09:00:00+08:00"
    changes = [
        e.action for e in await audit(session, person["id"]) if e.action.startswith("person.")
    ]
    assert changes == ["person.create", "person.deregistered", "person.active"]
    assert_problem(
        await client.post(f"{url}/restore", headers=headers), 409, "status_transition_invalid"
    )


async def test_r_pop_4_settle_an_unsettled_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    unsettled = await make_person(
        session, clock, world.g1, kind=Kind.UNSETTLED, phone=PHONE, ethnicity="回族"
    )
    url = f"{PEOPLE}/{unsettled['id']}/settle"
    before = (await count(session), await count(session, StatusChange))
    r = await client.post(url, json={"settle_date": "2026-11-24"}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    r = await client.post(url, json={"id_number": "123"}, headers=headers)
    assert_problem(r, 422, "id_number_invalid")
    # Nothing half-written: the unsettled record is still active, no new record.
    assert (await count(session), await count(session, StatusChange)) == before
    assert (await client.get(f"{PEOPLE}/{unsettled['id']}", headers=headers)).json()[
        "status"
    ] == "active"

    r = await client.post(
        url,
        json={"settle_date": "2026-11-20", "register_address": "喀什市团结路5号"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    settled = r.json()
    assert r.headers["location"] == f"{PEOPLE}/{settled['id']}"
    assert settled["id"] != unsettled["id"]
    assert (settled["kind"], settled["status"]) == ("registered", "active")
    assert settled["id_number"] == unsettled["id_number"]
    assert (settled["phone"], settled["ethnicity"]) == (PHONE, "回族")
    assert settled["register_address"] == "喀什市团结路5号"
    assert settled["details"] == {"settle_date": "2026-11-20"}
    old = (await client.get(f"{PEOPLE}/{unsettled['id']}", headers=headers)).json()
    assert (old["status"], old["status_reason"]) == ("deregistered", "已落户")
    [entry] = await audit(session, settled["id"], "person.settle")
    assert entry.after["settled_from"] == str(unsettled["id"])

    again = await client.post(url, headers=headers)
    assert_problem(again, 409, "record_deregistered")
    r = await client.post(f"{PEOPLE}/{settled['id']}/settle", headers=headers)
    assert_problem(r, 409, "settle_not_unsettled")


async def test_r_jur_3_a_grid_worker_sees_masked_values_everywhere(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    worker = auth(world.worker_g1, clock)
    number = resident_id(BORN, serial=321)
    r = await client.post(PEOPLE, json=body(world, id_number=number), headers=worker)
    assert r.status_code == 201, r.text
    person = r.json()
    expected = {
        "id_number": number[:6] + "*" * 8 + number[-4:],
        "phone": "138****5678",
        "name": "张**",
        "register_address": "新疆喀什市人" + "*" * 4,
    }
    assert {k: person[k] for k in expected} == expected
    overseas = await make_person(session, clock, world.g1, kind=Kind.OVERSEAS)

    url = f"{PEOPLE}/{person['id']}"
    got = (await client.get(url, headers=worker)).json()
    assert {k: got[k] for k in expected} == expected
    listed = await client.get(PEOPLE, params={"q": number}, headers=worker)
    assert [p["id_number"] for p in listed.json()["items"]] == [expected["id_number"]]
    other = (await client.get(f"{PEOPLE}/{overseas['id']}", headers=worker)).json()
    assert other["details"]["document_number"] != overseas["details"]["document_number"]
    assert overseas["details"]["document_number"] not in other["id_number"]
    exported = await client.get(f"{PEOPLE}/export", params={"format": "csv"}, headers=worker)
    assert exported.status_code == 200, exported.text
    text = exported.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["证件号码"] for row in rows} >= {expected["id_number"]}
    for secret in (number, PHONE, "张三丰", overseas["details"]["document_number"]):
        assert secret not in text
    await set_scope(session, "*")
    reads = await session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.actor_id == world.worker_g1.id, AuditEntry.action.like("pii.%"))
    )
    assert reads == 0  # nothing unmasked was read

    # pii:reveal shows one record with a stated reason, audited.
    assert_problem(
        await client.post(f"{url}/reveal", json={"reason": " "}, headers=worker),
        422,
        "validation_failed",
    )
    r = await client.post(f"{url}/reveal", json={"reason": "入户走访核对"}, headers=worker)
    assert r.status_code == 200, r.text
    assert (r.json()["id_number"], r.json()["phone"], r.json()["name"]) == (number, PHONE, "张三丰")
    [entry] = await audit(session, person["id"], "pii.reveal")
    assert (entry.reason, entry.actor_id) == ("入户走访核对", world.worker_g1.id)


async def test_r_jur_3_pii_read_sees_full_values_and_is_audited(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    person = await make_person(session, clock, world.g1, phone=PHONE)
    admin = auth(world.admin_d, clock)
    r = await client.get(f"{PEOPLE}/{person['id']}", headers=admin)
    assert (r.json()["id_number"], r.json()["phone"]) == (person["id_number"], PHONE)
    reads = [
        e for e in await audit(session, person["id"], "pii.read") if e.actor_id == world.admin_d.id
    ]
    assert len(reads) == 1
    exported = await client.get(f"{PEOPLE}/export", params={"format": "csv"}, headers=admin)
    assert person["id_number"] in exported.content.decode("utf-8-sig")
    await set_scope(session, "*")
    assert (
        await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor_id == world.admin_d.id, AuditEntry.action == "pii.export")
        )
        == 1
    )
    # Reveal needs pii:reveal; an auditor holds neither it nor write permissions.
    auditor = await make_user(session, roles=["auditor"], unit=world.district)
    r = await client.post(
        f"{PEOPLE}/{person['id']}/reveal", json={"reason": "x"}, headers=auth(auditor, clock)
    )
    assert_problem(r, 403, "permission_denied")
    r = await client.post(PEOPLE, json=body(world), headers=auth(auditor, clock))
    assert_problem(r, 403, "permission_denied")


async def test_r_jur_1_people_of_a_sibling_street_do_not_exist(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    person = await make_person(session, clock, world.g1)
    s2 = auth(world.admin_s2, clock)
    for method, suffix, json in (
        ("GET", "", None),
        ("PATCH", "", {"phone": PHONE}),
        ("GET", "/history", None),
        ("POST", "/deregister", {"reason": "x"}),
        ("POST", "/reveal", {"reason": "x"}),
    ):
        r = await client.request(method, f"{PEOPLE}/{person['id']}{suffix}", json=json, headers=s2)
        assert_problem(r, 404, "person_not_found")
    assert (await client.get(PEOPLE, headers=s2)).json()["total"] == 0
    r = await client.get(PEOPLE, params={"unit_id": str(world.s1.id)}, headers=s2)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.post(PEOPLE, json=body(world), headers=s2)
    assert_problem(r, 404, "org_unit_not_found")
    # Records are added at grid level (R-REG-1).
    r = await client.post(
        PEOPLE, json=body(world, grid_id=str(world.c1.id)), headers=auth(world.admin_s1, clock)
    )
    assert_problem(r, 422, "record_needs_grid")


async def test_r_pop_1_list_filters_search_and_keyset_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    g1 = [await make_person(session, clock, world.g1, name=f"阿依古丽{i}") for i in range(3)]
    g2 = await make_person(session, clock, world.g2, kind=Kind.FLOATING, name="买买提·艾力")
    g3 = await make_person(session, clock, world.g3, kind=Kind.UNSETTLED, name="古丽娜")
    gone = await make_person(session, clock, world.g1, name="注销者")
    await client.post(f"{PEOPLE}/{gone['id']}/deregister", json={"reason": "迁出"}, headers=headers)

    async def ids(**params: Any) -> set[str]:
        r = await client.get(PEOPLE, params={"limit": 500, **params}, headers=headers)
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["items"])
        return {p["id"] for p in r.json()["items"]}

    every = {str(p["id"]) for p in [*g1, g2, g3, gone]}
    assert await ids() == every
    assert await ids(unit_id=str(world.c1.id)) == every - {str(g3["id"])}
    assert await ids(unit_id=str(world.g2.id)) == {str(g2["id"])}
    assert await ids(kind="floating") == {str(g2["id"])}
    assert await ids(status="deregistered") == {str(gone["id"])}
    assert await ids(q="古丽") == {str(p["id"]) for p in [*g1, g3]}
    assert await ids(q="买买提") == {str(g2["id"])}
    assert await ids(q=g3["id_number"]) == {str(g3["id"])}
    assert await ids(q=g3["id_number"][:14]) == set()  # identities match only whole
    assert await ids(q="%") == set()
    assert_problem(
        await client.get(PEOPLE, params={"kind": "x"}, headers=headers), 422, "validation_failed"
    )

    seen: list[str] = []
    page = (await client.get(PEOPLE, params={"limit": 2}, headers=headers)).json()
    while True:
        assert page["total"] == len(every)
        seen += [p["id"] for p in page["items"]]
        if page["next_cursor"] is None:
            break
        page = (
            await client.get(
                PEOPLE, params={"limit": 2, "cursor": page["next_cursor"]}, headers=headers
            )
        ).json()
    assert sorted(seen) == sorted(every)
    r = await client.get(PEOPLE, params={"cursor": "garbage"}, headers=headers)
    assert_problem(r, 400, "cursor_invalid")

    exported = await client.get(
        f"{PEOPLE}/export", params={"format": "xlsx", "kind": "floating"}, headers=headers
    )
    assert exported.status_code == 200
    assert exported.content[:2] == b"PK"
    csv_rows = list(
        csv.DictReader(
            io.StringIO(
                (
                    await client.get(
                        f"{PEOPLE}/export",
                        params={"format": "csv", "unit_id": str(world.g2.id)},
                        headers=headers,
                    )
                ).content.decode("utf-8-sig")
            )
        )
    )
    assert [(r["姓名"], r["人口类别"]) for r in csv_rows] == [("买买提·艾力", "流动人口")]


real_client = territory.real_client


@pytest.fixture
async def committed(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    """Races with real commits, on a territory of their own (Korla, 652801) so committed rows
    never meet the rolled-back worlds (nor the Bole territory of the concurrency tests)."""
    async with committed_territory(app, clock, region="652801", west=86.0, south=41.7) as data:
        yield data


async def test_r_pop_1_racing_creates_of_one_identity_make_one_record(
    real_client: AsyncClient, committed: Committed
) -> None:
    """Two simultaneous registrations of one ID in one grid (of different kinds): the partial
    unique index lets exactly one through; the other is 409."""
    number = resident_id(BORN, region="652801")

    async def create(kind: str) -> int:
        sent = {
            "grid_id": str(committed.grid_id),
            "kind": kind,
            "id_number": number,
            "name": "并发",
            "no_house_reason": "无",
        }
        return (await real_client.post(PEOPLE, json=sent, headers=committed.headers)).status_code

    assert sorted(await asyncio.gather(create("registered"), create("floating"))) == [201, 409]
    listed = await real_client.get(
        PEOPLE, params={"q": number, "unit_id": str(committed.grid_id)}, headers=committed.headers
    )
    assert listed.json()["total"] == 1


async def test_r_hh_1_racing_joins_of_one_person_to_two_households(
    real_client: AsyncClient, committed: Committed
) -> None:
    """One person added to two households at once: the link table's key lets one through."""
    headers = committed.headers
    sent = {
        "grid_id": str(committed.grid_id),
        "kind": "registered",
        "id_number": resident_id(BORN, region="652801"),
        "name": "并发",
        "no_house_reason": "无",
    }
    person = (await real_client.post(PEOPLE, json=sent, headers=headers)).json()
    groups = [
        (
            await real_client.post(
                "/api/v1/households",
                json={
                    "grid_id": str(committed.grid_id),
                    "household_no": f"KRL{i}{uuid.uuid4().hex[:8]}",
                },
                headers=headers,
            )
        ).json()
        for i in range(2)
    ]

    async def join(group: dict[str, Any]) -> int:
        response = await real_client.post(
            f"/api/v1/households/{group['id']}/members",
            json={"person_id": person["id"], "relation": "child"},
            headers=headers,
        )
        return response.status_code

    assert sorted(await asyncio.gather(*(join(g) for g in groups))) == [200, 409]
    counts = [
        (await real_client.get(f"/api/v1/households/{g['id']}", headers=headers)).json()[
            "member_count"
        ]
        for g in groups
    ]
    assert sorted(counts) == [0, 1]
