"""Business tags over the API (SPEC §3.2): kinds with validated details (R-KEY-1, R-CARE-1),
age and gender rules, uniqueness among followed tags, follow / unfollow / refollow with
history, linkage to the actual population (R-LINK-1), masking for grid workers (R-JUR-3),
audit (R-AUD-1), jurisdiction (R-JUR-1), lists and exports (R-EXP-1)."""

import csv
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.tags import TagKind
from services.db import set_scope
from services.lifecycle import run_lifecycle
from services.models import AuditEntry, Person, PersonTag, StatusChange
from tests.conftest import MovableClock
from tests.domain.test_tags import VALID_DETAILS
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.tags import (
    CORRECTION_DETAILS,
    GUARDIAN_PHONE,
    MENTAL_DETAILS,
    RELEASED_DETAILS,
    make_person,
    make_tag,
    resident_id,
)

TAGS = "/api/v1/tags"
ADULT = date(1980, 6, 1)


async def count(session: AsyncSession, model: type[Any]) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        await count(session, PersonTag),
        await count(session, Person),
        await count(session, AuditEntry),
    )


def tag_body(world: World, kind: TagKind = TagKind.MENTAL_PATIENT, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "grid_id": str(world.g1.id),
        "kind": kind.value,
        "id_number": resident_id(ADULT),
        "name": "张伟",
        "details": VALID_DETAILS[kind],
    }
    return {**body, **over}


async def set_link_mode(client: AsyncClient, world: World, clock: MovableClock, mode: int) -> None:
    r = await client.put(
        "/api/v1/settings/tag_link_mode", json={"value": mode}, headers=auth(world.admin_d, clock)
    )
    assert r.status_code == 200, r.text


async def actions(session: AsyncSession, target_id: object) -> list[str]:
    await set_scope(session, "*")
    rows = await session.execute(
        select(AuditEntry.action)
        .where(AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)
    )
    return list(rows.scalars())


