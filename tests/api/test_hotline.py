"""R-CIT-1 hotline: the caller looked up (new, or known with their calls in the operator's
jurisdiction, masked), the call registered with its nature and call-back data, its event in
the normal workflow (none for a nuisance call), the call-back recorded once the event is
handled, and the call-backs owed listed."""

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import Event, HotlineCall
from tests.api.test_sweep import act
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.citizens import CALLER, URL, call_body
from tests.routes.places import audit_actions, count_rows

ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}


async def register(client: AsyncClient, user: Any, clock: MovableClock, body: Any) -> Any:
    r = await client.post(URL, json=body, headers=auth(user, clock))
    assert r.status_code == 201, r.text
    return r.json()


async def test_r_cit_1_a_call_is_looked_up_registered_and_remembered(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    headers = auth(operator, clock)
    lookup = "/api/v1/hotline/callers"
    new = await client.get(lookup, params={"phone": CALLER}, headers=headers)
    assert new.json() == {"known": False, "caller": None, "calls": []}
    call = await register(client, operator, clock, call_body(world))
    assert call["nature"] == "callback" and call["service_no"] and call["event_state"] == "dispatch"
    # The operator holds no pii:read: the caller's number comes back masked.
    assert call["caller_phone"] == "137****1234"
    event = (await client.get(f"/api/v1/events/{call['event_id']}", headers=headers)).json()
    assert event["source"] == "hotline" and event["grid_id"] == str(world.g1.id)
    known = (await client.get(lookup, params={"phone": CALLER}, headers=headers)).json()
    assert known["known"] is True and [c["id"] for c in known["calls"]] == [call["id"]]
    # A sibling street's operator knows the number, but not the calls in S1.
    sibling = await make_user(session, roles=["street_operator"], unit=world.s2)
    elsewhere = await client.get(lookup, params={"phone": CALLER}, headers=auth(sibling, clock))
    assert elsewhere.json()["known"] is True and elsewhere.json()["calls"] == []
    assert await audit_actions(session, call["id"]) == ["hotline.call"]


async def test_r_cit_1_nuisance_calls_report_nothing(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    events_before = await count_rows(session, Event)
    nuisance = call_body(world, nature="nuisance", event=None, callback_phone=None)
    call = await register(client, operator, clock, nuisance)
    assert call["event_id"] is None and call["nature"] == "nuisance"
    assert await count_rows(session, Event) == events_before
    listed = await client.get(URL, params={"nature": "nuisance"}, headers=auth(operator, clock))
    assert [c["id"] for c in listed.json()["items"]] == [call["id"]]


async def test_r_cit_1_bad_calls_are_refused_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    headers = auth(operator, clock)
    cases = [
        (call_body(world, nature="nuisance"), "hotline_call_invalid", "event"),
        (call_body(world, event=None), "hotline_call_invalid", "event"),
        (call_body(world, callback_phone=None), "hotline_call_invalid", "callback_phone"),
    ]
    for bad, code, field in cases:
        problem = assert_problem(await client.post(URL, json=bad, headers=headers), 422, code)
        assert field in {e["field"] for e in problem["errors"]}
    assert_problem(
        await client.post(URL, json=call_body(world, caller_phone="call me"), headers=headers),
        422,
        "validation_failed",
    )
    # A grid outside the operator's street does not exist for them.
    elsewhere = call_body(world)
    elsewhere["event"]["grid_id"] = str(world.g3.id)
    assert_problem(
        await client.post(URL, json=elsewhere, headers=headers), 404, "org_unit_not_found"
    )
    assert await count_rows(session, HotlineCall) == 0
    # A grid worker is no hotline operator.
    assert_problem(
        await client.post(URL, json=call_body(world), headers=auth(world.worker_g1, clock)),
        403,
        "permission_denied",
    )


async def test_r_cit_1_the_call_back_follows_the_handled_event_once(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    call = await register(client, operator, clock, call_body(world))
    url = f"{URL}/{call['id']}/callback"
    headers = auth(operator, clock)
    done = {"reached": True, "satisfaction": "satisfied", "note": "来电人表示满意"}
    assert_problem(await client.post(url, json=done, headers=headers), 409, "callback_not_due")
    owed = await client.get(URL, params={"callback_due": "true"}, headers=headers)
    assert owed.json()["items"] == []
    await act(client, staff, clock, call["event_id"], "accept", ACCEPT)
    await act(client, staff, clock, call["event_id"], "complete", {"result": "已协调停工"})
    owed = await client.get(URL, params={"callback_due": "true"}, headers=headers)
    assert [c["id"] for c in owed.json()["items"]] == [call["id"]]
    assert_problem(
        await client.post(url, json={"reached": True}, headers=headers),
        422,
        "hotline_call_invalid",
    )
    stale = await client.post(url, json=done, headers={**headers, "If-Match": '"7"'})
    assert_problem(stale, 412, "precondition_failed")
    recorded = await client.post(url, json=done, headers={**headers, "If-Match": '"1"'})
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["callback_satisfaction"] == "satisfied"
    assert recorded.json()["called_back_at"] and recorded.headers["ETag"] == '"2"'
    assert_problem(await client.post(url, json=done, headers=headers), 409, "callback_done")
    owed = await client.get(URL, params={"callback_due": "true"}, headers=headers)
    assert owed.json()["items"] == []
    assert await audit_actions(session, call["id"]) == ["hotline.call", "hotline.callback"]
