"""R-PLACE-1 key places: a place in a grid holds several kinds, each with its own attention
level (normal/green, medium/yellow, severe/red) and kind-specific details; kinds are added,
re-levelled and removed with audit; places are unfollowed with reason and time; lists filter
by kind and level, mask the principal's phone (R-JUR-3) and export (R-EXP-1)."""

import csv
import io
from typing import Any

from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from domain.places import AttentionLevel, OrganisationCategory, PlaceKind
from services.models import Place, PlaceKindEntry
from services.places import KindSpec
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.places import (
    PRINCIPAL_PHONE,
    audit_actions,
    count_rows,
    licence,
    make_address,
    make_organisation,
    make_place,
    make_record,
)

URL = "/api/v1/places"


def body(grid_id: Any, *kinds: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {
        "grid_id": str(grid_id),
        "name": "天山宾馆",
        "principal": "李红",
        "phone": PRINCIPAL_PHONE,
        "kinds": list(kinds),
        **values,
    }


HOTEL = {"kind": "public_security", "level": "medium", "details": {"subtype": "旅馆"}}
FIRE = {"kind": "fire_safety", "level": "severe", "details": {"subtype": "重点单位"}}
SCHOOL = {
    "kind": "school_surroundings",
    "details": {
        "principal": "马校长",
        "nature": "公办",
        "school_type": "小学",
        "safety_officer": "王主任",
    },
}


async def test_r_place_1_a_place_holds_several_kinds_each_with_its_level(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    sent = body(
        world.g1.id,
        HOTEL,
        FIRE,
        SCHOOL,
        location={"type": "Point", "coordinates": [75.9262, 39.4213]},
    )
    r = await client.post(
        URL, json=sent, params={"crs": "gcj02"}, headers=auth(world.admin_s1, clock)
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"' and out["status"] == "followed"
    kinds = {k["kind"]: (k["level"], k["colour"]) for k in out["kinds"]}
    assert kinds == {
        "public_security": ("medium", "yellow"),
        "fire_safety": ("severe", "red"),
        "school_surroundings": ("normal", "green"),
    }
    assert (out["highest_level"], out["colour"]) == ("severe", "red")
    school = next(k for k in out["kinds"] if k["kind"] == "school_surroundings")
    assert school["details"]["safety_officer"] == "王主任"
    # GCJ-02 input is stored as WGS-84 (R-GRID-4): shifted by a few hundred metres.
    lon, lat = out["location"]["coordinates"]
    assert abs(lon - 75.92340) < 1e-4 and abs(lat - 39.42124) < 1e-4
    assert (await audit_actions(session, out["id"]))[0] == "place.create"


WORK_SAFETY: dict[str, Any] = {
    "kind": "work_safety",
    "level": "severe",
    "details": {
        "enterprise_type": "私营企业",
        "licence_no": licence(4711).lower(),
        "legal_representative": "阿不都",
        "industry": "化工",
        "hazardous_chemicals": True,
        "hazards": "储罐区未设围堰",
    },
}
OTHER: dict[str, Any] = {
    "kind": "other",
    "level": "medium",
    "details": {"subtype": "加油点", "contact": "马站长"},
}


async def test_r_place_1_every_kind_with_its_own_details_on_one_place(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """All five kinds of R-PLACE-1 — work safety (the seed's enterprise fields), public
    security, fire safety, school surroundings, other — held by one place, each with its
    level and details as sent (a licence number normalised to upper case)."""
    sent = body(world.g1.id, WORK_SAFETY, HOTEL, FIRE, SCHOOL, OTHER)
    r = await client.post(URL, json=sent, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    kinds = {k["kind"]: k for k in r.json()["kinds"]}
    assert set(kinds) == {kind.value for kind in PlaceKind}
    every: list[dict[str, Any]] = [WORK_SAFETY, HOTEL, FIRE, SCHOOL, OTHER]
    for given in every:
        shown = kinds[given["kind"]]
        assert shown["level"] == given.get("level", "normal")
        expected = dict(given["details"])
        if given is WORK_SAFETY:
            expected["licence_no"] = expected["licence_no"].upper()
        # Enterprise kinds also say whether hazardous chemicals are handled (default no).
        assert shown["details"].items() >= expected.items()
    assert kinds["public_security"]["details"]["hazardous_chemicals"] is False
    assert r.json()["colour"] == "red"


async def test_r_place_1_an_enterprise_licence_number_must_be_valid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count_rows(session, Place)
    bad = {**WORK_SAFETY, "details": {**WORK_SAFETY["details"], "licence_no": "91653101MA0000000X"}}
    problem = assert_problem(
        await client.post(URL, json=body(world.g1.id, bad), headers=auth(world.admin_s1, clock)),
        422,
        "validation_failed",
    )
    assert [(e["field"], e["message"]) for e in problem["errors"]] == [
        ("kinds.0.details.licence_no", "营业执照号码须为18位统一社会信用代码或15位注册号")
    ]
    assert await count_rows(session, Place) == before


async def test_r_place_1_kind_details_are_validated_and_nothing_half_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    places_before = await count_rows(session, Place)
    kinds_before = await count_rows(session, PlaceKindEntry)
    headers = auth(world.admin_s1, clock)
    cases = [
        ([{"kind": "public_security"}], "validation_failed", ["kinds.0.details.subtype"]),
        (
            [HOTEL, {**FIRE, "details": {"subtype": "网吧"}}],
            "validation_failed",
            ["kinds.1.details.subtype"],
        ),
        (
            [{**HOTEL, "details": {"subtype": "旅馆", "owner": "x"}}],
            "validation_failed",
            ["kinds.0.details.owner"],
        ),
        ([HOTEL, HOTEL], "place_kinds_duplicate", ["kinds"]),
        ([], "validation_failed", ["kinds"]),
        ([{**HOTEL, "level": "red"}], "validation_failed", ["kinds.0.level"]),
        ([{**HOTEL, "kind": "bank"}], "validation_failed", ["kinds.0.kind"]),
    ]
    for kinds, code, fields in cases:
        assert isinstance(kinds, list)
        problem = assert_problem(
            await client.post(URL, json=body(world.g1.id, *kinds), headers=headers), 422, code
        )
        assert [e["field"] for e in problem["errors"]] == fields, kinds
    problem = assert_problem(
        await client.post(URL, json=body(world.g1.id, HOTEL, kinds=[]), headers=headers),
        422,
        "validation_failed",
    )
    problem = assert_problem(
        await client.post(URL, json=body(world.c1.id, HOTEL), headers=headers),
        422,
        "record_needs_grid",
    )
    assert problem["detail"] == "登记信息须落到网格"
    assert await count_rows(session, Place) == places_before
    assert await count_rows(session, PlaceKindEntry) == kinds_before


async def test_r_place_1_add_relevel_and_remove_kinds_with_audit_and_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    place = await make_place(session, clock, world.g1)
    url = f"{URL}/{place['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.post(
        f"{url}/kinds",
        json={"kind": "work_safety", "level": "severe", "details": {"hazardous_chemicals": True}},
        headers={**headers, "If-Match": '"1"'},
    )
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"2"' and r.json()["highest_level"] == "severe"
    problem = assert_problem(
        await client.post(f"{url}/kinds", json={"kind": "work_safety"}, headers=headers),
        409,
        "place_kind_exists",
    )
    assert "work_safety" in problem["detail"]
    assert_problem(
        await client.patch(
            f"{url}/kinds/work_safety",
            json={"level": "normal"},
            headers={**headers, "If-Match": '"1"'},
        ),
        412,
        "precondition_failed",
    )
    r = await client.patch(
        f"{url}/kinds/work_safety", json={"level": "normal"}, headers={**headers, "If-Match": '"2"'}
    )
    assert r.status_code == 200, r.text
    levels = {k["kind"]: k["level"] for k in r.json()["kinds"]}
    assert levels == {"public_security": "medium", "work_safety": "normal"}
    assert r.json()["highest_level"] == "medium"
    assert_problem(
        await client.patch(f"{url}/kinds/other", json={"level": "severe"}, headers=headers),
        404,
        "place_kind_not_found",
    )
    assert_problem(
        await client.patch(
            f"{url}/kinds/public_security", json={"details": {"subtype": "银行"}}, headers=headers
        ),
        422,
        "validation_failed",
    )
    r = await client.delete(f"{url}/kinds/work_safety", headers=headers)
    assert r.status_code == 200 and [k["kind"] for k in r.json()["kinds"]] == ["public_security"]
    problem = assert_problem(
        await client.delete(f"{url}/kinds/public_security", headers=headers), 409, "place_last_kind"
    )
    assert "取消关注" in problem["detail"]
    actions = await audit_actions(session, place["id"])
    assert [a for a in actions if a.startswith("place.kind")] == [
        "place.kind_add",
        "place.kind_update",
        "place.kind_remove",
    ]


async def test_r_place_1_filter_by_kind_and_level_search_and_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    red_hotel = await make_place(
        session,
        clock,
        world.g1,
        name="红旗旅馆",
        kinds=[KindSpec(PlaceKind.PUBLIC_SECURITY, AttentionLevel.SEVERE, {"subtype": "旅馆"})],
    )
    school = await make_place(
        session,
        clock,
        world.g2,
        name="第一小学",
        kinds=[
            KindSpec(PlaceKind.SCHOOL_SURROUNDINGS, AttentionLevel.MEDIUM, {}),
            KindSpec(PlaceKind.FIRE_SAFETY, AttentionLevel.SEVERE, {"subtype": "重点单位"}),
        ],
    )
    market = await make_place(
        session,
        clock,
        world.g1,
        name="东门市场",
        kinds=[KindSpec(PlaceKind.FIRE_SAFETY, AttentionLevel.NORMAL, {"subtype": "市场"})],
        location=Point(75.96, 39.41),
    )
    headers = auth(world.admin_s1, clock)

    async def ids(**params: Any) -> list[str]:
        page = (await client.get(URL, params=params, headers=headers)).json()
        return [item["id"] for item in page["items"]]

    assert await ids(kind="fire_safety") == [str(market["id"]), str(school["id"])]
    assert await ids(kind="fire_safety", level="severe") == [str(school["id"])]
    assert await ids(level="severe") == [str(school["id"]), str(red_hotel["id"])]
    assert await ids(q="旅馆") == [str(red_hotel["id"])]
    assert await ids(unit_id=str(world.g2.id)) == [str(school["id"])]
    assert await ids(bbox="75.955,39.405,75.965,39.415") == [str(market["id"])]
    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()
    rest = (
        await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert first["total"] == 3 and rest["next_cursor"] is None
    assert len({i["id"] for i in first["items"] + rest["items"]}) == 3
    assert_problem(
        await client.get(URL, params={"level": "red"}, headers=headers), 422, "validation_failed"
    )


async def test_unfollow_and_refollow_with_reason_and_time(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A place that is no longer a key place is unfollowed (取消关注) with reason and time."""
    place = await make_place(session, clock, world.g1)
    url = f"{URL}/{place['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{url}/unfollow", json={"reason": "已停业"}, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_reason"]) == ("unfollowed", "已停业")
    assert r.json()["status_changed_at"] == "2026-11-23T10:00:00+08:00"
    assert_problem(
        await client.post(f"{url}/unfollow", json={"reason": "x"}, headers=headers),
        409,
        "status_transition_invalid",
    )
    listed = (await client.get(URL, params={"status": "followed"}, headers=headers)).json()
    assert str(place["id"]) not in [i["id"] for i in listed["items"]]
    r = await client.post(f"{url}/refollow", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "followed"
    assert {"place.unfollowed", "place.followed"} <= set(await audit_actions(session, place["id"]))


async def test_address_reference_fills_text_and_location(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    address = await make_address(
        session, world.g1, "喀什市人民东路18号", location=Point(75.93, 39.43)
    )
    r = await client.post(
        URL, json=body(world.g1.id, HOTEL, address_id=str(address.id)), headers=headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["address"] == "喀什市人民东路18号"
    assert r.json()["location"]["coordinates"] == [75.93, 39.43]
    gone = await make_address(session, world.g1, status="deregistered")
    problem = assert_problem(
        await client.post(
            URL, json=body(world.g1.id, HOTEL, address_id=str(gone.id)), headers=headers
        ),
        422,
        "address_inactive",
    )
    assert [e["field"] for e in problem["errors"]] == ["address_id"]
    foreign = await make_address(session, world.g3)
    assert_problem(
        await client.post(
            URL, json=body(world.g1.id, HOTEL, address_id=str(foreign.id)), headers=headers
        ),
        404,
        "address_not_found",
    )


async def test_r_jur_3_principal_phone_masked_for_a_grid_worker_and_in_exports(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    place = await make_place(session, clock, world.g1, name="导出旅馆")
    worker = auth(world.worker_g1, clock)
    masked = PRINCIPAL_PHONE[:3] + "****" + PRINCIPAL_PHONE[-4:]
    assert (await client.get(f"{URL}/{place['id']}", headers=worker)).json()["phone"] == masked
    r = await client.get(
        f"{URL}/export", params={"format": "csv", "kind": "public_security"}, headers=worker
    )
    assert r.status_code == 200, r.text
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(row["场所名称"], row["场所类型及关注等级"], row["联系电话"]) for row in rows] == [
        ("导出旅馆", "治安重点（中等）", masked)
    ]
    assert PRINCIPAL_PHONE not in r.content.decode("utf-8-sig")


async def test_update_place_with_if_match(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    place = await make_place(session, clock, world.g1)
    url = f"{URL}/{place['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.patch(
        url, json={"principal": "张经理", "location": None}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["principal"], r.json()["location"], r.json()["version"]) == ("张经理", None, 2)
    assert_problem(
        await client.patch(url, json={"name": "新名"}, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert_problem(
        await client.patch(url, json={"kinds": []}, headers=headers), 422, "validation_failed"
    )
    assert_problem(
        await client.patch(
            url, json={"location": {"type": "Point", "coordinates": [200, 0]}}, headers=headers
        ),
        422,
        "coordinate_out_of_range",
    )
    assert (await client.get(url, headers=headers)).json()["name"] == place["name"]


async def test_r_grid_2_moving_a_grids_records_takes_places_teams_and_their_rows_along(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Grid-held places, organisations and teams (GRID_BOUND_TABLES) move with their kinds,
    members and service records (LINKED_TABLES), so the target grid's worker sees them all."""
    place = await make_place(session, clock, world.g1)
    organisation = await make_organisation(session, clock, world.g1)
    social = await make_organisation(session, clock, world.c1, category=OrganisationCategory.SOCIAL)
    team, member, record = await make_record(session, clock, world)
    r = await client.post(
        f"/api/v1/grids/{world.g1.id}/move-records",
        json={"target_grid_id": str(world.g2.id)},
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 200, r.text
    assert {"places": 1, "organisations": 1, "teams": 1}.items() <= r.json()["moved"].items()
    g2_worker = auth(await make_user(session, roles=["grid_worker"], unit=world.g2), clock)
    shown = (await client.get(f"{URL}/{place['id']}", headers=g2_worker)).json()
    assert shown["grid_id"] == str(world.g2.id) and len(shown["kinds"]) == 1
    moved_org = (
        await client.get(f"/api/v1/organisations/{organisation['id']}", headers=g2_worker)
    ).json()
    assert moved_org["unit_id"] == str(world.g2.id)
    members = (await client.get(f"/api/v1/teams/{team['id']}/members", headers=g2_worker)).json()
    assert [m["id"] for m in members["items"]] == [str(member["id"])]
    assert (
        await client.get(f"/api/v1/service-records/{record['id']}", headers=g2_worker)
    ).status_code == 200
    # A community's social organisation is not a grid's record: it stays where it was.
    r = await client.get(
        f"/api/v1/organisations/{social['id']}", headers=auth(world.admin_s1, clock)
    )
    assert r.json()["unit_id"] == str(world.c1.id)
