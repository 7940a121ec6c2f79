"""R-ORGN-1 actual units (grid level, licence unique among active records of a grid),
R-ORGN-2 new economic and social organisations and large enterprises, with deregistration,
masking of legal representatives (R-JUR-3), audit (R-AUD-1) and exports (R-EXP-1)."""

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.places import OrganisationCategory
from services.db import set_scope
from services.models import AuditEntry, Organisation, StatusChange
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.places import (
    PRINCIPAL_PHONE,
    REPRESENTATIVE_ID,
    REPRESENTATIVE_PHONE,
    audit_actions,
    count_rows,
    licence,
    make_organisation,
)

URL = "/api/v1/organisations"
# The representative's ID number with a wrong check digit.
BAD_ID = REPRESENTATIVE_ID[:-1] + ("1" if REPRESENTATIVE_ID[-1] == "0" else "0")


def body(unit_id: uuid.UUID, **values: Any) -> dict[str, Any]:
    return {
        "category": "actual_unit",
        "unit_id": str(unit_id),
        "name": "喀什市天山商贸有限公司",
        "org_type": "企业",
        "licence_no": licence(uuid.uuid4().int),
        "legal_representative": "王建国",
        "legal_representative_id_number": REPRESENTATIVE_ID,
        "legal_representative_phone": REPRESENTATIVE_PHONE,
        "phone": PRINCIPAL_PHONE,
        **values,
    }


