"""R-MOB-2 offline first: a batch of queued operations, each with a client UUID, applied one
by one in savepoints; replays create nothing twice (even a flaky client dropping and
reordering batches), updates name the version they were made on and a newer server version
comes back as a conflict, never overwritten; a `since` cursor pulls what changed in my
jurisdiction."""

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import CheckIn, Event, TrackPoint, VisitLog
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.mobile import IN_G1, at, make_visit, visit_body
from tests.routes.people import make_person
from tests.territory import SUPERUSER_DSN, Committed, committed_territory, real_client

__all__ = ["real_client"]

URL = "/api/v1/sync"


def op(kind: str, payload: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"op_id": str(uuid.uuid4()), "type": kind, "payload": payload, **extra}


def track(minute: int) -> dict[str, Any]:
    at_ = datetime(2026, 11, 23, 1, minute, tzinfo=UTC).isoformat()
    return {"points": [{"recorded_at": at_, "lon": 75.91 + minute / 1000, "lat": 39.42}]}


def event(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "category": "dispute",
        "subtype": "neighbour",
        "occurred_at": "2026-11-23T09:00:00+08:00",
        "location": at(*IN_G1),
        "crs": "wgs84",
    }


async def counts(session: AsyncSession) -> dict[str, int]:
    await set_scope(session, "*")
    return {
        model.__tablename__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
        for model in (VisitLog, Event, CheckIn, TrackPoint)
    }


def queued(world: World) -> list[dict[str, Any]]:
    """What the app queued while offline: visits, a report, an alarm, a check-in, tracks."""
    return [
        *(op("visit.create", visit_body(world, content=f"走访第{i}户")) for i in range(3)),
        op("event.report", event("楼道堆物")),
        op("alarm", {"location": at(*IN_G1), "note": "有人落水"}),
        op("check_in", {"location": at(*IN_G1)}),
        *(op("track.upload", track(m)) for m in (0, 5, 10)),
    ]


