"""R-EVT-3 likely duplicates: open events of the same category within the radius (metres on
the sphere) and the time window — both settings — are offered at report time and on request,
nearest first, inside the caller's jurisdiction only; `mark-duplicate` closes an event as a
duplicate of its original, guarded (not itself, not a duplicate, not an original of others,
in jurisdiction), and its reporter hears when the original closes."""

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services import duplicates, events
from services.db import set_scope
from services.models import Event, User
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user, system_ctx
from tests.routes.events import OCCURRED, event_body, make_event
from tests.routes.places import audit_actions

EVENTS = "/api/v1/events"
# In grid G2 (street S1), about 50 m west of the S1 | S2 border (grid G3 of S2 lies east).
ORIGIN = Point(75.99942, 39.42)
_PROJECT = text(
    "SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Project(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"
    "::geography, :metres, radians(:bearing))::geometry AS g) AS p"
)


async def away(session: AsyncSession, metres: float, bearing: float = 270) -> Point:
    """The point `metres` from ORIGIN on the spheroid (west by default, inside S1)."""
    row = (
        await session.execute(
            _PROJECT, {"lon": ORIGIN.x, "lat": ORIGIN.y, "metres": metres, "bearing": bearing}
        )
    ).one()
    return Point(row[0], row[1])


def geojson(point: Point) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [point.x, point.y]}


async def _event(
    session: AsyncSession, clock: MovableClock, world: World, where: Point, **values: Any
) -> Any:
    grid = world.g3 if where.x >= 76.0 else world.g2
    return (await make_event(session, clock, world, grid_id=grid.id, location=where, **values))[
        "id"
    ]


@pytest.fixture
async def scene(session: AsyncSession, clock: MovableClock, world: World) -> dict[str, Any]:
    """The origin and its neighbours, each differing from a likely duplicate in one way."""
    ids = {
        "origin": await _event(session, clock, world, ORIGIN),
        "near": await _event(session, clock, world, await away(session, 60)),
        "edge": await _event(session, clock, world, await away(session, 195)),
        "far": await _event(session, clock, world, await away(session, 205)),
        "other_category": await _event(
            session,
            clock,
            world,
            await away(session, 30),
            category="livelihood",
            subtype="education",
        ),
        "week_before": await _event(
            session, clock, world, await away(session, 40), occurred_at=OCCURRED - timedelta(7)
        ),
        "too_early": await _event(
            session,
            clock,
            world,
            await away(session, 40),
            occurred_at=OCCURRED - timedelta(days=7, minutes=1),
        ),
        "week_after": await _event(
            session, clock, world, await away(session, 45), occurred_at=OCCURRED + timedelta(7)
        ),
        # Across the street border, 70 m east: in S2's jurisdiction.
        "sibling": await _event(session, clock, world, await away(session, 70, bearing=90)),
        "unplaced": (await make_event(session, clock, world, grid_id=world.g2.id))["id"],
    }
    ctx = await system_ctx(session, clock)
    closed = await events.report_event(
        ctx,
        {
            "title": "已处置",
            "category": "dispute",
            "subtype": "neighbour",
            "grid_id": world.g2.id,
            "occurred_at": OCCURRED,
            "description": "当场化解",
            "location": await away(session, 20),
        },
        resolve_on_spot=True,
        result="已调解",
    )
    ids["closed"] = closed["id"]
    return ids


async def _suggested(client: AsyncClient, user: User, clock: MovableClock, event_id: Any) -> Any:
    r = await client.get(f"{EVENTS}/{event_id}/duplicates", headers=auth(user, clock))
    assert r.status_code == 200, r.text
    return r.json()


