"""Households (R-HH-1) and families (R-HH-2) over the API: one implementation serving both —
numbers unique among active groups, members from the group's grid (households: active
registered persons; families: any kind), one group of a kind per person, head changes,
renumbering, deletion only when empty; masking (R-JUR-3), jurisdiction (R-JUR-1), audit
(R-AUD-1), lists and exports (R-EXP-1)."""

import csv
import io
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.people import Kind
from services.db import set_scope
from services.households import FAMILIES, HOUSEHOLDS, GroupKind
from services.models import AuditEntry, FamilyMember, HouseholdMember
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.people import GROUP_PATHS, add_member, make_group, make_person

KINDS = [HOUSEHOLDS, FAMILIES]


def url(kind: GroupKind, *parts: Any) -> str:
    return "/".join([f"/api/v1/{GROUP_PATHS[kind]}", *(str(p) for p in parts)])


def by_kind(test: Any) -> Any:
    return pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.target_type)(test)


async def count(session: AsyncSession, model: type[Any]) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def links(session: AsyncSession) -> tuple[int, int, int]:
    return (
        await count(session, HouseholdMember),
        await count(session, FamilyMember),
        await count(session, AuditEntry),
    )


async def actions(session: AsyncSession, target_id: Any) -> list[tuple[str, Any, Any]]:
    await set_scope(session, "*")
    rows = await session.execute(
        select(AuditEntry.action, AuditEntry.before, AuditEntry.after)
        .where(AuditEntry.target_id == str(target_id), AuditEntry.action.not_like("pii.%"))
        .order_by(AuditEntry.id)
    )
    return [tuple(row) for row in rows]