async def test_r_mob_2_a_flaky_client_ends_with_exactly_one_copy_of_each_record(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The same batch three times: the first two lose random operations on the way and come
    in shuffled (their answers are lost too); the third is the whole batch, shuffled."""
    before = await counts(session)
    headers = auth(world.worker_g1, clock)
    batch = queued(world)
    rng = random.Random(20261123)
    outcome: dict[str, list[str]] = {o["op_id"]: [] for o in batch}
    for attempt in range(3):
        sent = batch if attempt == 2 else [o for o in batch if rng.random() < 0.6]
        sent = rng.sample(sent, len(sent))
        r = await client.post(URL, json={"operations": sent}, headers=headers)
        assert r.status_code == 200, r.text
        for result in r.json()["results"]:
            outcome[result["op_id"]].append(result["status"])
    final = await counts(session)
    assert {k: final[k] - before[k] for k in final} == {
        "visit_logs": 3,
        "events": 2,
        "check_ins": 1,
        "track_points": 3,
    }
    # Each operation took effect once, the first time it arrived; every later time it was
    # recognised as a replay.
    for statuses in outcome.values():
        assert statuses[0] in ("created", "applied"), statuses
        assert set(statuses[1:]) <= {"already_applied"}, statuses
    last = await client.post(URL, json={"operations": batch}, headers=headers)
    assert {r["status"] for r in last.json()["results"]} == {"already_applied"}
    assert await counts(session) == final


async def test_r_mob_2_a_replay_returns_the_first_result(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    create = op("visit.create", visit_body(world))
    first = (await client.post(URL, json={"operations": [create]}, headers=headers)).json()
    again = (await client.post(URL, json={"operations": [create]}, headers=headers)).json()
    [a], [b] = first["results"], again["results"]
    assert (a["status"], b["status"]) == ("created", "already_applied")
    assert a["target_id"] == b["target_id"] and a["target_type"] == "visit"
    # The same operation twice in one batch is one visit as well.
    twice = op("visit.create", visit_body(world))
    r = await client.post(URL, json={"operations": [twice, twice]}, headers=headers)
    assert [x["status"] for x in r.json()["results"]] == ["created", "already_applied"]


async def test_r_mob_2_a_conflicting_edit_returns_the_server_version(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    visit = await make_visit(session, clock, world)
    url = f"/api/v1/mobile/visits/{visit['id']}"
    # Meanwhile someone at the community corrected the entry online.
    staff = await make_user(session, roles=["grid_leader"], unit=world.c1)
    online = await client.patch(
        url, json={"content": "社区更正"}, headers={**auth(staff, clock), "If-Match": '"1"'}
    )
    assert online.status_code == 200, online.text
    headers = auth(world.worker_g1, clock)
    offline = op(
        "visit.update", {"content": "离线修改"}, target_id=str(visit["id"]), base_version=1
    )
    r = await client.post(URL, json={"operations": [offline]}, headers=headers)
    [result] = r.json()["results"]
    assert result["status"] == "conflict"
    assert result["server"]["content"] == "社区更正" and result["server"]["version"] == 2
    assert (await client.get(url, headers=headers)).json()["content"] == "社区更正"
    # Merged on the phone, the same operation goes again on the server's version.
    merged = {**offline, "payload": {"content": "社区更正；补记离线内容"}, "base_version": 2}
    r = await client.post(URL, json={"operations": [merged]}, headers=headers)
    [result] = r.json()["results"]
    assert (result["status"], result["version"]) == ("applied", 3)


async def test_r_mob_2_one_bad_operation_does_not_sink_the_batch(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    stranger = await make_person(session, clock, world.g2, name="李四")
    before = await counts(session)
    bad = op("visit.create", visit_body(world, person_id=str(stranger["id"])))
    batch = [
        op("visit.create", visit_body(world)),
        bad,
        op("visit.update", {"content": "x"}),
        op("visit.create", {**visit_body(world), "mood": "good"}),
        op("track.upload", track(1)),
    ]
    headers = {**auth(world.worker_g1, clock), "Accept-Language": "en"}
    r = await client.post(URL, json={"operations": batch}, headers=headers)
    results = r.json()["results"]
    assert [x["status"] for x in results] == [
        "created",
        "rejected",
        "rejected",
        "rejected",
        "applied",
    ]
    assert results[1]["error"]["code"] == "visit_link_invalid"
    assert results[1]["error"]["errors"][0]["field"] == "person_id"
    assert results[2]["error"]["code"] == "sync_target_required"
    assert results[3]["error"]["errors"][0]["field"] == "payload.mood"
    assert results[4]["detail"] == {"received": 1, "stored": 1, "duplicates": 0}
    after = await counts(session)
    assert (after["visit_logs"], after["track_points"]) == (
        before["visit_logs"] + 1,
        before["track_points"] + 1,
    )
    # A rejected operation replayed is rejected again, for the same reason.
    again = await client.post(URL, json={"operations": [bad]}, headers=headers)
    [result] = again.json()["results"]
    assert (result["status"], result["error"]["code"]) == ("rejected", "visit_link_invalid")
    assert result["error"]["message"].startswith("The linked person")


async def test_r_mob_2_each_operation_needs_its_routes_permission(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    leader = await make_user(session, roles=["leader"], unit=world.g1)
    r = await client.post(
        URL,
        json={"operations": [op("visit.create", visit_body(world))]},
        headers=auth(leader, clock),
    )
    [result] = r.json()["results"]
    assert (result["status"], result["error"]["code"]) == ("rejected", "permission_denied")


async def test_r_mob_2_since_pulls_only_what_changed_in_my_jurisdiction(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    mine = await make_visit(session, clock, world)
    colleague = await make_user(session, roles=["grid_worker"], unit=world.g2)
    await client.post(
        "/api/v1/mobile/visits",
        json=visit_body(world, grid_id=str(world.g2.id)),
        headers=auth(colleague, clock),
    )
    first = (await client.post(URL, json={}, headers=headers)).json()["changes"]
    assert [v["id"] for v in first["visits"]] == [str(mine["id"])]
    assert first["events"] == [] and first["more"] is False
    # Nothing new: nothing pulled, and the cursor stays.
    same = (await client.post(URL, json={"since": first["next_cursor"]}, headers=headers)).json()
    assert (
        same["changes"]["visits"] == [] and same["changes"]["next_cursor"] == first["next_cursor"]
    )
    # My own batch's effects come back on the next pull.
    clock.advance(timedelta(minutes=1))
    headers = auth(world.worker_g1, clock)
    body = {"operations": [op("event.report", event("占道经营"))], "since": first["next_cursor"]}
    pulled = (await client.post(URL, json=body, headers=headers)).json()["changes"]
    assert [e["action"] for e in pulled["events"]] == ["report"]
    assert pulled["visits"] == []
    forged = await client.post(URL, json={"since": "bm90LWEtY3Vyc29y"}, headers=headers)
    assert_problem(forged, 400, "cursor_invalid")


async def test_r_mob_2_a_batch_over_the_limit_is_refused_whole(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await counts(session)
    batch = [op("visit.create", visit_body(world)) for _ in range(201)]
    r = await client.post(URL, json={"operations": batch}, headers=auth(world.worker_g1, clock))
    assert_problem(r, 422, "validation_failed")
    assert await counts(session) == before


REGION = "652901"


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    async with committed_territory(app, clock, region=REGION, west=88.0, south=40.0) as data:
        try:
            yield data
        finally:
            conn = await asyncpg.connect(SUPERUSER_DSN)
            district = f"(SELECT path FROM org_units WHERE code = '{REGION}000000')"
            users = f"SELECT id FROM users WHERE path <@ {district}"
            try:
                await conn.execute(
                    f"DELETE FROM sync_operations WHERE user_id IN ({users});"
                    f"DELETE FROM visit_logs WHERE grid_id = '{data.grid_id}';"
                )
            finally:
                await conn.close()


async def test_r_mob_2_two_phones_racing_with_one_operation_apply_it_once(
    real_client: AsyncClient, territory: Committed
) -> None:
    """Real commits on separate connections: the second request waits on the first's claim
    of the operation id, then answers with the first one's result."""
    create = op(
        "visit.create",
        {
            "grid_id": str(territory.grid_id),
            "visited_at": "2026-11-23T09:30:00+08:00",
            "topic": "visit",
            "content": "并发重放",
        },
    )
    answers = await asyncio.gather(
        *(
            real_client.post(URL, json={"operations": [create]}, headers=territory.headers)
            for _ in range(2)
        )
    )
    results = [r.json()["results"][0] for r in answers]
    assert sorted(r["status"] for r in results) == ["already_applied", "created"]
    assert len({r["target_id"] for r in results}) == 1
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM visit_logs WHERE grid_id = $1", territory.grid_id
        )
    finally:
        await conn.close()
    assert stored == 1