async def test_r_evt_3_suggestions_at_the_radius_and_window_boundaries(
    client: AsyncClient, world: World, clock: MovableClock, scene: dict[str, Any]
) -> None:
    found = await _suggested(client, world.admin_d, clock, scene["origin"])
    names = {str(v): k for k, v in scene.items()}
    # Nearest first; 205 m, another category, 7 days and a minute, closed: not offered.
    assert [(names[d["id"]], d["distance_m"]) for d in found] == [
        ("week_before", 40),
        ("week_after", 45),
        ("near", 60),
        ("sibling", 70),
        ("edge", 195),
    ]
    # Street S1's admin does not see S2's event, so it is not offered to them.
    s1 = await _suggested(client, world.admin_s1, clock, scene["origin"])
    assert "sibling" not in {names[d["id"]] for d in s1} and len(s1) == len(found) - 1
    assert await _suggested(client, world.admin_d, clock, scene["unplaced"]) == []


async def test_r_evt_3_radius_and_window_are_settings(
    client: AsyncClient, world: World, clock: MovableClock, scene: dict[str, Any]
) -> None:
    admin = auth(world.admin_d, clock)
    for key, value in (("event_duplicate_radius_m", 210), ("event_duplicate_window_days", 8)):
        r = await client.put(f"/api/v1/settings/{key}", json={"value": value}, headers=admin)
        assert r.status_code == 200, r.text
    found = {str(d["id"]) for d in await _suggested(client, world.admin_d, clock, scene["origin"])}
    assert {str(scene["far"]), str(scene["too_early"])} <= found
    assert str(scene["other_category"]) not in found and str(scene["closed"]) not in found
    bad = await client.put(
        "/api/v1/settings/event_duplicate_radius_m", json={"value": 0}, headers=admin
    )
    assert_problem(bad, 422, "setting_value_invalid")


