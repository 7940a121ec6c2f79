"""R-CMD-1 the command centre's dashboard: counts per state and per child unit, red events,
workers on duty with their last positions and the caller's notices — polled with
`If-None-Match` (304 while nothing changes), and limited to the caller's jurisdiction."""

from datetime import timedelta
from typing import Any

from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.db import set_scope
from services.models import User
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user
from tests.routes.events import make_event
from tests.statements import recorded

URL = "/api/v1/command-centre/summary"
WHERE = {"type": "Point", "coordinates": [75.91, 39.41]}


async def board(client: AsyncClient, user: User, clock: MovableClock) -> dict[str, Any]:
    r = await client.get(URL, headers=auth(user, clock))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def poll(client: AsyncClient, user: User, clock: MovableClock, tag: str) -> int:
    r = await client.get(URL, headers={**auth(user, clock), "If-None-Match": tag})
    return r.status_code


async def etag(client: AsyncClient, user: User, clock: MovableClock) -> str:
    r = await client.get(URL, headers=auth(user, clock))
    assert r.status_code == 200, r.text
    return r.headers["etag"]


def unit(body: dict[str, Any], unit_id: Any) -> dict[str, Any]:
    (found,) = [u for u in body["units"] if u["unit_id"] == str(unit_id)]
    return found


