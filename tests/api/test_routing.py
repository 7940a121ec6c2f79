"""R-WF-3 routing: rules maintained per subtree decide where a reported or escalated event
arrives; an event no rule matches waits in the arrival unit's manual dispatch queue, whose
staff are reminded and dispatch it by hand. R-WF-5: whoever receives the event is told."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.models import EventAction, Notification, OutboxMessage, RoutingRule, User
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.events import event_body, make_event
from tests.routes.places import audit_actions, count_rows
from tests.routes.routing import URL, make_rule, rule_body

EVENTS = "/api/v1/events"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}


async def notifications(session: AsyncSession, user: User) -> list[tuple[str, str]]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.execute(
        select(Notification.kind, Notification.body)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at, Notification.id)
    )
    return [(r.kind, r.body) for r in rows]


async def kinds(session: AsyncSession, user: User) -> list[str]:
    return [kind for kind, _ in await notifications(session, user)]


async def report(client: AsyncClient, user: User, clock: MovableClock, **values: Any) -> Any:
    world_grid = values.pop("grid_id")
    r = await client.post(EVENTS, json=event_body(world_grid, **values), headers=auth(user, clock))
    assert r.status_code == 201, r.text
    return r.json()


async def test_r_wf_3_rule_crud_is_validated_versioned_and_audited(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    headers = auth(operator, clock)
    body = rule_body(world, subtype="labour", keywords=[" 讨薪 ", "欠薪", "讨薪"])
    created = await client.post(URL, json=body, headers=headers)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["keywords"] == ["讨薪", "欠薪"] and rule["enabled"] is True
    assert created.headers["ETag"] == '"1"'
    stale = await client.patch(
        f"{URL}/{rule['id']}", json={"priority": 1}, headers={**headers, "If-Match": '"0"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    changed = await client.patch(
        f"{URL}/{rule['id']}",
        json={"priority": 1, "keywords": None},
        headers={**headers, "If-Match": '"1"'},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["priority"] == 1 and changed.json()["keywords"] is None
    listed = await client.get(URL, params={"q": "labour"}, headers=headers)
    assert [i["id"] for i in listed.json()["items"]] == [rule["id"]]
    deleted = await client.delete(f"{URL}/{rule['id']}", headers={**headers, "If-Match": '"2"'})
    assert deleted.status_code == 204, deleted.text
    assert await audit_actions(session, rule["id"]) == [
        "routing_rule.create",
        "routing_rule.update",
        "routing_rule.delete",
    ]


async def test_r_wf_3_bad_rules_are_refused_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    before = await count_rows(session, RoutingRule)
    cases = [
        (rule_body(world, level="grid"), 422, "routing_rule_invalid", "level"),
        # A street's rule cannot act for the district command centre above it.
        (rule_body(world, level="district"), 422, "routing_rule_invalid", "level"),
        (rule_body(world, subtype="theft"), 422, "event_subtype_unknown", "subtype"),
        (
            rule_body(world, target_unit_id=str(world.c1.id)),
            422,
            "routing_rule_invalid",
            "target_unit_id",
        ),
        # S1 may not send its events to S2's community.
        (
            rule_body(world, target_department_id=None, target_unit_id=str(world.c3.id)),
            422,
            "routing_rule_invalid",
            "target_unit_id",
        ),
        (rule_body(world, keywords=[" "]), 422, "routing_rule_invalid", "keywords"),
        (rule_body(world, colour="red"), 422, "validation_failed", "colour"),
    ]
    for body, status, code, field in cases:
        problem = assert_problem(await client.post(URL, json=body, headers=headers), status, code)
        assert field in {e["field"].split(".")[-1] for e in problem["errors"]}, problem
    english = await client.post(
        URL, json=rule_body(world, level="grid"), headers={**headers, "Accept-Language": "en"}
    )
    assert "community, street or district" in english.json()["errors"][0]["message"]
    assert await count_rows(session, RoutingRule) == before


async def test_r_wf_3_a_matching_rule_sends_the_report_straight_to_its_target(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    handler = await make_user(
        session, roles=["department_handler"], department=world.dept_s1, phone="13800000001"
    )
    rule = await make_rule(session, clock, world)
    event = await report(client, world.worker_g1, clock, grid_id=world.g1.id)
    assert event["state"] == "pending_accept"
    assert event["current_step"] == {
        "id": event["steps"][0]["id"],
        "unit_id": None,
        "department_id": str(world.dept_s1.id),
    }
    assert event["steps"][0]["routing_rule_id"] == str(rule["id"])
    await set_scope(session, SYSTEM_SCOPE)
    payload = await session.scalar(
        select(EventAction.payload).where(EventAction.event_id == event["id"])
    )
    assert payload == {"routing_rule_id": str(rule["id"])}
    # R-WF-5: the department is told in-app, and by SMS through the outbox.
    [(kind, body)] = await notifications(session, handler)
    assert kind == "event_assigned" and event["service_no"] in body
    sms = (
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.payload["event_id"].astext == event["id"])
        )
    ).all()
    # The message names the handler, whose number is read when it goes out (R-JUR-3).
    assert [m.payload["user_id"] for m in sms] == [str(handler.id)]
    assert "13800000001" not in str(sms[0].payload)
    assert sms[0].kind == "sms" and sms[0].sent_at is None
    # The department accepts it; it was never in a dispatch queue.
    accepted = await client.post(
        f"{EVENTS}/{event['id']}/actions/accept", json=ACCEPT, headers=auth(handler, clock)
    )
    assert accepted.status_code == 200, accepted.text


async def test_r_wf_3_the_most_specific_enabled_rule_of_the_events_area_wins(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_rule(session, clock, world, target_department_id=None, target_unit_id=world.s1.id)
    by_keyword = await make_rule(session, clock, world, keywords=["堆放"])
    await make_rule(
        session,
        clock,
        world,
        keywords=["楼道"],
        enabled=False,
        target_department_id=None,
        target_unit_id=world.s1.id,
    )
    event = await report(client, world.worker_g1, clock, grid_id=world.g1.id)
    assert event["steps"][0]["routing_rule_id"] == str(by_keyword["id"])
    other = await report(
        client, world.worker_g1, clock, grid_id=world.g1.id, title="噪音扰民", description="夜间"
    )
    assert other["current_step"]["unit_id"] == str(world.s1.id)
    # S2's rules do not reach S1's grids, and a rule of another category does not apply.
    await make_rule(
        session,
        clock,
        world,
        owner_unit_id=world.s2.id,
        category="security_hazard",
        target_department_id=None,
        target_unit_id=world.c3.id,
    )
    hazard = await report(
        client,
        world.worker_g1,
        clock,
        grid_id=world.g1.id,
        category="security_hazard",
        subtype="theft",
    )
    assert hazard["state"] == "dispatch"


async def test_r_wf_3_unmatched_events_wait_in_the_dispatch_queue_and_are_dispatched(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    event = await report(client, world.worker_g1, clock, grid_id=world.g1.id)
    assert event["state"] == "dispatch"
    assert event["current_step"]["unit_id"] == str(world.c1.id)
    # The community's dispatchers are reminded; the reporter is not told of their own report.
    assert await kinds(session, staff) == ["event_dispatch"]
    assert await kinds(session, world.worker_g1) == []

    async def queue(user: User) -> list[str]:
        r = await client.get(EVENTS, params={"box": "dispatch"}, headers=auth(user, clock))
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await queue(staff) == [event["id"]]
    assert await queue(street) == [event["id"]]
    assert await queue(world.admin_s2) == []
    url = f"{EVENTS}/{event['id']}/actions/dispatch"
    assert_problem(
        await client.post(url, json={"unit_id": str(world.c1.id)}, headers=auth(staff, clock)),
        422,
        "event_target_invalid",
    )
    assert_problem(
        await client.post(url, json={}, headers=auth(staff, clock)), 422, "event_action_invalid"
    )
    # A community dispatches inside its own area; the street's departments are the street's.
    assert_problem(
        await client.post(
            url, json={"department_id": str(world.dept_s1.id)}, headers=auth(staff, clock)
        ),
        422,
        "event_target_invalid",
    )
    dispatched = await client.post(
        url, json={"unit_id": str(world.g1.id)}, headers=auth(staff, clock)
    )
    assert dispatched.status_code == 200, dispatched.text
    data = dispatched.json()
    assert data["state"] == "pending_accept"
    assert data["steps"][0]["outcome"] == "dispatch" and data["steps"][0]["finished_at"]
    assert data["current_step"]["unit_id"] == str(world.g1.id)
    assert await kinds(session, world.worker_g1) == ["event_assigned"]
    assert await queue(staff) == []
    again = await client.post(url, json={"unit_id": str(world.g2.id)}, headers=auth(staff, clock))
    assert_problem(again, 409, "transition_not_allowed")


async def test_r_wf_3_a_street_dispatches_its_queue_to_its_departments(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    event = await make_event(session, clock, world)
    # The street, as a dispatcher above the community, may dispatch the community's queue.
    dispatched = await client.post(
        f"{EVENTS}/{event['id']}/actions/dispatch",
        json={"department_id": str(world.dept_s1.id), "note": "派出所处置"},
        headers=auth(street, clock),
    )
    assert dispatched.status_code == 200, dispatched.text
    assert dispatched.json()["current_step"]["department_id"] == str(world.dept_s1.id)
    assert await kinds(session, handler) == ["event_assigned"]
    assert "event_assigned" not in await kinds(session, staff)


async def test_r_wf_3_the_queue_holder_may_take_the_event_on_itself(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    event = await make_event(session, clock, world)
    accepted = await client.post(
        f"{EVENTS}/{event['id']}/actions/accept", json=ACCEPT, headers=auth(staff, clock)
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "handling"
    assert accepted.json()["steps"][0]["accept_yellow_at"] is None


async def test_r_wf_3_escalation_arrives_through_the_streets_rules(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    await make_rule(session, clock, world, level="street", category="security_hazard")
    routed = await make_event(session, clock, world, category="security_hazard", subtype="theft")
    plain = await make_event(session, clock, world)
    for event in (routed, plain):
        url = f"{EVENTS}/{event['id']}/actions"
        assert (
            await client.post(f"{url}/accept", json=ACCEPT, headers=auth(staff, clock))
        ).is_success
    up = await client.post(
        f"{EVENTS}/{routed['id']}/actions/escalate", json={}, headers=auth(staff, clock)
    )
    assert up.status_code == 200, up.text
    assert up.json()["state"] == "pending_accept"
    assert up.json()["current_step"]["department_id"] == str(world.dept_s1.id)
    unrouted = await client.post(
        f"{EVENTS}/{plain['id']}/actions/escalate", json={}, headers=auth(staff, clock)
    )
    assert unrouted.json()["state"] == "dispatch"
    assert unrouted.json()["current_step"]["unit_id"] == str(world.s1.id)
    assert await kinds(session, street) == ["event_dispatch"]


async def test_r_wf_3_an_explicit_target_overrides_the_rules(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    await make_rule(session, clock, world, target_department_id=None, target_unit_id=world.s1.id)
    event = await report(
        client, street, clock, grid_id=world.g1.id, target_department_id=str(world.dept_s1.id)
    )
    assert event["state"] == "pending_accept"
    assert event["current_step"]["department_id"] == str(world.dept_s1.id)
    assert event["steps"][0]["routing_rule_id"] is None
    # A target that does not cover the event's grid (S2's community) is refused.
    refused = await client.post(
        EVENTS,
        json=event_body(world.g1.id, target_unit_id=str(world.c3.id)),
        headers=auth(world.admin_d, clock),
    )
    assert_problem(refused, 422, "event_target_invalid")


async def test_r_wf_4_the_category_process_binding_is_a_setting(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    bad = await client.put(
        "/api/v1/settings/event_processes", json={"value": {"dispute": "nope"}}, headers=headers
    )
    assert_problem(bad, 422, "setting_value_invalid")
    put = await client.put(
        "/api/v1/settings/event_processes",
        json={"value": {"dispute": "component"}},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    event = await report(client, world.worker_g1, clock, grid_id=world.g1.id)
    assert event["process"] == "component"
    hazard = await report(
        client,
        world.worker_g1,
        clock,
        grid_id=world.g1.id,
        category="city_component",
        subtype="other",
    )
    # Left out of the binding: the default process.
    assert hazard["process"] == "default"
