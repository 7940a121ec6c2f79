"""R-EVT-1 / R-EVT-2 reporting events, R-SUP-7 lights, R-WF-6 work boxes: an event reported
in a grid gets a service number and a first step at the grid's community; bad input is
refused with nothing written; reads and lists are limited to the jurisdiction and masked."""

import csv
import io
import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services import audit
from services.event_filing import filing_params
from services.models import AuditEntry, Event, EventAction, EventStep
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.events import event_body, make_event
from tests.routes.places import audit_actions, count_rows
from tests.statements import recorded

URL = "/api/v1/events"
PHONE = "13912345678"


async def _counts(session: AsyncSession) -> tuple[int, int, int]:
    return (
        await count_rows(session, Event),
        await count_rows(session, EventStep),
        await count_rows(session, EventAction),
    )


async def test_r_evt_1_report_assigns_the_first_step_to_the_grids_community(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.post(URL, json=event_body(world.g1.id), headers=auth(world.worker_g1, clock))
    assert r.status_code == 201, r.text
    event = r.json()
    assert re.fullmatch(r"SJ20261123\d{6}", event["service_no"])
    # No routing rule matches: the community receives it in its manual dispatch queue (R-WF-3).
    assert event["state"] == "dispatch"
    assert event["current_step"]["unit_id"] == str(world.c1.id)
    assert event["occurred_at"] == "2026-11-22T17:30:00+08:00"
    assert event["light"] == "green"
    assert event["supervisions"] == []
    [step] = event["steps"]
    # R-SUP-2: 24 h / 48 h acceptance deadlines stored on the step.
    assert step["accept_yellow_at"] == "2026-11-24T10:00:00+08:00"
    assert step["accept_red_at"] == "2026-11-25T10:00:00+08:00"
    assert r.headers["ETag"] == '"1"'
    assert await audit_actions(session, event["id"]) == ["event.report"]
    again = await client.post(URL, json=event_body(world.g1.id), headers=auth(world.admin_d, clock))
    assert again.json()["service_no"] != event["service_no"]


async def test_r_sup_2_a_major_event_gets_the_12_hour_card(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        URL, json=event_body(world.g1.id, is_major=True), headers=auth(world.admin_d, clock)
    )
    step = r.json()["steps"][0]
    assert step["accept_red_at"] == "2026-11-23T22:00:00+08:00"
    assert step["accept_yellow_at"] is None


async def test_r_evt_2_resolved_on_the_spot_is_recorded_and_closed(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        URL,
        json=event_body(world.g1.id, resolve_on_spot=True, result="当场劝解，双方和解"),
        headers=auth(world.worker_g1, clock),
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["state"] == "closed" and event["closed_at"] is not None
    [step] = event["steps"]
    assert step["unit_id"] == str(world.g1.id)
    assert step["finished_at"] is not None and step["result"] == "当场劝解，双方和解"
    assert await audit_actions(session, event["id"]) == ["event.resolve"]


async def test_the_answer_to_a_report_is_the_event_as_read_back(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """The answer is composed without asking for what a new event cannot have yet (cards,
    appeals, a citizen): it is the event as a read shows it, masking included (R-JUR-3)."""
    for user, body in (
        (world.worker_g1, event_body(world.g1.id, parties="张三、李四")),
        (world.admin_d, event_body(world.g1.id, resolve_on_spot=True, result="当场解决")),
    ):
        headers = auth(user, clock)
        reported = await client.post(URL, json=body, headers=headers)
        assert reported.status_code == 201, reported.text
        answer = reported.json()
        read = await client.get(f"{URL}/{answer['id']}", headers=headers)
        assert read.status_code == 200, read.text
        assert {k: v for k, v in answer.items() if k != "likely_duplicates"} == read.json()


async def test_r_evt_1_bad_input_is_refused_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    before = await _counts(session)
    wrong_subtype = await client.post(
        URL, json=event_body(world.g1.id, subtype="theft"), headers=headers
    )
    body = assert_problem(wrong_subtype, 422, "event_subtype_unknown")
    assert body["errors"][0]["field"] == "subtype"
    assert "字典" in body["errors"][0]["message"]
    unknown_category = await client.post(
        URL, json=event_body(world.g1.id, category="weather"), headers=headers
    )
    assert unknown_category.status_code == 422
    naive = await client.post(
        URL, json=event_body(world.g1.id, occurred_at="2026-11-22T17:30:00"), headers=headers
    )
    assert naive.status_code == 422
    not_a_grid = await client.post(URL, json=event_body(world.c1.id), headers=headers)
    assert_problem(not_a_grid, 422, "record_needs_grid")
    extra = await client.post(URL, json=event_body(world.g1.id, state="closed"), headers=headers)
    assert extra.status_code == 422
    assert await _counts(session) == before


async def test_r_jur_1_reporting_outside_the_jurisdiction_is_404(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await _counts(session)
    r = await client.post(URL, json=event_body(world.g1.id), headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "org_unit_not_found")
    assert await _counts(session) == before


async def test_r_evt_1_subtype_dictionary_lists_the_shipped_codes(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get("/api/v1/dictionaries/event_subtype", headers=auth(world.worker_g1, clock))
    assert r.status_code == 200
    codes = {(i["category"], i["code"]) for i in r.json()}
    assert ("dispute", "veteran_resettlement") in codes
    assert ("security_hazard", "liability_accident") in codes
    assert ("city_component", "manhole_cover") in codes
    assert ("other", "other") in codes
    assert len(codes) == 31


async def test_r_jur_3_grid_worker_sees_masked_responsible_phone(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world, parties="张三、李四")
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    accepted = await client.post(
        f"{URL}/{event['id']}/actions/accept",
        json={"responsible_person": "王建国", "responsible_phone": PHONE},
        headers=auth(staff, clock),
    )
    assert accepted.status_code == 200, accepted.text
    worker = await client.get(f"{URL}/{event['id']}", headers=auth(world.worker_g1, clock))
    listed = await client.get(URL, headers=auth(world.worker_g1, clock))
    for text in (accepted.text, worker.text, listed.text):
        assert PHONE not in text and "王建国" not in text and "张三" not in text
    assert worker.json()["steps"][0]["responsible_phone"] == "139****5678"
    admin = await client.get(f"{URL}/{event['id']}", headers=auth(world.admin_d, clock))
    assert admin.json()["steps"][0]["responsible_phone"] == PHONE
    assert "pii.read" in await audit_actions(session, event["steps"][0]["id"])


async def test_r_sup_7_light_turns_yellow_then_red_and_expedited_is_red(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world)
    path = f"{URL}/{event['id']}"

    async def light() -> Any:
        return (await client.get(path, headers=auth(world.admin_d, clock))).json()["light"]

    assert await light() == "green"
    clock.advance(timedelta(hours=20))  # 83 % of the 24-hour acceptance limit
    assert await light() == "yellow"
    clock.advance(timedelta(hours=5))
    assert await light() == "red"
    other = await make_event(session, clock, world)
    await client.post(
        f"{URL}/{other['id']}/actions/expedite", json={}, headers=auth(world.admin_d, clock)
    )
    listed = await client.get(
        URL, params={"q": other["service_no"]}, headers=auth(world.admin_d, clock)
    )
    assert [i["light"] for i in listed.json()["items"]] == ["red"]


async def test_r_wf_6_boxes_and_counts(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    first = await make_event(session, clock, world, title="第一件")
    second = await make_event(session, clock, world, title="第二件")
    await client.post(
        f"{URL}/{first['id']}/actions/accept",
        json={"responsible_person": "王建国", "responsible_phone": PHONE},
        headers=auth(staff, clock),
    )

    async def box(user: Any, name: str) -> set[str]:
        r = await client.get(URL, params={"box": name}, headers=auth(user, clock))
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["items"]}

    both = {str(first["id"]), str(second["id"])}
    assert await box(staff, "todo") == both
    assert await box(staff, "done") == {str(first["id"])}
    assert await box(street, "todo") == set()
    assert await box(street, "sub_todo") == both
    counts = (await client.get(f"{URL}/counts", headers=auth(staff, clock))).json()
    assert counts == {
        "todo": 2,
        "done": 1,
        "sub_todo": 0,
        "closed": 0,
        "legacy": 0,
        "typical": 0,
        # The second, not accepted yet, waits in the manual dispatch queue (R-WF-3).
        "dispatch": 1,
    }
    await client.post(
        f"{URL}/{second['id']}/actions/mark-legacy", json={}, headers=auth(street, clock)
    )
    assert await box(staff, "todo") == {str(first["id"])}
    assert await box(staff, "legacy") == {str(second["id"])}


async def test_lists_page_by_keyset_filter_search_and_export(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    made = [await make_event(session, clock, world, title=f"事件{i}") for i in range(3)]
    await make_event(session, clock, world, category="livelihood", subtype="education")
    headers = auth(world.admin_d, clock)
    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()
    assert first["total"] == 4 and len(first["items"]) == 2
    rest = await client.get(
        URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    ids = [i["id"] for i in first["items"] + rest.json()["items"]]
    assert len(set(ids)) == 4 and rest.json()["next_cursor"] is None
    disputes = await client.get(URL, params={"category": "dispute"}, headers=headers)
    assert disputes.json()["total"] == 3
    found = await client.get(URL, params={"q": "事件1"}, headers=headers)
    assert [i["id"] for i in found.json()["items"]] == [str(made[1]["id"])]
    exported = await client.get(
        f"{URL}/export", params={"format": "csv", "category": "dispute"}, headers=headers
    )
    assert exported.status_code == 200, exported.text
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][0] == "服务单号" and len(rows) == 4
    sibling = await client.get(URL, headers=auth(world.admin_s2, clock))
    assert sibling.json()["total"] == 0


async def test_r_evt_1_a_report_files_event_step_history_and_audit_in_one_statement(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    """The event goes in already pointing at its first step, with its history row and its
    audit entry (R-AUD-1), which the chain links as any other: no UPDATE follows its INSERT."""
    async with recorded(conn) as statements:
        r = await client.post(
            URL, json=event_body(world.g1.id), headers=auth(world.worker_g1, clock)
        )
    assert r.status_code == 201, r.text
    [filing] = [s for s in statements if "INSERT INTO events" in s]
    assert "INSERT INTO event_steps" in filing and "INSERT INTO event_actions" in filing
    assert [s for s in statements if "INSERT INTO audit_log" in s] == [filing]
    assert not [s for s in statements if re.match(r"\s*UPDATE events\b", s)]
    [entry] = (
        await session.scalars(select(AuditEntry).where(AuditEntry.target_id == r.json()["id"]))
    ).all()
    assert (entry.action, entry.actor_id, entry.unit_path) == (
        "event.report",
        world.worker_g1.id,
        world.g1.path,
    )
    assert entry.after == {"state": r.json()["state"]}
    assert (await audit.verify_chain(await system_ctx(session, clock))).intact
    stored = await session.get_one(Event, uuid.UUID(r.json()["id"]))
    [step] = (await session.scalars(select(EventStep).where(EventStep.event_id == stored.id))).all()
    [action] = (
        await session.scalars(select(EventAction).where(EventAction.event_id == stored.id))
    ).all()
    assert stored.current_step_id == step.id == action.step_id
    # Columns the body leaves out take their defaults, as an ORM flush gives them.
    assert (stored.involved_count, stored.is_major, stored.version) == (0, False, 1)


def test_a_filing_refuses_a_record_without_the_id_it_is_inserted_with() -> None:
    event = Event(id=uuid.uuid4(), title="t")
    step = EventStep(event_id=event.id, seq=1)
    history = EventAction(id=uuid.uuid4(), event_id=event.id, payload={})
    with pytest.raises(TypeError, match=r"EventStep\.id must be set"):
        filing_params(event, step, history, {})
