"""R-WF-5: each non-final transition notifies its next actor in-app (and by SMS): the new
step's holder, the originating community when the work is done, the units copied, the
handlers on an instruction, expedite or supervision; the final one (closing) tells nobody,
and nobody is told of their own action."""

from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.api.test_routing import kinds
from tests.api.test_sweep import act as act_now
from tests.conftest import MovableClock
from tests.factories import World, make_user
from tests.routes.events import make_event

ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}


async def act(client: AsyncClient, user: Any, clock: MovableClock, *args: Any) -> None:
    """Act, then let a minute pass: notifications are listed in the order they were sent."""
    await act_now(client, user, clock, *args)
    clock.advance(timedelta(minutes=1))


async def test_r_wf_5_the_next_actor_hears_of_each_transition(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    other_staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    street = await make_user(session, roles=["street_operator"], unit=world.s1)
    neighbour = await make_user(session, roles=["community_staff"], unit=world.c2)
    leader = await make_user(session, roles=["leader"], unit=world.district)
    event = await make_event(session, clock, world)
    event_id = event["id"]
    # Reported by the system: both of the community's staff are asked to dispatch it.
    assert await kinds(session, staff) == ["event_dispatch"]
    await act(client, staff, clock, event_id, "accept", ACCEPT)
    await act(client, leader, clock, event_id, "instruct", {"text": "务必三日内化解"})
    await act(client, street, clock, event_id, "expedite")
    await act(client, street, clock, event_id, "supervise", {"level": "yellow", "opinion": "加快"})
    expected_other = [
        "event_dispatch",
        "event_instruction",
        "event_expedited",
        "event_supervised",
    ]
    assert await kinds(session, other_staff) == expected_other
    assert await kinds(session, staff) == expected_other
    await act(client, staff, clock, event_id, "escalate")
    assert await kinds(session, street) == ["event_dispatch"]
    await act(client, street, clock, event_id, "accept", ACCEPT)
    await act(client, street, clock, event_id, "copy", {"unit_ids": [str(world.c2.id)]})
    assert await kinds(session, neighbour) == ["event_copied"]
    # The street is not told of its own copy.
    assert await kinds(session, street) == ["event_dispatch"]
    await act(client, street, clock, event_id, "complete", {"result": "已化解"})
    # Done: the originating community (its staff and grid worker) is asked to verify.
    assert (await kinds(session, world.worker_g1))[-1] == "event_verify"
    assert (await kinds(session, other_staff))[-1] == "event_verify"
    before = await kinds(session, street)
    await act(
        client,
        world.worker_g1,
        clock,
        event_id,
        "verify",
        {"satisfaction": "satisfied", "method": "phone"},
    )
    # Closing is final: nobody acts next.
    assert await kinds(session, street) == before