async def test_r_cmd_1_unchanged_board_answers_304_and_a_change_a_new_etag(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    first = await client.get(URL, headers=headers)
    assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
    tag = first.headers["etag"]
    again = await client.get(URL, headers={**headers, "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag
    # Time passing alone does not change the document: the tag is stable.
    clock.advance(timedelta(minutes=5))
    later = await client.get(URL, headers={**auth(world.admin_d, clock), "If-None-Match": tag})
    assert later.status_code == 304
    await make_event(session, clock, world)
    changed = await client.get(URL, headers={**auth(world.admin_d, clock), "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert changed.json()["states"] == {"dispatch": 1} and changed.json()["open"] == 1
    # A weak form of the current tag, among others, matches as well.
    weak = f'"other", W/{changed.headers["etag"]}'
    r = await client.get(URL, headers={**auth(world.admin_d, clock), "If-None-Match": weak})
    assert r.status_code == 304


async def test_r_cmd_1_counts_per_child_unit_and_red_events(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_event(session, clock, world)
    red = await make_event(session, clock, world, title="占道经营")
    r = await client.post(
        f"/api/v1/events/{red['id']}/actions/supervise",
        json={"level": "red", "opinion": "立即处置"},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200, r.text
    body = await board(client, world.admin_d, clock)
    assert [u["unit_id"] for u in body["units"]] == [str(world.s1.id), str(world.s2.id)]
    assert unit(body, world.s1.id) | {"unit_id": None} == {
        "unit_id": None,
        "code": world.s1.code,
        "name": world.s1.name,
        "total": 2,
        "open": 2,
        "overdue": 1,
        "red": 1,
    }
    assert unit(body, world.s2.id)["total"] == 0
    (listed,) = body["red_events"]
    assert (listed["id"], listed["title"], listed["holder_unit_id"]) == (
        str(red["id"]),
        "占道经营",
        str(world.c1.id),
    )
    assert listed["holder_name"] == world.c1.name
    assert listed["red_since"] == "2026-11-23T10:00:00+08:00"
    # One level down from the street: its communities.
    street = await board(client, world.admin_s1, clock)
    assert [u["unit_id"] for u in street["units"]] == [str(world.c1.id), str(world.c2.id)]
    assert unit(street, world.c1.id)["red"] == 1


async def test_r_cmd_1_a_sibling_sees_only_its_own(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_event(session, clock, world)
    r = await client.put(
        "/api/v1/me/position", json={"location": WHERE}, headers=auth(world.worker_g1, clock)
    )
    assert r.status_code == 200, r.text
    sibling = await board(client, world.admin_s2, clock)
    assert sibling["states"] == {} and sibling["open"] == 0
    assert sibling["red_events"] == [] and sibling["workers"] == []
    assert [u["unit_id"] for u in sibling["units"]] == [str(world.c3.id)]
    assert unit(sibling, world.c3.id)["total"] == 0
    ancestor = await board(client, world.admin_d, clock)
    assert ancestor["states"] == {"dispatch": 1}


async def test_r_cmd_1_workers_on_duty_are_those_reporting_recently(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.put(
        "/api/v1/me/position", json={"location": WHERE}, headers=auth(world.worker_g1, clock)
    )
    assert r.status_code == 200, r.text
    body = await board(client, world.admin_s1, clock)
    assert body["workers_on_duty"] == 1
    (worker,) = body["workers"]
    assert worker["user_id"] == str(world.worker_g1.id)
    assert worker["location"] == WHERE
    assert worker["reported_at"] == "2026-11-23T10:00:00+08:00"
    clock.advance(timedelta(minutes=31))
    assert (await board(client, world.admin_s1, clock))["workers"] == []


async def test_r_cmd_1_the_callers_unread_notices(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    # Events arriving at C1 tell its staff (R-WF-5): they become the staff's notices.
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    first = await make_event(session, clock, world, title="第一件")
    clock.advance(timedelta(minutes=1))
    second = await make_event(session, clock, world, title="第二件")
    notices = (await board(client, staff, clock))["notices"]
    assert notices["unread"] == 2
    assert [n["kind"] for n in notices["latest"]] == ["event_dispatch", "event_dispatch"]
    # Newest first.
    assert [n["target_id"] for n in notices["latest"]] == [str(second["id"]), str(first["id"])]
    r = await client.post("/api/v1/notifications/read-all", headers=auth(staff, clock))
    assert r.status_code == 200
    assert (await board(client, staff, clock))["notices"] == {"unread": 0, "latest": []}
    # Another user's notices are not on my board.
    assert (await board(client, world.admin_d, clock))["notices"]["unread"] == 0


async def test_r_cmd_1_an_unchanged_poll_does_not_build_the_board(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    """At city scale the board groups every event in the jurisdiction: a 304 is decided by
    the fingerprint alone, with no statement reading the events."""
    await make_event(session, clock, world)
    tag = await etag(client, world.admin_d, clock)
    async with recorded(conn) as statements:
        assert await poll(client, world.admin_d, clock, tag) == 304
    assert any("board_versions" in statement for statement in statements)
    assert not any("FROM events" in statement for statement in statements)


async def test_r_cmd_1_every_input_of_the_board_changes_its_tag_and_a_siblings_does_not(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event_ = await make_event(session, clock, world)
    street, sibling = world.admin_s1, world.admin_s2
    tags = {user.id: await etag(client, user, clock) for user in (street, sibling)}

    async def changed(user: User) -> bool:
        status = await poll(client, user, clock, tags[user.id])
        if status == 200:
            tags[user.id] = await etag(client, user, clock)
        return status == 200

    # A card on the street's event.
    r = await client.post(
        f"/api/v1/events/{event_['id']}/actions/supervise",
        json={"level": "yellow", "opinion": "抓紧办理"},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200, r.text
    assert await changed(street) and not await changed(sibling)
    # A worker of the street reports a position; leaves the on-duty window 31 min later.
    r = await client.put(
        "/api/v1/me/position", json={"location": WHERE}, headers=auth(world.worker_g1, clock)
    )
    assert r.status_code == 200, r.text
    assert await changed(street) and not await changed(sibling)
    clock.advance(timedelta(minutes=31))
    assert await changed(street) and not await changed(sibling)
    # A community of the street renamed.
    await set_scope(session, "*")
    await session.execute(
        text("UPDATE org_units SET name = name || '（新）' WHERE id = :id"), {"id": world.c1.id}
    )
    assert await changed(street) and not await changed(sibling)
    # Nothing else: both stay.
    assert not await changed(street) and not await changed(sibling)


async def test_r_cmd_1_a_whole_tree_principal_polls_the_whole_tree(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The fingerprint is compiled once for callers who see everything and once for those
    who see a subtree: the first kind answers 304 as well, and a change anywhere is seen."""
    root = await make_user(session, roles=["admin"], superuser=True)
    tag = await etag(client, root, clock)
    assert await poll(client, root, clock, tag) == 304
    await make_event(session, clock, world)
    assert await poll(client, root, clock, tag) == 200