async def test_r_mob_2_a_visit_change_committed_late_is_still_pulled(
    real_client: AsyncClient, territory: Committed
) -> None:
    """Migration 0040: an open transaction changing a visit keeps nobody from logging one;
    its change is numbered again at commit, after theirs, so a pull that has moved past
    theirs still gets it."""

    async def log_visit(content: str) -> str:
        r = await real_client.post(
            "/api/v1/mobile/visits",
            json={
                "grid_id": str(territory.grid_id),
                "visited_at": "2026-11-23T09:30:00+08:00",
                "topic": "visit",
                "content": content,
            },
            headers=territory.headers,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    async def pulled(since: str) -> dict[str, Any]:
        r = await real_client.post(URL, json={"since": since}, headers=territory.headers)
        assert r.status_code == 200, r.text
        changes: dict[str, Any] = r.json()["changes"]
        return changes

    slow_visit = await log_visit("先记")
    start = (await real_client.post(URL, json={}, headers=territory.headers)).json()["changes"]
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            await conn.execute(
                "UPDATE visit_logs SET content = '后改',"
                " serial = nextval('field_change_serial_seq') WHERE id = $1",
                uuid.UUID(slow_visit),
            )
            # Bounded: under a lock held to commit this would wait for ever.
            quick_visit = await asyncio.wait_for(log_visit("后记"), timeout=30)
            seen = await pulled(start["next_cursor"])
            assert [v["id"] for v in seen["visits"]] == [quick_visit]
    finally:
        await conn.close()
    after = await pulled(seen["next_cursor"])
    assert [(v["id"], v["content"]) for v in after["visits"]] == [(slow_visit, "后改")]
