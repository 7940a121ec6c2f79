"""R-MOB-1 the grid worker's app: my grid's summary, look-ups limited to my grid, events
reported at a GPS point (GCJ-02 converted, the grid found from the point), the one-tap alarm,
the visit log linked to people and houses of the grid, check-in/check-out (one open at a
time), GPS tracks uploaded in batches (nothing stored twice) and played back by supervisors
only within jurisdiction, the handbooks, and my history; every write audited (R-AUD-1)."""

from datetime import UTC, datetime, timedelta
from typing import Any

import prcoords
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import CheckIn, Event, TrackPoint, VisitLog
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.mobile import DAY, IN_G1, at, make_handbook, make_visit, visit_body
from tests.routes.people import make_person
from tests.routes.places import audit_actions

M = "/api/v1/mobile"
IN_G2 = (75.971, 39.421)


async def count(session: AsyncSession, model: Any) -> int:
    await set_scope(session, "*")
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def event_body(location: dict[str, Any], **values: Any) -> dict[str, Any]:
    return {
        "title": "路灯损坏",
        "category": "city_component",
        "subtype": "street_light",
        "occurred_at": "2026-11-23T09:30:00+08:00",
        "location": location,
        **values,
    }


async def test_r_mob_1_summary_counts_my_grid_and_my_work(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await make_person(session, clock, world.g1)
    await make_person(session, clock, world.g2, name="李四")
    headers = auth(world.worker_g1, clock)
    await client.post(f"{M}/events", json=event_body(at(*IN_G1)), headers=headers)
    await client.post(f"{M}/check-ins", json={"location": at(*IN_G1)}, headers=headers)
    r = await client.get(f"{M}/summary", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["unit"]["id"] == str(world.g1.id)
    assert (body["people"], body["houses"], body["places"], body["open_events"]) == (1, 0, 0, 1)
    assert body["open_check_in"]["in_location"]["coordinates"] == list(IN_G1)
    # The community's dispatcher holds the event, not the worker.
    assert body["todo"] == 0


async def test_r_mob_1_look_ups_stay_in_my_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    mine = await make_person(session, clock, world.g1, name="王小明")
    await make_person(session, clock, world.g2, name="王大明")
    r = await client.get("/api/v1/people", params={"q": "王"}, headers=auth(world.worker_g1, clock))
    assert [p["id"] for p in r.json()["items"]] == [str(mine["id"])]
    other = await client.get(
        "/api/v1/people", params={"q": "王"}, headers=auth(world.admin_s1, clock)
    )
    assert other.json()["total"] == 2


async def test_r_mob_1_gcj02_report_is_converted_and_lands_in_the_covering_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    gcj = prcoords.wgs_gcj(prcoords.Coords(IN_G1[1], IN_G1[0]))
    r = await client.post(
        f"{M}/events",
        json=event_body(at(gcj.lon, gcj.lat), crs="gcj02"),
        headers=auth(world.worker_g1, clock),
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["grid_id"] == str(world.g1.id) and event["source"] == "app"
    lon, lat = event["location"]["coordinates"]
    assert abs(lon - IN_G1[0]) < 1e-6 and abs(lat - IN_G1[1]) < 1e-6
    # The raw GCJ-02 numbers are hundreds of metres off: they were not stored as given.
    assert abs(gcj.lon - IN_G1[0]) > 1e-3
    assert r.headers["Location"] == f"/api/v1/events/{event['id']}"
    assert await audit_actions(session, event["id"]) == ["event.report"]


async def test_r_mob_1_a_point_outside_my_grid_reports_nothing(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await count(session, Event)
    r = await client.post(
        f"{M}/events", json=event_body(at(*IN_G2)), headers=auth(world.worker_g1, clock)
    )
    assert_problem(r, 404, "point_not_in_grid")
    bad = await client.post(
        f"{M}/events",
        json=event_body({"type": "LineString", "coordinates": [[75.9, 39.4], [75.91, 39.41]]}),
        headers=auth(world.worker_g1, clock),
    )
    assert_problem(bad, 422, "geometry_type")
    assert await count(session, Event) == before


async def test_r_mob_1_the_alarm_is_an_urgent_event_where_the_worker_stands(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(
        f"{M}/alarms", json={"location": at(*IN_G1)}, headers=auth(world.worker_g1, clock)
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert event["is_urgent"] is True and event["title"] == "紧急报警"
    assert event["grid_id"] == str(world.g1.id)
    assert event["occurred_at"] == "2026-11-23T10:00:00+08:00"
    # R-SUP-2: an urgent event not accepted in 12 hours gets the red card.
    assert event["steps"][0]["accept_red_at"] == "2026-11-23T22:00:00+08:00"


async def test_r_mob_1_visit_log_links_people_of_the_grid_and_refuses_stale_edits(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    person = await make_person(session, clock, world.g1)
    stranger = await make_person(session, clock, world.g2, name="李四")
    r = await client.post(
        f"{M}/visits", json=visit_body(world, person_id=str(person["id"])), headers=headers
    )
    assert r.status_code == 201, r.text
    visit = r.json()
    assert visit["person_id"] == str(person["id"]) and r.headers["ETag"] == '"1"'
    refused = await client.post(
        f"{M}/visits", json=visit_body(world, person_id=str(stranger["id"])), headers=headers
    )
    assert_problem(refused, 422, "visit_link_invalid")
    url = f"{M}/visits/{visit['id']}"
    changed = await client.patch(
        url, json={"content": "第二次走访"}, headers={**headers, "If-Match": '"1"'}
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = await client.patch(
        url, json={"content": "离线时的旧修改"}, headers={**headers, "If-Match": '"1"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    assert (await client.get(url, headers=headers)).json()["content"] == "第二次走访"
    assert await audit_actions(session, visit["id"]) == ["visit.create", "visit.update"]
    forged = await client.get(f"{M}/visits", params={"cursor": "WyJ4Il0"}, headers=headers)
    assert_problem(forged, 400, "cursor_invalid")
    listed = await client.get(
        f"{M}/visits", params={"person_id": str(person["id"])}, headers=headers
    )
    assert [v["id"] for v in listed.json()["items"]] == [visit["id"]]


async def test_r_mob_1_one_check_in_open_at_a_time(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    opened = await client.post(f"{M}/check-ins", json={"location": at(*IN_G1)}, headers=headers)
    assert opened.status_code == 201, opened.text
    again = await client.post(f"{M}/check-ins", json={"location": at(*IN_G1)}, headers=headers)
    assert_problem(again, 409, "check_in_open")
    assert await count(session, CheckIn) == 1
    clock.advance(timedelta(minutes=10))
    headers = auth(world.worker_g1, clock)
    out = await client.post(
        f"{M}/check-ins/check-out", json={"location": at(*IN_G2)}, headers=headers
    )
    assert out.status_code == 200, out.text
    assert out.json()["checked_out_at"] == "2026-11-23T10:10:00+08:00"
    none_open = await client.post(
        f"{M}/check-ins/check-out", json={"location": at(*IN_G1)}, headers=headers
    )
    assert_problem(none_open, 409, "no_open_check_in")
    reopened = await client.post(f"{M}/check-ins", json={"location": at(*IN_G1)}, headers=headers)
    assert reopened.status_code == 201
    mine = await client.get(f"{M}/check-ins", params={"limit": 1}, headers=headers)
    assert [c["id"] for c in mine.json()["items"]] == [reopened.json()["id"]]
    cursor = mine.json()["next_cursor"]
    rest = await client.get(f"{M}/check-ins", params={"cursor": cursor}, headers=headers)
    assert [c["id"] for c in rest.json()["items"]] == [opened.json()["id"]]
    assert rest.json()["total"] == 2 and rest.json()["next_cursor"] is None


def _points(*minutes: int) -> list[dict[str, Any]]:
    return [
        {
            "recorded_at": datetime(2026, 11, 23, 1, m, tzinfo=UTC).isoformat(),
            "lon": 75.91 + m / 1000,
            "lat": 39.42,
            "accuracy_m": 5,
        }
        for m in minutes
    ]


async def test_r_mob_1_tracks_store_each_point_once_and_play_back_in_order(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    first = await client.post(f"{M}/tracks", json={"points": _points(20, 0, 10)}, headers=headers)
    assert first.json() == {"received": 3, "stored": 3, "duplicates": 0}
    # The answer was lost; the app sends the batch again with one new point.
    again = await client.post(
        f"{M}/tracks", json={"points": _points(0, 10, 20, 30)}, headers=headers
    )
    assert again.json() == {"received": 4, "stored": 1, "duplicates": 3}
    assert await count(session, TrackPoint) == 4
    url = f"{M}/tracks/{world.worker_g1.id}"
    r = await client.get(url, params={"day": DAY.isoformat()}, headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    track = r.json()
    assert [p["recorded_at"][11:16] for p in track["points"]] == [
        "09:00",
        "09:10",
        "09:20",
        "09:30",
    ]
    assert track["line"]["type"] == "LineString" and len(track["line"]["coordinates"]) == 4
    # 0.03° of longitude at 39.42° N is about 2.58 km.
    assert 2500 < track["distance_m"] < 2650
    other_day = await client.get(
        url, params={"day": "2026-11-24"}, headers=auth(world.admin_s1, clock)
    )
    assert other_day.json()["points"] == [] and other_day.json()["line"] is None
    # Playback is for supervisors: a grid worker may not follow a colleague.
    colleague = await make_user(session, roles=["grid_worker"], unit=world.g1)
    denied = await client.get(url, params={"day": DAY.isoformat()}, headers=auth(colleague, clock))
    assert_problem(denied, 403, "permission_denied")


async def test_r_mob_1_a_track_batch_over_the_limit_is_refused_whole(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    points = [
        {"recorded_at": f"2026-11-23T{h:02d}:{m:02d}:00+08:00", "lon": 75.92, "lat": 39.42}
        for h in range(17)
        for m in range(60)
    ]
    r = await client.post(
        f"{M}/tracks", json={"points": points}, headers=auth(world.worker_g1, clock)
    )
    assert_problem(r, 422, "validation_failed")
    assert await count(session, TrackPoint) == 0


async def test_r_mob_1_handbooks_from_above_are_readable_below(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    from_s1 = await make_handbook(session, clock, world)
    r = await client.post(
        "/api/v1/handbooks",
        json={"unit_id": str(world.s2.id), "category": "dispute", "title": "二街手册", "body": "…"},
        headers=auth(world.admin_s2, clock),
    )
    assert r.status_code == 201, r.text
    worker = auth(world.worker_g1, clock)
    listed = await client.get("/api/v1/handbooks", headers=worker)
    assert [h["id"] for h in listed.json()["items"]] == [str(from_s1["id"])]
    read = await client.get(f"/api/v1/handbooks/{from_s1['id']}", headers=worker)
    assert read.status_code == 200 and read.json()["title"] == "矛盾纠纷调处手册"
    # Readers are not editors.
    edit = await client.patch(
        f"/api/v1/handbooks/{from_s1['id']}", json={"title": "改"}, headers=worker
    )
    assert_problem(edit, 403, "permission_denied")


async def test_r_mob_1_my_history_lists_what_i_recorded(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    visit = await make_visit(session, clock, world)
    headers = auth(world.worker_g1, clock)
    await client.post(f"{M}/check-ins", json={"location": at(*IN_G1)}, headers=headers)
    r = await client.get(f"{M}/history", headers=headers)
    items = r.json()["items"]
    assert [i["action"] for i in items] == ["check_in.open", "visit.create"]
    assert items[1]["target_id"] == str(visit["id"])
    assert "after" not in items[1]
    assert await count(session, VisitLog) == 1
