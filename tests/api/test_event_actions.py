"""R-WF-1 / R-WF-2 / R-WF-5 / R-WF-7 workflow actions: accept, feedback, complete, escalate,
assign, return, copy, divert, verify and the marks, each allowed only in its state and to the
caller standing in the right role, each written to the step history and the audit trail, and
applied as one conditional update (a real-commit race applies once)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope, system_session
from services.models import EventAction, OrgUnit, User
from tests import territory
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.events import make_event
from tests.routes.places import audit_actions, count_rows
from tests.territory import Committed, committed_territory, remove_events

URL = "/api/v1/events"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
real_client = territory.real_client


class Flow:
    """An event of G1 and the users who act on it."""

    def __init__(self, client: AsyncClient, clock: MovableClock, event_id: Any) -> None:
        self.client, self.clock, self.id = client, clock, event_id

    async def act(
        self, user: User, action: str, body: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        return await self.client.post(
            f"{URL}/{self.id}/actions/{action}",
            json=body if body is not None else {},
            headers={**auth(user, self.clock), **kw.get("headers", {})},
        )

    async def ok(self, user: User, action: str, body: dict[str, Any] | None = None) -> Any:
        r = await self.act(user, action, body)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


@pytest.fixture
async def flow(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> Flow:
    return Flow(client, clock, (await make_event(session, clock, world))["id"])


async def _history(session: AsyncSession, event_id: Any) -> list[str]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.scalars(
        select(EventAction.action)
        .where(EventAction.event_id == event_id)
        .order_by(EventAction.serial)
    )
    return list(rows)


async def test_r_wf_1_r_wf_2_accept_feedback_complete_verify_closes(
    session: AsyncSession, world: World, flow: Flow, staff: User, clock: MovableClock
) -> None:
    accepted = await flow.ok(staff, "accept", ACCEPT)
    assert accepted["state"] == "handling"
    step = accepted["steps"][0]
    assert step["accepted_at"] and step["accept_yellow_at"] is None
    # R-SUP-2: Monday 10:00 + 5 working days = next Monday 10:00.
    assert step["handle_yellow_at"] == "2026-11-30T10:00:00+08:00"
    fed = await flow.ok(staff, "feedback", {"note": "已上门调解"})
    assert fed["steps"][0]["handle_yellow_at"] is None
    assert fed["steps"][0]["last_feedback_at"] is not None
    done = await flow.ok(staff, "complete", {"result": "双方达成和解"})
    assert done["state"] == "pending_verify"
    assert done["steps"][0]["finished_at"] and done["light"] == "green"
    # R-WF-2: only the originating community side verifies; the district admin may not.
    assert_problem(
        await flow.act(world.admin_d, "verify", {"satisfaction": "satisfied", "method": "phone"}),
        403,
        "action_not_yours",
    )
    closed = await flow.ok(
        world.worker_g1, "verify", {"satisfaction": "satisfied", "method": "phone", "note": "满意"}
    )
    assert closed["state"] == "closed" and closed["light"] is None
    assert await _history(session, flow.id) == [
        "report",
        "accept",
        "feedback",
        "complete",
        "verify",
    ]
    # (The system's own read of the factory-made event is audited as `pii.read` too.)
    audited = [a for a in await audit_actions(session, flow.id) if a.startswith("event.")]
    assert audited == [
        "event.report",
        "event.accept",
        "event.feedback",
        "event.complete",
        "event.verify",
    ]
    typical = await flow.ok(world.admin_d, "mark-typical")
    assert typical["typical"] is True


async def test_r_wf_2_unsatisfied_sends_the_event_back_to_the_handler(
    world: World, flow: Flow, staff: User
) -> None:
    await flow.ok(staff, "accept", ACCEPT)
    await flow.ok(staff, "complete", {"result": "已处理"})
    again = await flow.ok(
        world.worker_g1, "verify", {"satisfaction": "not_implemented", "method": "on_site"}
    )
    assert again["state"] == "pending_accept"
    assert [s["unit_id"] for s in again["steps"]] == [str(world.c1.id)] * 2
    assert again["current_step"]["id"] == again["steps"][1]["id"]


async def test_r_wf_1_only_accepted_steps_are_handled_and_bad_bodies_are_422(
    session: AsyncSession, world: World, flow: Flow, staff: User
) -> None:
    before = await count_rows(session, EventAction)
    body = assert_problem(
        await flow.act(staff, "complete", {"result": "x"}), 409, "transition_not_allowed"
    )
    assert "不允许" in body["detail"]
    missing = assert_problem(await flow.act(staff, "accept", {}), 422, "event_action_invalid")
    assert {e["field"] for e in missing["errors"]} == {"responsible_person", "responsible_phone"}
    assert_problem(
        await flow.act(staff, "accept", {**ACCEPT, "responsible_phone": "电话"}),
        422,
        "event_action_invalid",
    )
    assert_problem(
        await flow.act(staff, "accept", {**ACCEPT, "note": "x"}), 422, "event_action_invalid"
    )
    assert_problem(await flow.act(staff, "fly"), 404, "event_action_unknown")
    # Another community's staff is not the handler.
    other = await make_user(session, roles=["community_staff"], unit=world.c2)
    assert_problem(await flow.act(other, "accept", ACCEPT), 404, "event_not_found")
    worker = await flow.act(world.worker_g1, "accept", ACCEPT)
    assert_problem(worker, 403, "action_not_yours")
    assert await count_rows(session, EventAction) == before


async def test_r_wf_1_escalate_up_to_the_district_and_no_further(
    session: AsyncSession, world: World, flow: Flow, staff: User
) -> None:
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    district = await make_user(session, roles=["district_operator"], unit=world.district)
    await flow.ok(staff, "accept", ACCEPT)
    up = await flow.ok(staff, "escalate")
    assert up["current_step"]["unit_id"] == str(world.s1.id)
    assert up["steps"][0]["outcome"] == "escalate"
    await flow.ok(street, "accept", ACCEPT)
    top = await flow.ok(street, "escalate")
    assert top["current_step"]["unit_id"] == str(world.district.id)
    await flow.ok(district, "accept", ACCEPT)
    assert_problem(await flow.act(district, "escalate"), 409, "transition_not_allowed")
    process = await flow.client.get(f"{URL}/{flow.id}/process", headers=auth(district, flow.clock))
    assert "escalate" not in process.json()["available_actions"]
    assert "return" in process.json()["available_actions"]
    # R-WF-1 return: back to the previous step's unit, with a reason.
    back = await flow.ok(district, "return", {"reason": "属街道职责"})
    assert back["current_step"]["unit_id"] == str(world.s1.id)
    assert len(back["steps"]) == 4


async def test_r_wf_1_assign_to_a_department_divert_and_copy(
    session: AsyncSession, world: World, flow: Flow, staff: User, clock: MovableClock
) -> None:
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    await flow.ok(staff, "accept", ACCEPT)
    await flow.ok(staff, "escalate")
    await flow.ok(street, "accept", ACCEPT)
    copied = await flow.ok(street, "copy", {"unit_ids": [str(world.c2.id)]})
    assert copied["state"] == "handling" and len(copied["steps"]) == 2
    await set_scope(session, SYSTEM_SCOPE)
    recorded = await session.scalar(
        select(EventAction.payload).where(
            EventAction.event_id == flow.id, EventAction.action == "copy"
        )
    )
    assert recorded == {"unit_ids": [str(world.c2.id)]}
    assert_problem(
        await flow.act(street, "copy", {"unit_ids": [str(world.c3.id)]}),
        422,
        "event_target_invalid",
    )
    # Assigning sideways (a sibling street's community) is refused.
    assert_problem(
        await flow.act(street, "assign", {"unit_id": str(world.c3.id)}), 422, "event_target_invalid"
    )
    assert_problem(
        await flow.act(
            street, "assign", {"unit_id": str(world.c1.id), "department_id": str(world.dept_s1.id)}
        ),
        422,
        "event_action_invalid",
    )
    assigned = await flow.ok(street, "assign", {"department_id": str(world.dept_s1.id)})
    assert assigned["current_step"]["department_id"] == str(world.dept_s1.id)
    # R-JUR-2: the department handler sees the event dispatched to it and its to-do box.
    todo = await flow.client.get(URL, params={"box": "todo"}, headers=auth(handler, clock))
    assert [i["id"] for i in todo.json()["items"]] == [str(flow.id)]
    elsewhere = await make_event(session, clock, world)
    seen = await flow.client.get(URL, headers=auth(handler, clock))
    assert [i["id"] for i in seen.json()["items"]] == [str(flow.id)]
    hidden = await flow.client.get(f"{URL}/{elsewhere['id']}", headers=auth(handler, clock))
    assert_problem(hidden, 404, "event_not_found")
    await flow.ok(handler, "accept", ACCEPT)
    diverted = await flow.ok(handler, "divert", {"unit_id": str(world.c1.id)})
    assert diverted["current_step"]["unit_id"] == str(world.c1.id)
    assert diverted["state"] == "pending_accept"
    assert await _history(session, flow.id) == [
        "report",
        "accept",
        "escalate",
        "accept",
        "copy",
        "assign",
        "accept",
        "divert",
    ]


async def test_r_wf_7_marks_need_a_superior_and_if_match_guards(
    session: AsyncSession, world: World, flow: Flow, staff: User
) -> None:
    leader = await make_user(session, roles=["leader"], unit=world.district)
    # The community's admin holds every permission but is the handler, not a superior.
    admin_c1 = await make_user(session, roles=["admin"], unit=world.c1)
    assert_problem(await flow.act(admin_c1, "expedite"), 403, "action_not_yours")
    assert_problem(await flow.act(staff, "expedite"), 403, "permission_denied")
    expedited = await flow.ok(world.admin_s1, "expedite")
    assert expedited["expedited"] is True and expedited["light"] == "red"
    stale = await flow.act(world.admin_s1, "cancel-expedite", headers={"If-Match": '"1"'})
    assert_problem(stale, 412, "precondition_failed")
    await flow.ok(world.admin_s1, "cancel-expedite")
    instructed = await flow.ok(leader, "instruct", {"text": "请尽快化解"})
    assert instructed["version"] == 4
    assert_problem(
        await flow.act(world.admin_s1, "instruct", {"text": "x"}), 403, "action_not_yours"
    )


async def test_r_wf_4_process_graph_shows_where_it_is_and_what_i_may_do(
    flow: Flow, staff: User, world: World
) -> None:
    r = await flow.client.get(f"{URL}/{flow.id}/process", headers=auth(staff, flow.clock))
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["process"] == "default" and data["current"] == "dispatch"
    assert {"from": "pending_accept", "action": "accept", "to": "handling"} in data["edges"]
    assert {"from": "dispatch", "action": "dispatch", "to": "pending_accept"} in data["edges"]
    # The first step has nowhere to be returned to, and no verification to appeal.
    assert data["available_actions"] == ["dispatch", "accept", "copy", "mark-duplicate"]
    admin = await flow.client.get(
        f"{URL}/{flow.id}/process", headers=auth(world.admin_d, flow.clock)
    )
    assert "expedite" in admin.json()["available_actions"]
    assert "supervise" in admin.json()["available_actions"]
    assert "accept" not in admin.json()["available_actions"]


@pytest.fixture
async def committed_event(
    app: FastAPI, clock: MovableClock, real_client: AsyncClient
) -> AsyncIterator[tuple[Committed, dict[str, str]]]:
    """An event in a committed territory of its own, and its community staff's headers."""
    async with committed_territory(app, clock, region="652702", west=82.0, south=44.0) as data:
        async with system_session(app.state.sessionmaker) as session:
            community = await session.get_one(OrgUnit, data.community_id)
            staff = await make_user(session, roles=["community_staff"], unit=community)
            headers = auth(staff, clock)
        try:
            yield data, headers
        finally:
            await remove_events(data.grid_id)


async def test_racing_accepts_apply_once(
    real_client: AsyncClient, committed_event: tuple[Committed, dict[str, str]]
) -> None:
    """R-WF-1 conditional update: of two accepts racing on real commits exactly one applies."""
    data, staff_headers = committed_event
    created = await real_client.post(
        URL,
        json={
            "title": "并发事件",
            "category": "other",
            "subtype": "other",
            "grid_id": str(data.grid_id),
            "occurred_at": "2026-11-22T10:00:00+08:00",
            "description": "并发签收",
        },
        headers=data.headers,
    )
    assert created.status_code == 201, created.text
    path = f"{URL}/{created.json()['id']}/actions/accept"

    async def accept() -> int:
        r = await real_client.post(path, json=ACCEPT, headers=staff_headers)
        return r.status_code

    assert sorted(await asyncio.gather(accept(), accept())) == [200, 409]
    event = await real_client.get(f"{URL}/{created.json()['id']}", headers=data.headers)
    assert event.json()["version"] == 2