def read_csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_r_orgn_1_an_actual_unit_is_registered_in_a_grid_and_audited(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    sent = body(world.g1.id, location={"type": "Point", "coordinates": [75.92, 39.42]})
    r = await client.post(URL, json=sent, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{URL}/{out['id']}"
    assert out["unit_id"] == out["grid_id"] == str(world.g1.id)
    assert out["licence_no"] == sent["licence_no"]
    assert out["status"] == "active" and out["version"] == 1
    assert out["location"] == {"type": "Point", "coordinates": [75.92, 39.42]}
    assert out["created_at"].endswith("+08:00")
    assert await audit_actions(session, out["id"]) == ["organisation.create", "pii.read"]


async def test_r_orgn_1_actual_units_and_new_economic_ones_are_kept_at_grid_level(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count_rows(session, Organisation)
    headers = auth(world.admin_s1, clock)
    for category, org_type in (("actual_unit", "企业"), ("new_economic", "私营企业")):
        sent = body(world.c1.id, category=category, org_type=org_type)
        problem = assert_problem(
            await client.post(URL, json=sent, headers=headers), 422, "record_needs_grid"
        )
        assert problem["detail"] == "登记信息须落到网格"
        assert [e["field"] for e in problem["errors"]] == ["unit_id"]
    assert await count_rows(session, Organisation) == before


async def test_r_orgn_1_licence_is_unique_among_active_units_of_a_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    first = (await client.post(URL, json=body(world.g1.id), headers=headers)).json()
    before = await count_rows(session, Organisation)
    twin = body(world.g1.id, licence_no=first["licence_no"].lower(), name="另一家")
    problem = assert_problem(
        await client.post(URL, json=twin, headers=headers), 409, "duplicate_active_record"
    )
    assert problem["detail"] == "本网格已存在有效的相同记录"
    assert [e["field"] for e in problem["errors"]] == ["licence_no"]
    assert await count_rows(session, Organisation) == before
    # Another grid may hold the same licence; so may this grid once the first is deregistered.
    assert (
        await client.post(
            URL, json=body(world.g2.id, licence_no=first["licence_no"]), headers=headers
        )
    ).status_code == 201
    r = await client.post(
        f"{URL}/{first['id']}/deregister", json={"reason": "已迁出"}, headers=headers
    )
    assert r.status_code == 200, r.text
    second = await client.post(URL, json=twin, headers=headers)
    assert second.status_code == 201, second.text
    # Restoring the first would make two active records: refused, nothing changes.
    problem = assert_problem(
        await client.post(f"{URL}/{first['id']}/restore", headers=headers),
        409,
        "duplicate_active_record",
    )
    assert (await client.get(f"{URL}/{first['id']}", headers=headers)).json()[
        "status"
    ] == "deregistered"


async def test_r_orgn_2_social_organisations_at_any_level(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    for unit in (world.s1, world.c1, world.g1):
        sent = {
            "category": "social",
            "unit_id": str(unit.id),
            "name": "老年协会",
            "org_type": "社会团体",
        }
        r = await client.post(URL, json=sent, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["unit_id"] == str(unit.id)
        assert r.json()["grid_id"] == (str(unit.id) if unit is world.g1 else None)
    r = await client.get(
        URL, params={"category": "social", "unit_id": str(world.c1.id)}, headers=headers
    )
    assert r.json()["total"] == 2  # the community's and its grid's


async def test_r_orgn_2_category_dictionaries_and_mandatory_fields(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count_rows(session, Organisation)
    headers = auth(world.admin_s1, clock)
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"category": "new_economic", "org_type": "国有企业"}, ["org_type"], "取值须为"),
        ({"category": "social", "org_type": None, "licence_no": None}, ["org_type"], "必填字段"),
        ({"licence_no": None}, ["licence_no"], "必填字段"),
        ({"licence_no": "91653101MA48195881"}, ["licence_no"], "统一社会信用代码"),
        (
            {"legal_representative_id_number": BAD_ID},
            ["legal_representative_id_number"],
            "身份证",
        ),
    ]
    for change, fields, message in cases:
        problem = assert_problem(
            await client.post(URL, json=body(world.g1.id, **change), headers=headers),
            422,
            "validation_failed",
        )
        assert [e["field"] for e in problem["errors"]] == fields, change
        assert message in problem["errors"][0]["message"]
    problem = assert_problem(
        await client.post(
            URL, json={**body(world.g1.id), "status": "deregistered"}, headers=headers
        ),
        422,
        "validation_failed",
    )
    assert [e["field"] for e in problem["errors"]] == ["status"]
    large = body(
        world.g1.id,
        category="large_enterprise",
        org_type="私营企业",
        industry="化工",
        hazardous_chemicals=True,
        hazards="储罐老化",
    )
    r = await client.post(URL, json=large, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["hazardous_chemicals"] is True and r.json()["hazards"] == "储罐老化"
    assert await count_rows(session, Organisation) == before + 1


async def test_r_jur_3_legal_representative_masked_for_a_grid_worker(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    org = await make_organisation(session, clock, world.g1)
    worker = auth(world.worker_g1, clock)
    shown = (await client.get(f"{URL}/{org['id']}", headers=worker)).json()
    assert (
        shown["legal_representative_id_number"]
        == REPRESENTATIVE_ID[:6] + "********" + REPRESENTATIVE_ID[-4:]
    )
    assert shown["legal_representative_phone"] == "139****5678"
    assert shown["phone"] == PRINCIPAL_PHONE[:3] + "****" + PRINCIPAL_PHONE[-4:]
    # Searching by the full ID number works; the result stays masked.
    listed = (await client.get(URL, params={"q": REPRESENTATIVE_ID}, headers=worker)).json()
    assert [i["id"] for i in listed["items"]] == [str(org["id"])]
    assert REPRESENTATIVE_ID not in str(listed)
    problem = assert_problem(
        await client.post(f"{URL}/{org['id']}/reveal", json={"reason": " "}, headers=worker),
        422,
        "validation_failed",
    )
    assert [e["field"] for e in problem["errors"]] == ["reason"]
    revealed = await client.post(
        f"{URL}/{org['id']}/reveal", json={"reason": "核实法人身份"}, headers=worker
    )
    assert revealed.status_code == 200, revealed.text
    assert revealed.json()["legal_representative_id_number"] == REPRESENTATIVE_ID
    await set_scope(session, "*")
    entry = (
        await session.execute(
            select(AuditEntry.actor_id, AuditEntry.reason).where(
                AuditEntry.action == "pii.reveal", AuditEntry.target_id == str(org["id"])
            )
        )
    ).one()
    assert entry == (world.worker_g1.id, "核实法人身份")
    # An admin (pii:read) sees the full record, and the read is audited.
    full = (await client.get(f"{URL}/{org['id']}", headers=auth(world.admin_d, clock))).json()
    assert full["legal_representative_id_number"] == REPRESENTATIVE_ID
    assert (await audit_actions(session, org["id"]))[-1] == "pii.read"


async def test_deregister_and_restore_keep_reason_time_and_history(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """SPEC §3: never hard-deleted; deregistered with a reason and a time, restorable."""
    org = await make_organisation(session, clock, world.g1)
    headers = auth(world.admin_s1, clock)
    url = f"{URL}/{org['id']}"
    assert_problem(
        await client.post(f"{url}/deregister", json={}, headers=headers), 422, "validation_failed"
    )
    r = await client.post(
        f"{url}/deregister", json={"reason": "营业执照吊销"}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["status_reason"], out["version"]) == (
        "deregistered",
        "营业执照吊销",
        2,
    )
    assert out["status_changed_at"] == "2026-11-23T10:00:00+08:00"
    assert r.headers["etag"] == '"2"'
    assert_problem(
        await client.post(f"{url}/deregister", json={"reason": "再次"}, headers=headers),
        409,
        "status_transition_invalid",
    )
    clock.advance(timedelta(minutes=5))
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{url}/restore", json={"reason": "恢复营业"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    await set_scope(session, "*")
    history = (
        await session.execute(
            select(StatusChange.to_status, StatusChange.reason)
            .where(StatusChange.target_id == org["id"])
            .order_by(StatusChange.at)
        )
    ).all()
    assert [tuple(h) for h in history] == [("deregistered", "营业执照吊销"), ("active", "恢复营业")]
    actions = await audit_actions(session, org["id"])
    assert "organisation.deregistered" in actions and "organisation.active" in actions


async def test_update_with_if_match_category_rules_and_no_op(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    org = await make_organisation(session, clock, world.g1)
    url = f"{URL}/{org['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.patch(
        url, json={"industry": "零售", "phone": None}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["industry"], r.json()["phone"], r.headers["etag"]) == ("零售", None, '"2"')
    stale = await client.patch(
        url, json={"industry": "餐饮"}, headers={**headers, "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert_problem(
        await client.patch(url, json={"org_type": "基金会"}, headers=headers),
        422,
        "validation_failed",
    )
    problem = assert_problem(
        await client.patch(url, json={"name": None}, headers=headers), 422, "validation_failed"
    )
    assert [e["field"] for e in problem["errors"]] == ["name"]
    assert_problem(
        await client.patch(url, json={"category": "social"}, headers=headers),
        422,
        "validation_failed",
    )
    same = await client.patch(url, json={"industry": "零售"}, headers=headers)
    assert same.headers["etag"] == '"2"'  # nothing changed, nothing written
    current = (await client.get(url, headers=headers)).json()
    assert (current["industry"], current["org_type"], current["version"]) == ("零售", "企业", 2)
    assert (await audit_actions(session, org["id"])).count("organisation.update") == 1


async def test_list_filters_search_and_keyset_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    made = [
        await make_organisation(session, clock, world.g1, name="丙公司"),
        await make_organisation(session, clock, world.g2, name="甲公司", industry="物流"),
        await make_organisation(
            session, clock, world.g1, name="乙公司", legal_representative_id_number=None
        ),
    ]
    await make_organisation(session, clock, world.g3, name="外街道公司")
    headers = auth(world.admin_s1, clock)
    r = await client.get(URL, params={"unit_id": str(world.c1.id), "limit": 2}, headers=headers)
    page = r.json()
    assert page["total"] == 3 and len(page["items"]) == 2
    seen = [i["id"] for i in page["items"]]
    page = (
        await client.get(
            URL,
            params={"unit_id": str(world.c1.id), "limit": 2, "cursor": page["next_cursor"]},
            headers=headers,
        )
    ).json()
    seen += [i["id"] for i in page["items"]]
    assert page["next_cursor"] is None
    assert sorted(seen) == sorted(str(o["id"]) for o in made)
    by = (
        {"q": "甲"},
        {"industry": "物流"},
        {"q": made[2]["licence_no"]},
        {"unit_id": str(world.g2.id)},
    )
    ids = [str(o["id"]) for o in made]
    expected = [ids[1]], [ids[1]], [ids[2]], [ids[1]]
    for params, ids in zip(by, expected, strict=True):
        got = (await client.get(URL, params=params, headers=headers)).json()
        assert [i["id"] for i in got["items"]] == ids, params
    assert (await client.get(URL, params={"status": "deregistered"}, headers=headers)).json()[
        "total"
    ] == 0
    assert_problem(
        await client.get(URL, params={"category": "bank"}, headers=headers),
        422,
        "validation_failed",
    )
    assert_problem(
        await client.get(URL, params={"cursor": "garbage"}, headers=headers), 400, "cursor_invalid"
    )


async def test_r_jur_1_a_sibling_street_sees_none_of_them(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    org = await make_organisation(session, clock, world.g1)
    headers = auth(world.admin_s2, clock)
    assert_problem(
        await client.get(f"{URL}/{org['id']}", headers=headers), 404, "organisation_not_found"
    )
    assert (await client.get(URL, headers=headers)).json()["total"] == 0
    assert_problem(
        await client.post(URL, json=body(world.g1.id), headers=headers), 404, "org_unit_not_found"
    )


async def test_r_exp_1_export_follows_filters_and_masks_for_staff(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_organisation(session, clock, world.g1, name="导出公司")
    await make_organisation(
        session, clock, world.c1, category=OrganisationCategory.SOCIAL, name="导出协会"
    )
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    r = await client.get(
        f"{URL}/export",
        params={"format": "csv", "category": "actual_unit"},
        headers=auth(staff, clock),
    )
    assert r.status_code == 200, r.text
    rows = read_csv(r.content)
    assert [row["名称"] for row in rows] == ["导出公司"]
    assert (
        rows[0]["法人代表身份证号"] == REPRESENTATIVE_ID[:6] + "********" + REPRESENTATIVE_ID[-4:]
    )
    assert rows[0]["法人代表电话"] == "139****5678"
    full = await client.get(
        f"{URL}/export", params={"format": "csv"}, headers=auth(world.admin_d, clock)
    )
    assert {row["法人代表身份证号"] for row in read_csv(full.content)} == {REPRESENTATIVE_ID}