async def test_r_evt_3_a_new_report_lists_its_likely_duplicates(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    scene: dict[str, Any],
) -> None:
    r = await client.post(
        EVENTS,
        json=event_body(world.g2.id, location=geojson(await away(session, 100))),
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 201, r.text
    names = {str(v): k for k, v in scene.items()}
    offered = [(names[d["id"]], d["distance_m"]) for d in r.json()["likely_duplicates"]]
    # 100 m west of the origin: the sibling street's event (170 m) is not S1's to see.
    assert offered == [
        ("near", 40),
        ("week_after", 55),
        ("week_before", 60),
        ("edge", 95),
        ("origin", 100),
        ("far", 105),
    ]


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> User:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def _mark(
    client: AsyncClient,
    user: User,
    clock: MovableClock,
    event_id: Any,
    original: Any,
    **headers: str,
) -> Any:
    return await client.post(
        f"{EVENTS}/{event_id}/actions/mark-duplicate",
        json={"duplicate_of": str(original)} if original is not None else {},
        headers={**auth(user, clock), **headers},
    )


async def test_r_evt_3_mark_duplicate_closes_it_and_points_at_the_original(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    scene: dict[str, Any],
    staff: User,
) -> None:
    r = await _mark(client, staff, clock, scene["near"], scene["origin"])
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["state"] == "closed" and event["duplicate_of"] == str(scene["origin"])
    assert event["steps"][-1]["outcome"] == "mark-duplicate"
    assert event["steps"][-1]["finished_at"] is not None and event["light"] is None
    assert "event.mark-duplicate" in await audit_actions(session, scene["near"])
    # A duplicate is no longer offered as one.
    found = await _suggested(client, world.admin_d, clock, scene["origin"])
    assert str(scene["near"]) not in {d["id"] for d in found}


async def test_r_evt_3_linking_guards(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    scene: dict[str, Any],
    staff: User,
) -> None:
    assert (await _mark(client, staff, clock, scene["near"], scene["origin"])).status_code == 200
    cases = [
        (scene["edge"], scene["edge"], "duplicate_of_itself"),
        (scene["edge"], scene["near"], "duplicate_of_duplicate"),
        (scene["origin"], scene["edge"], "duplicate_has_duplicates"),
        # S1's staff cannot see S2's event, nor one that does not exist.
        (scene["edge"], scene["sibling"], "duplicate_original_not_found"),
        (scene["edge"], "00000000-0000-4000-8000-000000000000", "duplicate_original_not_found"),
    ]
    for event_id, original, code in cases:
        before = (await client.get(f"{EVENTS}/{event_id}", headers=auth(staff, clock))).json()
        body = assert_problem(await _mark(client, staff, clock, event_id, original), 422, code)
        assert body["errors"][0]["field"] == "duplicate_of"
        after = (await client.get(f"{EVENTS}/{event_id}", headers=auth(staff, clock))).json()
        assert after["version"] == before["version"] and after["state"] == before["state"]
    missing = await _mark(client, staff, clock, scene["edge"], None)
    assert_problem(missing, 422, "event_action_invalid")
    closed = await _mark(client, staff, clock, scene["closed"], scene["origin"])
    assert_problem(closed, 409, "transition_not_allowed")
    # The grid's own worker neither holds nor oversees the community's step.
    worker = await make_user(session, roles=["grid_worker"], unit=world.g2)
    refused = await _mark(client, worker, clock, scene["edge"], scene["origin"])
    assert_problem(refused, 403, "action_not_yours")
    stale = await _mark(client, staff, clock, scene["edge"], scene["origin"], **{"If-Match": '"9"'})
    assert_problem(stale, 412, "precondition_failed")


async def _notices(client: AsyncClient, user: User, clock: MovableClock) -> list[Any]:
    r = await client.get("/api/v1/notifications", headers=auth(user, clock))
    assert r.status_code == 200, r.text
    return [n for n in r.json()["items"] if n["kind"] == "event_duplicate_closed"]


async def test_r_evt_3_the_reporter_hears_when_the_original_closes(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: User
) -> None:
    # A city-component event closes on completion (no verification).
    original = await make_event(
        session, clock, world, category="city_component", subtype="manhole_cover"
    )
    reported = await client.post(
        EVENTS, json=event_body(world.g1.id), headers=auth(world.worker_g1, clock)
    )
    duplicate = reported.json()["id"]
    assert (await _mark(client, staff, clock, duplicate, original["id"])).status_code == 200
    assert await _notices(client, world.worker_g1, clock) == []
    base = f"{EVENTS}/{original['id']}/actions"
    headers = auth(staff, clock)
    accepted = await client.post(
        f"{base}/accept",
        json={"responsible_person": "李强", "responsible_phone": "13900002222"},
        headers=headers,
    )
    assert accepted.status_code == 200, accepted.text
    done = await client.post(f"{base}/complete", json={"result": "已更换井盖"}, headers=headers)
    assert done.json()["state"] == "closed", done.text
    [notice] = await _notices(client, world.worker_g1, clock)
    assert notice["target_id"] == duplicate and original["service_no"] in notice["body"]
    # Linked to an original that is already closed: the reporter hears at once.
    late = await client.post(
        EVENTS, json=event_body(world.g1.id), headers=auth(world.worker_g1, clock)
    )
    assert (await _mark(client, staff, clock, late.json()["id"], original["id"])).status_code == 200
    assert len(await _notices(client, world.worker_g1, clock)) == 2


async def test_r_evt_3_the_search_can_use_the_spatial_index_under_rls(
    session: AsyncSession, world: World, clock: MovableClock, scene: dict[str, Any]
) -> None:
    """The radius test as the service builds it, run by the application role under
    row-level security: the GiST index on the location can answer it (through the leakproof
    bounding box). The role may not ANALYZE fresh rows, so sequential scans are taken off
    to ask whether the index CAN answer."""
    within_radius, _ = duplicates.near(ORIGIN.wkt, 200)
    stmt = select(Event.id).where(within_radius)
    sql = str(
        stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    )
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await set_scope(session, world.s1.path)
    plan = "\n".join((await session.execute(text("EXPLAIN " + sql))).scalars())
    assert "Index Scan using ix_events_location" in plan, plan
