"""R-WF-2 appeals: the unit whose step a verification judged unsatisfied or not implemented
may appeal once; a manager above both parties decides; both are recorded in the step history
(assessment reads them, §6) and notify the next actor (R-WF-5)."""

from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.models import EventAction, EventAppeal, User
from tests.api.test_routing import kinds
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.events import make_event
from tests.routes.places import audit_actions, count_rows

EVENTS = "/api/v1/events"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}


class Judged:
    """An event C1 handled and G1's grid worker judged; the users around it."""

    def __init__(self, client: AsyncClient, clock: MovableClock, event: dict[str, Any]) -> None:
        self.client, self.clock, self.event = client, clock, event
        self.url = f"{EVENTS}/{event['id']}/actions"

    async def act(self, user: User, action: str, body: dict[str, Any]) -> Any:
        return await self.client.post(
            f"{self.url}/{action}", json=body, headers=auth(user, self.clock)
        )


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


@pytest.fixture
async def street(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["street_operator"], unit=world.s1)


async def _judge(judged: Judged, staff: User, world: World, satisfaction: str) -> Any:
    for action, body in (("accept", ACCEPT), ("complete", {"result": "已调解"})):
        assert (await judged.act(staff, action, body)).status_code == 200
    verified = await judged.act(
        world.worker_g1, "verify", {"satisfaction": satisfaction, "method": "phone"}
    )
    assert verified.status_code == 200, verified.text
    return verified.json()


@pytest.fixture
async def judged(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    staff: User,
) -> Judged:
    flow = Judged(client, clock, await make_event(session, clock, world))
    await _judge(flow, staff, world, "unsatisfied")
    return flow


async def _history(session: AsyncSession, event_id: Any) -> list[tuple[str, dict[str, Any]]]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.execute(
        select(EventAction.action, EventAction.payload, EventAction.id)
        .where(EventAction.event_id == event_id)
        .order_by(EventAction.serial)
    )
    return [(r.action, {**r.payload, "_id": str(r.id)}) for r in rows]


async def test_r_wf_2_the_judged_unit_appeals_and_a_superior_upholds_it(
    session: AsyncSession, world: World, judged: Judged, staff: User, street: User
) -> None:
    appealed = await judged.act(staff, "appeal", {"reason": "居民恶意评价，已录音为证"})
    assert appealed.status_code == 200, appealed.text
    [appeal] = appealed.json()["appeals"]
    assert appeal["reason"] == "居民恶意评价，已录音为证" and appeal["upheld"] is None
    assert appeal["appellant_unit_id"] == str(world.c1.id)
    assert appeal["evaluator_unit_id"] == str(world.g1.id)
    # The appeal moves nothing: the event is back with the community, waiting for acceptance.
    assert appealed.json()["state"] == "pending_accept"
    # R-WF-5: the street, above both the community and its grid, is asked to decide.
    assert await kinds(session, street) == ["event_appeal"]
    decided = await judged.act(street, "decide-appeal", {"upheld": True, "note": "申诉成立"})
    assert decided.status_code == 200, decided.text
    [appeal] = decided.json()["appeals"]
    assert appeal["upheld"] is True and appeal["decided_at"] and appeal["decision_note"]
    assert "event_appeal_decided" in await kinds(session, staff)
    history = await _history(session, judged.event["id"])
    verify = next(p for a, p in history if a == "verify")
    filed = next(p for a, p in history if a == "appeal")
    ruling = next(p for a, p in history if a == "decide-appeal")
    assert filed["verify_action_id"] == verify["_id"] and filed["appeal_id"] == appeal["id"]
    assert ruling == {
        "upheld": True,
        "note": "申诉成立",
        "appeal_id": appeal["id"],
        "appeal_action_id": filed["_id"],
        "_id": ruling["_id"],
    }
    audited = [a for a in await audit_actions(session, judged.event["id"]) if "appeal" in a]
    assert audited == ["event.appeal", "event.decide-appeal"]
    # Decided once: there is nothing left to decide.
    again = await judged.act(street, "decide-appeal", {"upheld": False})
    assert_problem(again, 404, "appeal_not_found")


async def test_r_wf_2_only_the_judged_unit_appeals_and_only_once(
    session: AsyncSession, world: World, judged: Judged, staff: User, street: User
) -> None:
    assert_problem(await judged.act(street, "appeal", {"reason": "不服"}), 403, "action_not_yours")
    assert_problem(await judged.act(staff, "appeal", {}), 422, "event_action_invalid")
    assert (await judged.act(staff, "appeal", {"reason": "不服"})).status_code == 200
    before = await count_rows(session, EventAppeal)
    assert_problem(await judged.act(staff, "appeal", {"reason": "再次"}), 409, "appeal_exists")
    assert await count_rows(session, EventAppeal) == before


async def test_r_wf_2_the_parties_may_not_decide(
    session: AsyncSession, world: World, judged: Judged, staff: User, street: User
) -> None:
    assert (await judged.act(staff, "appeal", {"reason": "不服"})).status_code == 200
    leader_c1 = await make_user(session, roles=["leader"], unit=world.c1)
    # The community's staff and grid worker cannot supervise at all; a leader at the
    # community holds the permission but is a party.
    for party in (staff, world.worker_g1):
        assert_problem(
            await judged.act(party, "decide-appeal", {"upheld": True}), 403, "permission_denied"
        )
    assert_problem(
        await judged.act(leader_c1, "decide-appeal", {"upheld": True}), 403, "action_not_yours"
    )
    # A string is not a decision.
    assert_problem(
        await judged.act(street, "decide-appeal", {"upheld": "yes"}), 422, "validation_failed"
    )
    # A sibling street's manager does not even see the event.
    assert_problem(
        await judged.act(world.admin_s2, "decide-appeal", {"upheld": True}), 404, "event_not_found"
    )


async def test_r_wf_2_nothing_to_appeal_without_an_adverse_verification(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    flow = Judged(client, clock, await make_event(session, clock, world))
    assert_problem(
        await flow.act(staff, "appeal", {"reason": "不服"}), 404, "verification_not_found"
    )
    closed = await _judge(flow, staff, world, "satisfied")
    assert closed["state"] == "closed"
    assert_problem(
        await flow.act(staff, "appeal", {"reason": "不服"}), 404, "verification_not_found"
    )


async def test_r_wf_2_an_appeal_may_follow_a_not_implemented_verdict_after_closing(
    session: AsyncSession, world: World, judged: Judged, staff: User, street: User
) -> None:
    # Handled again and closed satisfied; the first verdict can still be appealed.
    await _judge(judged, staff, world, "satisfied")
    appealed = await judged.act(staff, "appeal", {"reason": "第一次评价不实"})
    assert appealed.status_code == 200, appealed.text
    assert appealed.json()["state"] == "closed"
    process = await judged.client.get(
        f"{EVENTS}/{judged.event['id']}/process", headers=auth(street, judged.clock)
    )
    assert "decide-appeal" in process.json()["available_actions"]