@by_kind
async def test_r_hh_create_with_a_head_and_a_unique_number(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_s1, clock)
    head = await make_person(session, clock, world.g1, name="艾山·买买提")
    sent = {
        "grid_id": str(world.g1.id),
        kind.number_field: "650001",
        "head_person_id": str(head["id"]),
        "address": "喀什市人民路8号",
    }
    r = await client.post(url(kind), json=sent, headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == url(kind, out["id"])
    assert out[kind.number_field] == "650001" and "number" not in out
    assert (out["head_person_id"], out["head_name"]) == (str(head["id"]), "艾山·买买提")
    assert out["member_count"] == 1
    assert [(m["person_id"], m["relation"]) for m in out["members"]] == [(str(head["id"]), "head")]
    [(action, _, after)] = await actions(session, out["id"])
    assert action == f"{kind.target_type}.create"
    assert after == {
        kind.number_field: "650001",
        "head_person_id": str(head["id"]),
        "address": "喀什市人民路8号",
    }

    elsewhere = await make_person(session, clock, world.g2)
    before = await links(session)
    r = await client.post(url(kind), json={**sent, "head_person_id": None}, headers=headers)
    problem = assert_problem(r, 409, f"{kind.number_field}_taken")
    assert "650001" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == [kind.number_field]
    bad: list[tuple[dict[str, Any], int, str]] = [
        ({kind.number_field: "65 0002"}, 422, "validation_failed"),
        ({"number": "650002"}, 422, "validation_failed"),
        (
            {kind.number_field: "650002", "head_person_id": str(elsewhere["id"])},
            422,
            "member_other_grid",
        ),
        ({kind.number_field: "650002", "grid_id": str(world.c1.id)}, 422, "record_needs_grid"),
    ]
    for over, status, code in bad:
        r = await client.post(url(kind), json={**sent, **over}, headers=headers)
        assert_problem(r, status, code)
    assert await links(session) == before


async def test_r_hh_numbers_are_per_kind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A family may carry the number of a household: each kind numbers its own groups."""
    await make_group(session, clock, HOUSEHOLDS, world.g1, number="777")
    r = await client.post(
        url(FAMILIES),
        json={"grid_id": str(world.g1.id), "family_no": "777"},
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text


async def test_r_hh_1_household_members_are_active_registered_persons_of_its_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    household = await make_group(session, clock, HOUSEHOLDS, world.g1)
    members = url(HOUSEHOLDS, household["id"], "members")
    resident = await make_person(session, clock, world.g1)
    r = await client.post(
        members, json={"person_id": str(resident["id"]), "relation": "spouse"}, headers=headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["member_count"] == 1 and r.headers["etag"] == '"2"'

    floating = await make_person(session, clock, world.g1, kind=Kind.FLOATING)
    elsewhere = await make_person(session, clock, world.g2)
    gone = await make_person(session, clock, world.g1)
    await client.post(
        f"/api/v1/people/{gone['id']}/deregister", json={"reason": "死亡"}, headers=headers
    )
    other = await make_group(session, clock, HOUSEHOLDS, world.g1)
    before = await links(session)
    cases: list[tuple[str, Any, str, int, str]] = [
        (members, floating["id"], "child", 422, "member_not_registered"),
        (members, elsewhere["id"], "child", 422, "member_other_grid"),
        (members, gone["id"], "child", 422, "member_not_active"),
        (members, resident["id"], "child", 409, "already_in_household"),
        (
            url(HOUSEHOLDS, other["id"], "members"),
            resident["id"],
            "child",
            409,
            "already_in_household",
        ),
        (members, floating["id"], "head", 422, "relation_head_reserved"),
        (members, floating["id"], "cousin", 422, "validation_failed"),
    ]
    for path, person_id, relation, status, code in cases:
        r = await client.post(
            path, json={"person_id": str(person_id), "relation": relation}, headers=headers
        )
        problem = assert_problem(r, status, code)
        if code != "validation_failed":
            assert [e["field"] for e in problem["errors"]] in (["person_id"], ["relation"])
    assert await links(session) == before
    stale = {**headers, "If-Match": '"1"'}
    r = await client.post(
        members, json={"person_id": str(floating["id"]), "relation": "child"}, headers=stale
    )
    assert_problem(r, 412, "precondition_failed")


async def test_r_hh_2_families_take_any_kind_and_one_family_per_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    family = await make_group(session, clock, FAMILIES, world.g1)
    people = [await make_person(session, clock, world.g1, kind=kind) for kind in Kind]
    for person in people:
        r = await client.post(
            url(FAMILIES, family["id"], "members"),
            json={"person_id": str(person["id"]), "relation": "other"},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["member_count"] == len(Kind)
    assert {m["kind"] for m in r.json()["members"]} == {k.value for k in Kind}
    # A registered person is in a household and a family at once; in two families never.
    household = await make_group(session, clock, HOUSEHOLDS, world.g1)
    await add_member(session, clock, HOUSEHOLDS, household["id"], people[0]["id"])
    other = await make_group(session, clock, FAMILIES, world.g1)
    r = await client.post(
        url(FAMILIES, other["id"], "members"),
        json={"person_id": str(people[1]["id"]), "relation": "other"},
        headers=headers,
    )
    assert_problem(r, 409, "already_in_family")


async def group_of_two(
    session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A group whose head is A, with B as spouse."""
    a = await make_person(session, clock, world.g1, name="阿卜杜")
    b = await make_person(session, clock, world.g1, name="布合力其")
    group = await make_group(session, clock, kind, world.g1, head_person_id=a["id"])
    await add_member(session, clock, kind, group["id"], b["id"])
    return group, a, b


@by_kind
async def test_r_hh_remove_members_the_head_last(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_s1, clock)
    group, a, b = await group_of_two(session, world, clock, kind)
    stranger = await make_person(session, clock, world.g1)
    r = await client.delete(url(kind, group["id"], "members", stranger["id"]), headers=headers)
    assert_problem(r, 404, "member_not_found")
    r = await client.delete(url(kind, group["id"], "members", a["id"]), headers=headers)
    assert_problem(r, 409, "head_must_change_first")
    r = await client.delete(url(kind, group["id"], "members", b["id"]), headers=headers)
    assert r.status_code == 200, r.text
    assert [m["person_id"] for m in r.json()["members"]] == [str(a["id"])]
    r = await client.delete(url(kind, group["id"], "members", a["id"]), headers=headers)
    assert (r.json()["member_count"], r.json()["head_person_id"]) == (0, None)
    removed = [entry for entry in await actions(session, group["id"]) if "remove" in entry[0]]
    assert [before["person_id"] for _, before, _ in removed] == [str(b["id"]), str(a["id"])]


@by_kind
async def test_r_hh_change_the_head(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_s1, clock)
    group, a, b = await group_of_two(session, world, clock, kind)
    head = url(kind, group["id"], "head")
    stranger = await make_person(session, clock, world.g1)
    r = await client.post(head, json={"person_id": str(stranger["id"])}, headers=headers)
    assert_problem(r, 422, "head_not_member")
    r = await client.post(
        head, json={"person_id": str(b["id"]), "former_head_relation": "head"}, headers=headers
    )
    assert_problem(r, 422, "relation_head_reserved")
    etag = (await client.get(url(kind, group["id"]), headers=headers)).headers["etag"]
    r = await client.post(
        head,
        json={"person_id": str(b["id"]), "former_head_relation": "spouse"},
        headers={**headers, "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["head_person_id"], out["head_name"]) == (str(b["id"]), "布合力其")
    assert [(m["person_id"], m["relation"]) for m in out["members"]] == [
        (str(b["id"]), "head"),
        (str(a["id"]), "spouse"),
    ]
    stale = await client.post(
        head, json={"person_id": str(a["id"])}, headers={**headers, "If-Match": etag}
    )
    assert_problem(stale, 412, "precondition_failed")
    [(_, before, after)] = [e for e in await actions(session, group["id"]) if "head" in e[0]]
    assert (before, after) == ({"head_person_id": str(a["id"])}, {"head_person_id": str(b["id"])})


@by_kind
async def test_r_hh_renumber(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_s1, clock)
    group = await make_group(session, clock, kind, world.g1, number="100")
    await make_group(session, clock, kind, world.g2, number="200")
    renumber = url(kind, group["id"], "renumber")
    r = await client.post(renumber, json={kind.number_field: "200"}, headers=headers)
    assert_problem(r, 409, f"{kind.number_field}_taken")
    r = await client.post(renumber, json={"number": "300"}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    r = await client.post(
        renumber, json={kind.number_field: "300"}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert (r.json()[kind.number_field], r.headers["etag"]) == ("300", '"2"')
    r = await client.post(
        renumber, json={kind.number_field: "400"}, headers={**headers, "If-Match": '"1"'}
    )
    assert_problem(r, 412, "precondition_failed")
    assert (
        f"{kind.target_type}.renumber",
        {kind.number_field: "100"},
        {kind.number_field: "300"},
    ) in await actions(session, group["id"])


@by_kind
async def test_r_hh_delete_only_when_empty(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_s1, clock)
    member = await make_person(session, clock, world.g1)
    group = await make_group(
        session, clock, kind, world.g1, head_person_id=member["id"], number="555"
    )
    item = url(kind, group["id"])
    assert_problem(await client.delete(item, headers=headers), 409, kind.not_empty)
    await client.delete(url(kind, group["id"], "members", member["id"]), headers=headers)
    assert_problem(
        await client.delete(item, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    r = await client.delete(item, params={"reason": "户口迁出"}, headers=headers)
    assert r.status_code == 204, r.text
    shown = (await client.get(item, headers=headers)).json()
    assert (shown["status"], shown["status_reason"]) == ("deregistered", "户口迁出")
    r = await client.post(item + "/renumber", json={kind.number_field: "556"}, headers=headers)
    assert_problem(r, 409, "record_deregistered")
    # The number is free again.
    reused = await client.post(
        url(kind), json={"grid_id": str(world.g1.id), kind.number_field: "555"}, headers=headers
    )
    assert reused.status_code == 201, reused.text


async def test_r_hh_1_a_deregistered_person_leaves_household_and_family(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    household, head, spouse = await group_of_two(session, world, clock, HOUSEHOLDS)
    family = await make_group(session, clock, FAMILIES, world.g1, head_person_id=head["id"])
    r = await client.post(
        f"/api/v1/people/{head['id']}/deregister", json={"reason": "死亡"}, headers=headers
    )
    assert r.status_code == 200, r.text
    shown = (await client.get(url(HOUSEHOLDS, household["id"]), headers=headers)).json()
    assert (shown["head_person_id"], shown["member_count"]) == (None, 1)
    assert [m["person_id"] for m in shown["members"]] == [str(spouse["id"])]
    shown = (await client.get(url(FAMILIES, family["id"]), headers=headers)).json()
    assert (shown["head_person_id"], shown["member_count"]) == (None, 0)
    await set_scope(session, "*")
    reasons = await session.scalars(
        select(AuditEntry.reason).where(
            AuditEntry.target_id.in_([str(household["id"]), str(family["id"])]),
            AuditEntry.action.like("%.member_remove"),
        )
    )
    assert list(reasons) == ["死亡", "死亡"]


async def test_r_pop_4_settling_keeps_the_family(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    unsettled = await make_person(session, clock, world.g1, kind=Kind.UNSETTLED)
    family = await make_group(session, clock, FAMILIES, world.g1, head_person_id=unsettled["id"])
    r = await client.post(f"/api/v1/people/{unsettled['id']}/settle", headers=headers)
    assert r.status_code == 201, r.text
    settled = r.json()["id"]
    shown = (await client.get(url(FAMILIES, family["id"]), headers=headers)).json()
    assert shown["head_person_id"] == settled
    assert [(m["person_id"], m["relation"], m["kind"]) for m in shown["members"]] == [
        (settled, "head", "registered")
    ]


async def test_r_jur_3_groups_are_masked_for_a_grid_worker(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    group, a, b = await group_of_two(session, world, clock, HOUSEHOLDS)
    r = await client.get(url(HOUSEHOLDS, group["id"]), headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["head_name"], out["address"]) == ("阿**", "喀什市人民路**")
    assert [m["name"] for m in out["members"]] == ["阿**", "布***"]
    for member, person in zip(out["members"], (a, b), strict=True):
        assert member["id_number"] == person["id_number"][:6] + "*" * 8 + person["id_number"][-4:]
    listed = await client.get(url(HOUSEHOLDS), headers=auth(world.worker_g1, clock))
    assert [g["head_name"] for g in listed.json()["items"]] == ["阿**"]

    r = await client.get(url(HOUSEHOLDS, group["id"]), headers=auth(world.admin_d, clock))
    assert [m["id_number"] for m in r.json()["members"]] == [a["id_number"], b["id_number"]]
    await set_scope(session, "*")
    reads = await session.execute(
        select(AuditEntry.target_type, AuditEntry.after).where(
            AuditEntry.action == "pii.read", AuditEntry.actor_id == world.admin_d.id
        )
    )
    assert {(t, tuple(after["ids"])) for t, after in reads} == {
        ("household", (str(group["id"]),)),
        ("person", (str(a["id"]), str(b["id"]))),
    }


async def test_r_jur_1_groups_of_a_sibling_street_do_not_exist(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    group, _, b = await group_of_two(session, world, clock, HOUSEHOLDS)
    s2 = auth(world.admin_s2, clock)
    before = await links(session)
    for method, path, json in (
        ("GET", url(HOUSEHOLDS, group["id"]), None),
        ("DELETE", url(HOUSEHOLDS, group["id"]), None),
        ("POST", url(HOUSEHOLDS, group["id"], "renumber"), {"household_no": "1"}),
        ("POST", url(HOUSEHOLDS, group["id"], "head"), {"person_id": str(b["id"])}),
        ("DELETE", url(HOUSEHOLDS, group["id"], "members", b["id"]), None),
    ):
        r = await client.request(method, path, json=json, headers=s2)
        assert_problem(r, 404, "household_not_found")
    r = await client.post(
        url(HOUSEHOLDS), json={"grid_id": str(world.g1.id), "household_no": "9"}, headers=s2
    )
    assert_problem(r, 404, "org_unit_not_found")
    assert (await client.get(url(HOUSEHOLDS), headers=s2)).json()["total"] == 0
    assert await links(session) == before


@by_kind
async def test_r_hh_lists_filter_search_page_and_export(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, kind: GroupKind
) -> None:
    headers = auth(world.admin_d, clock)
    made = [
        await make_group(session, clock, kind, grid, number=number)
        for grid, number in (
            (world.g1, "A-001"),
            (world.g1, "A-002"),
            (world.g2, "B-001"),
            (world.g3, "C-001"),
        )
    ]
    await client.delete(url(kind, made[1]["id"]), headers=headers)

    async def numbers(**params: Any) -> list[str]:
        r = await client.get(url(kind), params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [g[kind.number_field] for g in r.json()["items"]]

    assert await numbers() == ["A-001", "A-002", "B-001", "C-001"]
    assert await numbers(unit_id=str(world.c1.id)) == ["A-001", "A-002", "B-001"]
    assert await numbers(status="active", q="a-") == ["A-001"]
    assert await numbers(q="人民路") == ["A-001", "A-002", "B-001", "C-001"]
    page = (await client.get(url(kind), params={"limit": 3}, headers=headers)).json()
    assert page["total"] == 4 and len(page["items"]) == 3
    rest = await numbers(limit=3, cursor=page["next_cursor"])
    assert rest == ["C-001"]
    exported = await client.get(
        url(kind, "export"), params={"format": "csv", "unit_id": str(world.g2.id)}, headers=headers
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    header = "户号" if kind == HOUSEHOLDS else "家庭编号"
    assert [(row[header], row["成员数"]) for row in rows] == [("B-001", "0")]