@pytest.mark.parametrize("kind", list(TagKind), ids=str)
async def test_r_key_1_r_care_1_every_kind_is_added_with_its_details(
    client: AsyncClient, world: World, clock: MovableClock, kind: TagKind
) -> None:
    born, female = {
        TagKind.KEY_YOUTH: (date(2008, 1, 1), False),
        TagKind.CHILDBEARING_WOMAN: (date(1995, 1, 1), True),
        TagKind.ELDERLY: (date(1950, 1, 1), False),
    }.get(kind, (ADULT, False))
    body = tag_body(world, kind, id_number=resident_id(born, female=female))
    r = await client.post(TAGS, json=body, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["etag"] == '"1"'
    assert r.headers["location"] == f"{TAGS}/{out['id']}"
    assert (out["kind"], out["status"], out["automatic"]) == (kind.value, "followed", False)
    assert out["id_number"] == body["id_number"]  # the admin holds pii:read
    for key, value in VALID_DETAILS[kind].items():
        assert out["details"][key] == value
    assert out["kind_label"]


async def test_r_key_1_invalid_details_are_422_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    before = await counts(session)
    cases = [
        ({**MENTAL_DETAILS, "diagnosis": "x"}, "details.diagnosis"),
        ({**MENTAL_DETAILS, "risk_level": 9}, "details.risk_level"),
        (
            {k: v for k, v in MENTAL_DETAILS.items() if k != "guardian_name"},
            "details.guardian_name",
        ),
    ]
    for details, field in cases:
        r = await client.post(TAGS, json=tag_body(world, details=details), headers=headers)
        problem = assert_problem(r, 422, "tag_details_invalid")
        assert field in [e["field"] for e in problem["errors"]]
        assert problem["detail"] == "业务人员明细信息校验未通过"
    correction = {**VALID_DETAILS[TagKind.COMMUNITY_CORRECTION], "end_date": "2024-12-31"}
    r = await client.post(
        TAGS,
        json=tag_body(world, TagKind.COMMUNITY_CORRECTION, details=correction),
        headers=headers,
    )
    problem = assert_problem(r, 422, "tag_details_invalid")
    assert problem["errors"][0] == {
        "field": "details.end_date",
        "message": "结束日期须晚于开始日期",
    }
    r = await client.post(TAGS, json={**tag_body(world), "kind": "celebrity"}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    r = await client.post(TAGS, json={**tag_body(world), "status": "x"}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    assert await counts(session) == before


@pytest.mark.parametrize(
    ("kind", "born", "female", "code"),
    [
        (TagKind.KEY_YOUTH, date(2020, 11, 24), False, "tag_age_out_of_range"),  # 5
        (TagKind.KEY_YOUTH, date(2020, 11, 23), False, None),  # 6 today
        (TagKind.KEY_YOUTH, date(2000, 11, 24), False, None),  # 25
        (TagKind.KEY_YOUTH, date(2000, 11, 23), False, "tag_age_out_of_range"),  # 26 today
        (TagKind.CHILDBEARING_WOMAN, date(1990, 1, 1), False, "tag_gender_mismatch"),
        (TagKind.CHILDBEARING_WOMAN, date(2011, 11, 24), True, "tag_age_out_of_range"),  # 14
        (TagKind.CHILDBEARING_WOMAN, date(2011, 11, 23), True, None),  # 15 today
        (TagKind.CHILDBEARING_WOMAN, date(1976, 11, 24), True, None),  # 49
        (TagKind.CHILDBEARING_WOMAN, date(1976, 11, 23), True, "tag_age_out_of_range"),  # 50
        (TagKind.ELDERLY, date(1966, 11, 24), False, "tag_age_out_of_range"),  # 59
        (TagKind.ELDERLY, date(1966, 11, 23), False, None),  # 60 today
    ],
)
async def test_r_key_1_r_care_1_age_and_gender_from_the_id_number(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    kind: TagKind,
    born: date,
    female: bool,
    code: str | None,
) -> None:
    """Key youth 6–25 inclusive, women of child-bearing age 15–49, elderly 60+, on the tag
    date (the clock says 2026-11-23)."""
    before = await counts(session)
    body = tag_body(world, kind, id_number=resident_id(born, female=female))
    r = await client.post(TAGS, json=body, headers=auth(world.admin_s1, clock))
    if code is None:
        assert r.status_code == 201, r.text
        return
    problem = assert_problem(r, 422, code)
    assert [e["field"] for e in problem["errors"]] == ["id_number"]
    assert KINDS_LABEL[kind] in problem["detail"]
    assert await counts(session) == before


KINDS_LABEL = {
    TagKind.KEY_YOUTH: "重点青少年",
    TagKind.CHILDBEARING_WOMAN: "育龄妇女",
    TagKind.ELDERLY: "老年人",
}


async def test_r_key_2_a_tag_past_its_period_is_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Released 5 years ago today: the daily run would unfollow it at once."""
    details = {**VALID_DETAILS[TagKind.RELEASED_PRISONER], "release_date": "2021-11-23"}
    r = await client.post(
        TAGS,
        json=tag_body(world, TagKind.RELEASED_PRISONER, details=details),
        headers=auth(world.admin_s1, clock),
    )
    problem = assert_problem(r, 422, "tag_period_ended")
    assert problem["errors"][0]["field"] == "details.release_date"
    details["release_date"] = "2021-11-24"
    r = await client.post(
        TAGS,
        json=tag_body(world, TagKind.RELEASED_PRISONER, details=details),
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text


async def test_id_numbers_are_validated_and_normalised(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    number = resident_id(date(1990, 5, 6), female=True)
    before = await counts(session)
    broken = number[:-1] + ("0" if number[-1] != "0" else "1")
    r = await client.post(TAGS, json=tag_body(world, id_number=broken), headers=headers)
    problem = assert_problem(r, 422, "id_number_invalid")
    assert [e["field"] for e in problem["errors"]] == ["id_number"]
    assert await counts(session) == before
    r = await client.post(TAGS, json=tag_body(world, id_number=number.lower()), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == number


async def test_duplicate_followed_tag_is_409_but_other_kinds_and_grids_are_fine(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """SPEC §3.2: several tags per person; one followed tag per (grid, kind, ID number)."""
    headers = auth(world.admin_s1, clock)
    body = tag_body(world)
    first = await client.post(TAGS, json=body, headers=headers)
    assert first.status_code == 201, first.text
    before = await counts(session)
    r = await client.post(TAGS, json=body, headers=headers)
    problem = assert_problem(r, 409, "duplicate_active_record")
    assert [e["field"] for e in problem["errors"]] == ["id_number"]
    assert await counts(session) == before
    drug = tag_body(world, TagKind.DRUG_USER, id_number=body["id_number"])
    r = await client.post(TAGS, json=drug, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post(TAGS, json={**body, "grid_id": str(world.g2.id)}, headers=headers)
    assert r.status_code == 201, r.text
    person_tags = await client.get(
        f"/api/v1/people/{first.json()['person_id']}/tags", headers=headers
    )
    assert sorted(t["kind"] for t in person_tags.json()["items"]) == ["drug_user", "mental_patient"]


async def test_r_link_1_mode_3_creates_the_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Default mode 3: an unknown ID creates the actual person (kind registered unless the
    caller says otherwise) with birth date and gender from the ID; audited."""
    headers = auth(world.admin_s1, clock)
    number = resident_id(date(1990, 5, 6), female=True)
    r = await client.post(TAGS, json=tag_body(world, id_number=number), headers=headers)
    assert r.status_code == 201, r.text
    await set_scope(session, "*")
    person = await session.get(Person, uuid.UUID(r.json()["person_id"]))
    assert person is not None
    assert (person.kind, person.id_number, person.name) == ("registered", number, "张伟")
    assert (person.birth_date, person.gender, person.grid_id) == (
        date(1990, 5, 6),
        "female",
        world.g1.id,
    )
    assert await actions(session, person.id) == ["person.create"]
    assert await actions(session, r.json()["id"]) == ["person_tag.create", "pii.read"]

    floating = tag_body(world, id_number=resident_id(ADULT), person_kind="floating")
    r = await client.post(TAGS, json=floating, headers=headers)
    person = await session.get(Person, uuid.UUID(r.json()["person_id"]))
    assert person is not None and person.kind == "floating"

    # A known person is linked, not created again.
    before = await count(session, Person)
    r = await client.post(
        TAGS, json=tag_body(world, TagKind.DRUG_USER, id_number=number), headers=headers
    )
    assert r.status_code == 201, r.text
    assert await count(session, Person) == before

    # Only a valid resident ID can create a person.
    r = await client.post(TAGS, json=tag_body(world, id_number="E12345678"), headers=headers)
    assert_problem(r, 422, "id_number_invalid")
    assert await count(session, Person) == before


async def test_r_link_1_mode_2_needs_an_existing_active_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await set_link_mode(client, world, clock, 2)
    headers = auth(world.admin_s1, clock)
    before = await counts(session)
    r = await client.post(TAGS, json=tag_body(world), headers=headers)
    problem = assert_problem(r, 422, "person_required")
    assert [e["field"] for e in problem["errors"]] == ["id_number"]
    assert await counts(session) == before
    gone = await make_person(session, world.g1, status="deregistered")
    r = await client.post(TAGS, json=tag_body(world, id_number=gone.id_number), headers=headers)
    assert_problem(r, 422, "person_required")
    # A person of another grid does not count.
    elsewhere = await make_person(session, world.g2)
    r = await client.post(
        TAGS, json=tag_body(world, id_number=elsewhere.id_number), headers=headers
    )
    assert_problem(r, 422, "person_required")
    person = await make_person(session, world.g1)
    r = await client.post(TAGS, json=tag_body(world, id_number=person.id_number), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["person_id"] == str(person.id)


async def test_r_link_1_mode_1_tags_stand_alone(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await set_link_mode(client, world, clock, 1)
    headers = auth(world.admin_s1, clock)
    people = await count(session, Person)
    r = await client.post(TAGS, json=tag_body(world), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["person_id"] is None
    r = await client.post(TAGS, json=tag_body(world, id_number="E12345678"), headers=headers)
    assert r.status_code == 201, r.text
    assert await count(session, Person) == people
    # An existing person is still linked.
    person = await make_person(session, world.g1)
    r = await client.post(TAGS, json=tag_body(world, id_number=person.id_number), headers=headers)
    assert r.json()["person_id"] == str(person.id)
    # Ages of a foreign document holder come from the person record, or are unknown.
    r = await client.post(
        TAGS,
        json=tag_body(world, TagKind.ELDERLY, id_number="E7654321", details={}),
        headers=headers,
    )
    assert_problem(r, 422, "tag_age_out_of_range")


async def test_r_jur_3_a_grid_worker_sees_masked_ids_phones_and_sensitive_details(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    number = resident_id(ADULT)
    headers = auth(world.admin_s1, clock)
    created = []
    for kind in (
        TagKind.MENTAL_PATIENT,
        TagKind.DRUG_USER,
        TagKind.RELEASED_PRISONER,
        TagKind.KEY_PETITIONER,
        TagKind.DISABLED,
    ):
        r = await client.post(TAGS, json=tag_body(world, kind, id_number=number), headers=headers)
        assert r.status_code == 201, r.text
        created.append(r.json())
    worker = auth(world.worker_g1, clock)
    secrets = ["盗窃罪", "有期徒刑三年", "交友不慎", "外地购入", "征地补偿", "走访", "省级"]
    for tag in created:
        r = await client.get(f"{TAGS}/{tag['id']}", headers=worker)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["id_number"] == number[:6] + "********" + number[-4:]
        assert out["name"] == tag["name"][0] + "*" * (len(tag["name"]) - 1)
        assert number not in r.text and GUARDIAN_PHONE not in r.text
        assert not any(secret in r.text for secret in secrets)
        if out["kind"] == "mental_patient":
            assert out["details"]["guardian_phone"] == "139****5678"
            assert out["details"]["risk_level"] == "***"
            assert out["details"]["guardian_name"] == "张大山"
        if out["kind"] == "disabled":
            assert out["details"] == VALID_DETAILS[TagKind.DISABLED]  # not sensitive
    listed = await client.get(TAGS, params={"q": number}, headers=worker)
    assert listed.json()["total"] == 5  # matched on the full number, shown masked
    assert number not in listed.text and GUARDIAN_PHONE not in listed.text
    exported = await client.get(f"{TAGS}/export", params={"format": "csv"}, headers=worker)
    assert exported.status_code == 200
    assert number not in exported.text and GUARDIAN_PHONE not in exported.text
    assert not any(secret in exported.text for secret in secrets)
    # The admin (pii:read) sees everything, and that read is audited.
    r = await client.get(f"{TAGS}/{created[0]['id']}", headers=headers)
    assert r.json()["details"]["guardian_phone"] == GUARDIAN_PHONE
    assert (await actions(session, created[0]["id"]))[-1] == "pii.read"


async def test_patch_with_if_match_revalidates_details_and_audits(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    tag = await make_tag(session, clock, world.g1)
    path = f"{TAGS}/{tag['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.patch(
        path, json={"details": {"risk_level": 1}}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["details"] == {**MENTAL_DETAILS, "risk_level": 1}
    r = await client.patch(path, json={"name": "李四"}, headers={**headers, "If-Match": '"1"'})
    problem = assert_problem(r, 412, "precondition_failed")
    assert problem["current_etag"] == '"2"'
    r = await client.patch(path, json={"details": {"risk_level": 7}}, headers=headers)
    assert_problem(r, 422, "tag_details_invalid")
    r = await client.patch(path, json={"details": {"guardian_name": None}}, headers=headers)
    assert_problem(r, 422, "tag_details_invalid")
    r = await client.patch(path, json={"id_number": "x"}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    r = await client.patch(path, json={"name": "张伟"}, headers=headers)  # unchanged: no-op
    assert r.headers["etag"] == '"2"'
    assert r.json()["details"]["risk_level"] == 1
    assert [a for a in await actions(session, tag["id"]) if a != "pii.read"] == [
        "person_tag.create",
        "person_tag.update",
    ]
    await set_scope(session, "*")
    entry = (
        await session.execute(
            select(AuditEntry)
            .where(AuditEntry.action == "person_tag.update")
            .where(AuditEntry.target_id == str(tag["id"]))
        )
    ).scalar_one()
    # Audit entries keep masked values: auditors hold no pii:read (R-JUR-3).
    assert entry.before is not None and entry.after is not None
    assert entry.after["details"]["risk_level"] == "***"
    assert GUARDIAN_PHONE not in str(entry.after)


async def test_unfollow_refollow_with_reason_history_and_uniqueness(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """SPEC §3: unfollowed with a reason and a time, refollowed with history kept; refollow
    refused while another followed tag of the same (grid, kind, ID) exists."""
    tag = await make_tag(session, clock, world.g1)
    path = f"{TAGS}/{tag['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{path}/unfollow", json={}, headers=headers)
    assert_problem(r, 422, "validation_failed")
    r = await client.post(
        f"{path}/unfollow", json={"reason": "已迁出"}, headers={**headers, "If-Match": '"5"'}
    )
    assert_problem(r, 412, "precondition_failed")
    r = await client.post(f"{path}/unfollow", json={"reason": "已迁出"}, headers=headers)
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["status"], out["status_reason"], out["version"]) == ("unfollowed", "已迁出", 2)
    assert out["status_changed_at"].endswith("+08:00")
    r = await client.post(f"{path}/unfollow", json={"reason": "again"}, headers=headers)
    assert_problem(r, 409, "status_transition_invalid")

    # A new followed tag of the same kind and ID blocks refollowing the old one.
    again = await client.post(
        TAGS, json=tag_body(world, id_number=tag["id_number"]), headers=headers
    )
    assert again.status_code == 201, again.text
    before = await count(session, StatusChange)
    r = await client.post(f"{path}/refollow", json={"reason": "回流"}, headers=headers)
    assert_problem(r, 409, "duplicate_active_record")
    assert await count(session, StatusChange) == before
    await client.post(
        f"{TAGS}/{again.json()['id']}/unfollow", json={"reason": "重复"}, headers=headers
    )
    r = await client.post(f"{path}/refollow", headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["version"]) == ("followed", 3)

    history = await client.get(f"{path}/history", headers=headers)
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history.json()] == [
        ("followed", "unfollowed", "已迁出"),
        ("unfollowed", "followed", None),
    ]
    assert [a for a in await actions(session, tag["id"]) if a != "pii.read"] == [
        "person_tag.create",
        "person_tag.unfollowed",
        "person_tag.followed",
    ]


async def test_r_key_2_a_correction_person_is_converted_by_hand_to_a_released_prisoner(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-KEY-2 "(and may be converted by hand to a released prisoner)": the correction tag
    is unfollowed (once, with its reason), a released-prisoner tag follows for the same
    person and ID, both audited; other conversions and bad details write nothing."""
    headers = auth(world.admin_s1, clock)
    person = await make_person(session, world.g1)
    assert person.id_number is not None
    correction = await make_tag(
        session,
        clock,
        world.g1,
        kind=TagKind.COMMUNITY_CORRECTION,
        details=CORRECTION_DETAILS,
        id_number=person.id_number,
    )
    url = f"{TAGS}/{correction['id']}/convert"
    sent = {"kind": "released_prisoner", "details": RELEASED_DETAILS}
    before = await counts(session)
    bad: list[tuple[dict[str, Any], int, str, str]] = [
        ({**sent, "kind": "elderly"}, 422, "tag_conversion_not_allowed", "kind"),
        ({**sent, "details": {"release_date": "2026-11-20"}}, 422, "tag_details_invalid", ""),
        ({**sent, "reason": ""}, 422, "validation_failed", "reason"),
    ]
    for body, status, code, field in bad:
        problem = assert_problem(await client.post(url, json=body, headers=headers), status, code)
        if field:
            assert field in [e["field"] for e in problem["errors"]]
    problem = assert_problem(
        await client.post(url, json=sent, headers={**headers, "If-Match": '"9"'}),
        412,
        "precondition_failed",
    )
    drug = await make_tag(
        session, clock, world.g1, kind=TagKind.DRUG_USER, details=VALID_DETAILS[TagKind.DRUG_USER]
    )
    before = await counts(session)
    problem = assert_problem(
        await client.post(f"{TAGS}/{drug['id']}/convert", json=sent, headers=headers),
        422,
        "tag_conversion_not_allowed",
    )
    assert problem["detail"] == "「吸毒人员」不能转为「刑释人员」"
    assert await counts(session) == before
    assert (await client.get(f"{TAGS}/{correction['id']}", headers=headers)).json()[
        "status"
    ] == "followed"

    r = await client.post(url, json=sent, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 201, r.text
    released = r.json()
    assert r.headers["location"] == f"{TAGS}/{released['id']}"
    assert (released["kind"], released["status"], released["person_id"]) == (
        "released_prisoner",
        "followed",
        str(person.id),
    )
    assert (released["id_number"], released["name"]) == (person.id_number, correction["name"])
    assert released["details"]["release_date"] == "2026-11-20"
    source = (await client.get(f"{TAGS}/{correction['id']}", headers=headers)).json()
    assert (source["status"], source["status_reason"]) == ("unfollowed", "转为刑释人员")
    assert [a for a in await actions(session, correction["id"]) if a != "pii.read"] == [
        "person_tag.create",
        "person_tag.unfollowed",
        "person_tag.convert",
    ]
    await set_scope(session, "*")
    entry = (
        await session.execute(
            select(AuditEntry).where(
                AuditEntry.target_id == str(correction["id"]),
                AuditEntry.action == "person_tag.convert",
            )
        )
    ).scalar_one()
    assert entry.after == {"kind": "released_prisoner", "converted_to": released["id"]}
    # Converted once: a second conversion meets the followed released-prisoner tag.
    assert_problem(
        await client.post(url, json=sent, headers=headers), 409, "duplicate_active_record"
    )


async def test_r_key_2_a_correction_unfollowed_by_the_daily_run_keeps_its_reason_on_conversion(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The usual path: the period ended, the worker unfollowed the tag; converting it later
    leaves that unfollow (and its reason) as it is."""
    clock.current = datetime(2025, 6, 1, 2, tzinfo=UTC)
    ended = {**CORRECTION_DETAILS, "end_date": "2026-06-30"}
    correction = await make_tag(
        session, clock, world.g1, kind=TagKind.COMMUNITY_CORRECTION, details=ended
    )
    clock.current = datetime(2026, 11, 23, 2, tzinfo=UTC)
    assert (await run_lifecycle(await system_ctx(session, clock), date(2026, 11, 23)))[
        "correction_unfollowed"
    ] == 1
    headers = auth(world.admin_s1, clock)
    r = await client.post(
        f"{TAGS}/{correction['id']}/convert",
        json={
            "kind": "released_prisoner",
            "details": {**RELEASED_DETAILS, "release_date": "2026-06-30"},
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    history = (await client.get(f"{TAGS}/{correction['id']}/history", headers=headers)).json()
    assert [(h["to_status"], h["reason"]) for h in history] == [
        ("unfollowed", "社区矫正期满，自动取消关注")
    ]


async def test_refollow_checks_the_holder_still_suits_the_kind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A key youth unfollowed at 25 cannot be followed again once 26."""
    born = date(2000, 11, 24)  # 25 until tomorrow
    tag = await make_tag(
        session,
        clock,
        world.g1,
        kind=TagKind.KEY_YOUTH,
        details=VALID_DETAILS[TagKind.KEY_YOUTH],
        id_number=resident_id(born),
    )
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{TAGS}/{tag['id']}/unfollow", json={"reason": "试"}, headers=headers)
    assert r.status_code == 200
    clock.current = clock.current.replace(day=24)
    headers = auth(world.admin_s1, clock)
    r = await client.post(f"{TAGS}/{tag['id']}/refollow", json={}, headers=headers)
    assert_problem(r, 422, "tag_age_out_of_range")


async def test_list_filters_search_and_keyset_pages(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    created = [await make_tag(session, clock, world.g1, name=f"甲{i}") for i in range(3)] + [
        await make_tag(
            session, clock, world.g2, kind=TagKind.DISABLED, details=VALID_DETAILS[TagKind.DISABLED]
        )
    ]
    ctx_headers = auth(world.admin_s1, clock)
    await client.post(
        f"{TAGS}/{created[0]['id']}/unfollow", json={"reason": "迁出"}, headers=ctx_headers
    )

    async def ids(**params: Any) -> list[str]:
        r = await client.get(TAGS, params=params, headers=ctx_headers)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["items"]]

    assert set(await ids(unit_id=str(world.g1.id))) == {str(t["id"]) for t in created[:3]}
    assert await ids(kind="disabled") == [str(created[3]["id"])]
    assert await ids(status="unfollowed") == [str(created[0]["id"])]
    assert len(await ids(status="followed", unit_id=str(world.c1.id))) == 3
    assert await ids(q="甲1") == [str(created[1]["id"])]
    assert await ids(q=created[2]["id_number"]) == [str(created[2]["id"])]
    assert await ids(automatic="true") == []
    r = await client.get(TAGS, params={"unit_id": str(world.g3.id)}, headers=ctx_headers)
    assert_problem(r, 404, "org_unit_not_found")

    page = (await client.get(TAGS, params={"limit": 1}, headers=ctx_headers)).json()
    assert page["total"] == 4
    seen = [page["items"][0]["id"]]
    while page["next_cursor"]:
        page = (
            await client.get(
                TAGS, params={"limit": 1, "cursor": page["next_cursor"]}, headers=ctx_headers
            )
        ).json()
        seen += [t["id"] for t in page["items"]]
    assert sorted(seen) == sorted(str(t["id"]) for t in created)
    r = await client.get(TAGS, params={"cursor": "garbage!"}, headers=ctx_headers)
    assert_problem(r, 400, "cursor_invalid")


async def test_person_tags_route_lists_one_person(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    person = await make_person(session, world.g1)
    await make_tag(session, clock, world.g1, id_number=person.id_number)
    await make_tag(session, clock, world.g1)  # someone else
    headers = auth(world.admin_s1, clock)
    r = await client.get(f"/api/v1/people/{person.id}/tags", headers=headers)
    assert r.status_code == 200, r.text
    assert [t["person_id"] for t in r.json()["items"]] == [str(person.id)]
    r = await client.get(f"/api/v1/people/{uuid.uuid4()}/tags", headers=headers)
    assert_problem(r, 404, "person_not_found")


def read_csv(response: Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_r_exp_1_export_with_filters_and_detail_columns(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_tag(session, clock, world.g1, name="甲")
    await make_tag(
        session,
        clock,
        world.g3,
        kind=TagKind.DISABLED,
        details=VALID_DETAILS[TagKind.DISABLED],
        name="乙",
    )
    headers = auth(world.admin_d, clock)
    r = await client.get(
        f"{TAGS}/export", params={"format": "csv", "kind": "mental_patient"}, headers=headers
    )
    assert r.status_code == 200, r.text
    rows = read_csv(r)
    assert [(row["姓名"], row["人员类别"], row["监护人电话"]) for row in rows] == [
        ("甲", "易肇事肇祸精神病人", GUARDIAN_PHONE)
    ]
    assert "残疾等级" not in rows[0]
    r = await client.get(f"{TAGS}/export", params={"format": "xlsx"}, headers=headers)
    assert r.status_code == 200
    assert r.content[:2] == b"PK"
    sibling = await client.get(
        f"{TAGS}/export", params={"format": "csv"}, headers=auth(world.admin_s1, clock)
    )
    assert [row["姓名"] for row in read_csv(sibling)] == ["甲"]
    auditor = await make_user(session, roles=["auditor"], unit=world.district)
    r = await client.get(f"{TAGS}/export", headers=auth(auditor, clock))
    assert_problem(r, 403, "permission_denied")


async def test_tag_kinds_catalogue_publishes_the_detail_schemas(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get("/api/v1/tag-kinds", headers=auth(world.worker_g1, clock))
    assert r.status_code == 200
    kinds = {k["kind"]: k for k in r.json()}
    assert len(kinds) == 17
    youth = kinds["key_youth"]
    assert (youth["label"], youth["min_age"], youth["max_age"]) == ("重点青少年", 6, 25)
    assert kinds["childbearing_woman"]["gender"] == "female"
    assert "release_date" in kinds["released_prisoner"]["details_schema"]["properties"]


async def test_english_messages_on_request(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        TAGS,
        json=tag_body(world, TagKind.ELDERLY, details={}),
        headers={**auth(world.admin_s1, clock), "Accept-Language": "en"},
    )
    problem = assert_problem(r, 422, "tag_age_out_of_range")
    assert problem["detail"].startswith("The person's age does not suit")


SETTING = "/api/v1/settings/tag_link_mode"


async def test_r_link_1_the_link_mode_setting_is_validated_versioned_and_audited(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    worker, admin = auth(world.worker_g1, clock), auth(world.admin_d, clock)
    r = await client.get("/api/v1/settings", headers=worker)
    assert r.status_code == 200, r.text
    (setting,) = [s for s in r.json() if s["key"] == "tag_link_mode"]
    assert (setting["value"], setting["version"]) == (3, 1)
    assert "R-LINK-1" in setting["description"]

    r = await client.put(SETTING, json={"value": 1}, headers=worker)
    assert_problem(r, 403, "permission_denied")
    for bad in (4, 0, "2", True, None, 2.0, [2]):
        r = await client.put(SETTING, json={"value": bad}, headers=admin)
        problem = assert_problem(r, 422, "setting_value_invalid")
        assert "tag_link_mode" in problem["detail"], bad
        assert [e["field"] for e in problem["errors"]] == ["value"]
    r = await client.put(SETTING, json={"value": 2, "note": "x"}, headers=admin)
    assert_problem(r, 422, "validation_failed")
    r = await client.put(SETTING, json={}, headers=admin)
    assert_problem(r, 422, "validation_failed")
    r = await client.put("/api/v1/settings/unknown_key", json={"value": 1}, headers=admin)
    assert_problem(r, 404, "setting_not_found")

    r = await client.put(SETTING, json={"value": 2}, headers={**admin, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert (r.json()["value"], r.json()["updated_by"]) == (2, str(world.admin_d.id))
    r = await client.put(SETTING, json={"value": 1}, headers={**admin, "If-Match": '"1"'})
    assert_problem(r, 412, "precondition_failed")
    r = await client.get("/api/v1/settings", headers=worker)
    assert [s["value"] for s in r.json() if s["key"] == "tag_link_mode"] == [2]
    await set_scope(session, "*")
    entries = (
        await session.execute(
            select(AuditEntry.before, AuditEntry.after).where(AuditEntry.action == "setting.update")
        )
    ).all()
    assert [tuple(e) for e in entries] == [({"value": 3}, {"value": 2})]


async def test_r_link_1_a_tag_links_an_overseas_person_by_document_number(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Overseas people have no resident ID (R-POP-2): a tag naming their passport number
    finds them, so mode 2 (a tag needs an existing person) accepts it and links it."""
    headers = auth(world.admin_s1, clock)
    person = await client.post(
        "/api/v1/people",
        json={
            "grid_id": str(world.g1.id),
            "kind": "overseas",
            "name": "Ali Khan",
            "gender": "male",
            "birth_date": "1985-01-02",
            "no_house_reason": "暂住宾馆",
            "details": {
                "nationality": "PAK",
                "document_type": "passport",
                "document_number": "AB1234567",
                "visa_type": "Z",
                "entry_date": "2026-02-01",
            },
        },
        headers=headers,
    )
    assert person.status_code == 201, person.text
    await set_link_mode(client, world, clock, 2)
    tag = await client.post(
        TAGS,
        json=tag_body(world, TagKind.KEY_OTHER, id_number="AB1234567", name="Ali Khan"),
        headers=headers,
    )
    assert tag.status_code == 201, tag.text
    assert tag.json()["person_id"] == person.json()["id"]
    stranger = await client.post(
        TAGS,
        json=tag_body(world, TagKind.KEY_OTHER, id_number="ZZ7654321", name="Nobody"),
        headers=headers,
    )
    assert_problem(stranger, 422, "person_required")
