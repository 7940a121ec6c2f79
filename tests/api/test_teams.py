"""R-TEAM-1 service teams: eight categories with sub-categories at any level; members (a
person record or a name and phone) holding several posts in several teams; service records
whose serving members all belong to one team and whose served persons are all of one
business kind; dissolution, deregistration and the delete guard."""

import csv
import io
from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from domain.registry import Status
from services.db import set_scope
from services.models import Person, ServiceRecord, StatusChange, Team, TeamMember
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.places import (
    EPOCH,
    MEMBER_PHONE,
    audit_actions,
    count_rows,
    make_member,
    make_record,
    make_tag,
    make_team,
    resident_id,
)

TEAMS = "/api/v1/teams"
MEMBERS = "/api/v1/team-members"
RECORDS = "/api/v1/service-records"


async def make_person(session: AsyncSession, world: World, name: str = "艾力") -> Person:
    await set_scope(session, SYSTEM_SCOPE)
    person = Person(
        grid_id=world.g1.id,
        path=world.g1.path,
        kind="registered",
        id_number=resident_id(42, "19850101"),
        name=name,
        phone="13711112222",
        no_house_reason="无",
        status=Status.ACTIVE.value,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(person)
    await session.flush()
    return person


def record_body(team: Any, members: list[Any], tags: list[Any]) -> dict[str, Any]:
    return {
        "team_id": str(team),
        "member_ids": [str(m) for m in members],
        "tag_ids": [str(t) for t in tags],
        "served_at": "2026-11-20T09:30:00",
        "title": "上门走访",
        "content": "送去过冬物资",
    }


async def test_r_team_1_teams_at_any_level_with_categories_and_sub_categories(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    made = {}
    for unit, category, sub in (
        (world.s1, "governance", "综治中心"),
        (world.c1, "party", "党支部"),
        (world.g1, "grid_service", None),
    ):
        sent = {
            "unit_id": str(unit.id),
            "name": f"{category}团队",
            "category": category,
            "subcategory": sub,
        }
        r = await client.post(TEAMS, json=sent, headers=headers)
        assert r.status_code == 201, r.text
        assert r.json()["unit_id"] == str(unit.id) and r.json()["subcategory"] == sub
        made[category] = r.json()["id"]
    assert (
        made["grid_service"] and (await audit_actions(session, made["party"]))[0] == "team.create"
    )
    before = await count_rows(session, Team)
    for change, field in (
        ({"subcategory": "居民委员会"}, "subcategory"),
        ({"category": "club"}, "category"),
    ):
        sent = {"unit_id": str(world.c1.id), "name": "错误", "category": "party", **change}
        problem = assert_problem(
            await client.post(TEAMS, json=sent, headers=headers), 422, "validation_failed"
        )
        assert [e["field"] for e in problem["errors"]] == [field]
    assert await count_rows(session, Team) == before
    page = (await client.get(TEAMS, params={"unit_id": str(world.c1.id)}, headers=headers)).json()
    assert sorted(i["id"] for i in page["items"]) == sorted([made["party"], made["grid_service"]])
    page = (
        await client.get(
            TEAMS, params={"category": "governance", "q": "governance"}, headers=headers
        )
    ).json()
    assert [i["id"] for i in page["items"]] == [made["governance"]]
    assert (await client.get(TEAMS, headers=auth(world.admin_s2, clock))).json()["total"] == 0


async def test_r_team_1_members_hold_several_posts_in_several_teams(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    person = await make_person(session, world)
    party = await make_team(session, clock, world.c1, name="党支部")
    volunteers = await make_team(session, clock, world.g1, name="志愿队")
    headers = auth(world.admin_s1, clock)
    for team, posts in ((party, ["书记", "宣传委员"]), (volunteers, ["队长"])):
        r = await client.post(
            f"{TEAMS}/{team['id']}/members",
            json={"person_id": str(person.id), "posts": posts},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        assert (r.json()["name"], r.json()["posts"], r.json()["person_id"]) == (
            "艾力",
            posts,
            str(person.id),
        )
        assert r.headers["location"] == f"{MEMBERS}/{r.json()['id']}"
    before = await count_rows(session, TeamMember)
    again = await client.post(
        f"{TEAMS}/{party['id']}/members",
        json={"person_id": str(person.id), "posts": ["委员"]},
        headers=headers,
    )
    problem = assert_problem(again, 409, "member_already_in_team")
    assert problem["detail"] == "该人员已是本团队的在职成员"
    problem = assert_problem(
        await client.post(
            f"{TEAMS}/{party['id']}/members", json={"posts": ["委员"]}, headers=headers
        ),
        422,
        "member_identity_required",
    )
    assert [e["field"] for e in problem["errors"]] == ["name"]
    assert_problem(
        await client.post(
            f"{TEAMS}/{party['id']}/members", json={"name": "甲", "posts": []}, headers=headers
        ),
        422,
        "validation_failed",
    )
    stranger = await client.post(
        f"{TEAMS}/{party['id']}/members",
        json={"person_id": str(party["id"]), "posts": ["委员"]},
        headers=headers,
    )
    assert_problem(stranger, 404, "person_not_found")
    assert await count_rows(session, TeamMember) == before
    r = await client.post(
        f"{TEAMS}/{party['id']}/members",
        json={"name": "古丽", "phone": "13500001111", "posts": ["组织委员"]},
        headers=headers,
    )
    assert r.status_code == 201 and r.json()["person_id"] is None
    members = (
        await client.get(f"{TEAMS}/{party['id']}/members", params={"post": "书记"}, headers=headers)
    ).json()
    assert [m["name"] for m in members["items"]] == ["艾力"]
    members = (
        await client.get(f"{TEAMS}/{party['id']}/members", params={"q": "古"}, headers=headers)
    ).json()
    assert [m["name"] for m in members["items"]] == ["古丽"]


async def test_r_team_1_a_record_needs_members_of_one_team_and_persons_of_one_kind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team = await make_team(session, clock, world.g1)
    other = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"], name="甲")
    outsider = await make_member(session, clock, other["id"], name="乙")
    elderly = await make_tag(session, world.g1, kind="elderly", serial=1)
    disabled = await make_tag(session, world.g1, kind="disabled", serial=2)
    before = await count_rows(session, ServiceRecord)
    headers = auth(world.admin_s1, clock)
    cases = [
        (
            [member["id"], outsider["id"]],
            [elderly.id],
            "service_members_one_team",
            "同一个服务团队",
        ),
        ([member["id"]], [elderly.id, disabled.id], "service_targets_one_kind", "同一类人员"),
    ]
    for members, tags, code, message in cases:
        problem = assert_problem(
            await client.post(
                RECORDS, json=record_body(team["id"], members, tags), headers=headers
            ),
            422,
            code,
        )
        assert message in problem["detail"]
    assert_problem(
        await client.post(
            RECORDS, json=record_body(team["id"], [member["id"]], [team["id"]]), headers=headers
        ),
        404,
        "tag_not_found",
    )
    assert await count_rows(session, ServiceRecord) == before
    r = await client.post(
        RECORDS, json=record_body(team["id"], [member["id"]], [elderly.id]), headers=headers
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["business_kind"], out["team_name"]) == ("elderly", team["name"])
    assert out["served_at"] == "2026-11-20T09:30:00+08:00"
    assert r.headers["location"] == f"{RECORDS}/{out['id']}"
    assert await audit_actions(session, out["id"]) == ["service_record.create"]


async def test_r_team_1_a_deregistered_member_cannot_serve_on_new_records(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"])
    tag = await make_tag(session, world.g1)
    headers = auth(world.admin_s1, clock)
    r = await client.post(
        f"{MEMBERS}/{member['id']}/deregister", json={"reason": "调离"}, headers=headers
    )
    assert r.status_code == 200 and r.json()["status"] == "deregistered"
    problem = assert_problem(
        await client.post(
            RECORDS, json=record_body(team["id"], [member["id"]], [tag.id]), headers=headers
        ),
        422,
        "service_member_deregistered",
    )
    assert problem["detail"] == "已注销的成员不能添加服务记录"
    r = await client.post(f"{MEMBERS}/{member['id']}/restore", headers=headers)
    assert r.status_code == 200, r.text
    assert (
        await client.post(
            RECORDS, json=record_body(team["id"], [member["id"]], [tag.id]), headers=headers
        )
    ).status_code == 201


async def test_r_team_1_dissolving_detaches_members_and_keeps_records_readable(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team, member, record = await make_record(session, clock, world)
    second = await make_member(session, clock, team["id"], name="第二人")
    headers = auth(world.admin_s1, clock)
    url = f"{TEAMS}/{team['id']}"
    assert_problem(
        await client.post(
            f"{url}/dissolve", json={"reason": "换届"}, headers={**headers, "If-Match": '"7"'}
        ),
        412,
        "precondition_failed",
    )
    r = await client.post(f"{url}/dissolve", json={"reason": "换届"}, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["status_reason"]) == ("deregistered", "换届")
    members = (await client.get(f"{url}/members", headers=headers)).json()
    assert {(m["name"], m["status"], m["status_reason"]) for m in members["items"]} == {
        (member["name"], "deregistered", "团队解散：换届"),
        ("第二人", "deregistered", "团队解散：换届"),
    }
    await set_scope(session, SYSTEM_SCOPE)
    detached = await session.scalar(
        select(StatusChange.reason).where(StatusChange.target_id == second["id"])
    )
    assert detached == "团队解散：换届"
    # The records stay readable, by id and in the team's list.
    assert (await client.get(f"{RECORDS}/{record['id']}", headers=headers)).status_code == 200
    listed = (
        await client.get(RECORDS, params={"team_id": str(team["id"])}, headers=headers)
    ).json()
    assert [i["id"] for i in listed["items"]] == [str(record["id"])]
    # A dissolved team takes no members and no records; its members can't come back.
    assert_problem(
        await client.post(
            f"{url}/members", json={"name": "新人", "posts": ["队员"]}, headers=headers
        ),
        409,
        "team_dissolved",
    )
    tag = await make_tag(session, world.g1, serial=9)
    assert_problem(
        await client.post(
            RECORDS, json=record_body(team["id"], [member["id"]], [tag.id]), headers=headers
        ),
        409,
        "team_dissolved",
    )
    assert_problem(
        await client.post(f"{MEMBERS}/{member['id']}/restore", headers=headers),
        409,
        "team_dissolved",
    )
    r = await client.post(f"{url}/restore", json={"reason": "重建"}, headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert "team.deregistered" in await audit_actions(session, team["id"])


async def test_r_team_1_deleting_a_member_with_records_is_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team, member, _ = await make_record(session, clock, world)
    idle = await make_member(session, clock, team["id"], name="无记录")
    headers = auth(world.admin_s1, clock)
    problem = assert_problem(
        await client.delete(f"{MEMBERS}/{member['id']}", headers=headers), 409, "member_has_records"
    )
    assert "注销" in problem["detail"]
    assert (await client.get(f"{MEMBERS}/{member['id']}", headers=headers)).status_code == 200
    assert_problem(
        await client.delete(f"{MEMBERS}/{idle['id']}", headers={**headers, "If-Match": '"5"'}),
        412,
        "precondition_failed",
    )
    r = await client.delete(
        f"{MEMBERS}/{idle['id']}", params={"reason": "录入错误"}, headers=headers
    )
    assert r.status_code == 204, r.text
    assert_problem(
        await client.get(f"{MEMBERS}/{idle['id']}", headers=headers), 404, "team_member_not_found"
    )
    assert (await audit_actions(session, idle["id"]))[-1] == "team_member.delete"


async def test_member_update_if_match_and_phone_masking(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"])
    url = f"{MEMBERS}/{member['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.patch(
        url, json={"posts": ["队长", "联络员"]}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["posts"] == ["队长", "联络员"]
    assert_problem(
        await client.patch(url, json={"posts": ["队员"]}, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert_problem(
        await client.patch(url, json={"posts": None}, headers=headers), 422, "validation_failed"
    )
    worker = auth(world.worker_g1, clock)
    masked = MEMBER_PHONE[:3] + "****" + MEMBER_PHONE[-4:]
    assert (await client.get(url, headers=worker)).json()["phone"] == masked
    listed = await client.get(f"{TEAMS}/{team['id']}/members", headers=worker)
    assert [m["phone"] for m in listed.json()["items"]] == [masked]
    exported = await client.get(
        f"{TEAMS}/{team['id']}/members/export", params={"format": "csv"}, headers=worker
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["姓名"], row["职务"], row["联系电话"]) for row in rows] == [
        (member["name"], "队长、联络员", masked)
    ]


async def test_records_newest_first_with_filters_and_export(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    team = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"])
    tag = await make_tag(session, world.g1)
    headers = auth(world.admin_s1, clock)
    made = []
    for day in range(3):
        sent = {
            **record_body(team["id"], [member["id"]], [tag.id]),
            "served_at": (EPOCH + timedelta(days=day)).isoformat(),
            "title": f"走访{day}",
        }
        made.append((await client.post(RECORDS, json=sent, headers=headers)).json()["id"])
    page = (
        await client.get(
            RECORDS, params={"limit": 2, "member_id": str(member["id"])}, headers=headers
        )
    ).json()
    assert page["total"] == 3 and [i["id"] for i in page["items"]] == [made[2], made[1]]
    page = (
        await client.get(
            RECORDS,
            params={"limit": 2, "member_id": str(member["id"]), "cursor": page["next_cursor"]},
            headers=headers,
        )
    ).json()
    assert [i["id"] for i in page["items"]] == [made[0]] and page["next_cursor"] is None
    assert [
        i["id"]
        for i in (await client.get(RECORDS, params={"q": "走访1"}, headers=headers)).json()["items"]
    ] == [made[1]]
    assert (
        await client.get(
            RECORDS, params={"tag_id": str(tag.id), "business_kind": "elderly"}, headers=headers
        )
    ).json()["total"] == 3
    assert (
        await client.get(RECORDS, params={"served_from": "2026-01-02T00:00:00Z"}, headers=headers)
    ).json()["total"] == 2
    # Without an offset a bound is business time (+08:00): 08:00 there is 00:00 UTC.
    for since, total in (("2026-01-02T08:00:00", 2), ("2026-01-02T08:00:01", 1)):
        page = await client.get(RECORDS, params={"served_from": since}, headers=headers)
        assert page.json()["total"] == total, since
    assert_problem(
        await client.get(RECORDS, params={"cursor": "bm9wZQ"}, headers=headers),
        400,
        "cursor_invalid",
    )
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    exported = await client.get(
        f"{RECORDS}/export",
        params={"format": "csv", "team_id": str(team["id"])},
        headers=auth(staff, clock),
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["服务事项"], row["服务成员数"]) for row in rows] == [
        ("走访2", "1"),
        ("走访1", "1"),
        ("走访0", "1"),
    ]
