"""R-API-1 API keys: issued by administrators for a subtree with operations, a rate limit and
an expiry; stored as digests; the key acts through the same permission gate, jurisdiction
and row-level security as a user; expired, revoked and rotated-out secrets are refused;
rotation overlaps; the rate limit holds across processes through Redis; every call and every
write made with a key is audited with the key's id."""

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from api.app import create_app
from domain.api_keys import digest
from domain.messages import render
from domain.principal import SYSTEM_SCOPE
from services import api_keys
from services.db import set_scope
from services.models import ApiKeySecret, AuditEntry
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.api_keys import URL, key_body, make_key
from tests.routes.events import event_body, make_event
from tests.routes.people import PERSON_PHONE, make_person


def key_header(key: dict[str, Any]) -> dict[str, str]:
    return {"X-API-Key": key["secret"]}


async def audit_entries(session: AsyncSession, **where: Any) -> list[AuditEntry]:
    await set_scope(session, SYSTEM_SCOPE)
    stmt = select(AuditEntry).filter_by(**where).order_by(AuditEntry.id)
    return list((await session.scalars(stmt)).all())


async def test_r_api_1_the_secret_is_shown_once_and_stored_only_as_a_digest(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.post(URL, json=key_body(world, clock), headers=auth(world.admin_d, clock))
    assert r.status_code == 201, r.text
    issued = r.json()
    raw = issued["secret"]
    assert raw.startswith(f"gk_{issued['prefix']}_") and issued["state"] == "active"
    assert r.headers["ETag"] == '"1"' and r.headers["Location"] == f"{URL}/{issued['id']}"
    shown = await client.get(f"{URL}/{issued['id']}", headers=auth(world.admin_d, clock))
    assert shown.status_code == 200 and "secret" not in shown.json()
    assert shown.json()["prefix"] == issued["prefix"]
    await set_scope(session, SYSTEM_SCOPE)
    [stored] = (
        await session.scalars(
            select(ApiKeySecret).where(ApiKeySecret.api_key_id == uuid.UUID(issued["id"]))
        )
    ).all()
    assert stored.digest == digest(raw)
    # Nowhere in the key's rows, nor in the audit trail, is the raw secret.
    dumps = await session.execute(
        text(
            "SELECT row_to_json(k)::text FROM api_keys k WHERE id = :id UNION ALL "
            "SELECT row_to_json(s)::text FROM api_key_secrets s WHERE api_key_id = :id UNION ALL "
            "SELECT row_to_json(a)::text FROM audit_log a WHERE target_id = :sid"
        ),
        {"id": uuid.UUID(issued["id"]), "sid": issued["id"]},
    )
    texts = [row[0] for row in dumps]
    assert len(texts) == 3 and not any(raw in t or raw.split("_", 2)[2] in t for t in texts)


async def test_r_api_1_issuing_checks_operations_expiry_and_the_unit(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    for operations, code in (
        (["event:read", "api_key:manage"], "operation_not_grantable"),
        (["user:write"], "operation_not_grantable"),
        (["event:fly"], "operation_unknown"),
        ([], "operations_required"),
    ):
        r = await client.post(
            URL, json=key_body(world, clock, operations=operations), headers=headers
        )
        body = assert_problem(r, 422, "api_key_invalid")
        wrong = [op for op in operations if op != "event:read"]
        message = render(code, {"operation": wrong[0]} if wrong else {}, "zh")
        assert body["errors"] == [{"field": "operations", "message": message}], body
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    r = await client.post(URL, json=key_body(world, clock, expires_at=past), headers=headers)
    assert assert_problem(r, 422, "api_key_invalid")["errors"][0]["field"] == "expires_at"
    far = (clock.now() + timedelta(days=800)).isoformat()
    r = await client.post(URL, json=key_body(world, clock, expires_at=far), headers=headers)
    assert_problem(r, 422, "api_key_invalid")
    # A unit outside the issuer's jurisdiction does not exist for them.
    r = await client.post(
        URL, json=key_body(world, clock, unit_id=str(world.s2.id)), headers=headers
    )
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.post(URL, json=key_body(world, clock, secret="x"), headers=headers)
    assert_problem(r, 422, "validation_failed")
    # Without api_key:manage nobody issues keys.
    r = await client.post(URL, json=key_body(world, clock), headers=auth(world.worker_g1, clock))
    assert_problem(r, 403, "permission_denied")


async def test_r_api_1_a_key_acts_within_its_subtree_through_the_same_checks_as_a_user(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event = await make_event(session, clock, world)  # in G1, street S1
    s1_key = await make_key(session, clock, world)
    s2_key = await make_key(session, clock, world, unit_id=world.s2.id)
    r = await client.get("/api/v1/events", headers=key_header(s1_key))
    assert r.status_code == 200, r.text
    assert str(event["id"]) in {item["id"] for item in r.json()["items"]}
    assert (
        await client.get(f"/api/v1/events/{event['id']}", headers=key_header(s1_key))
    ).is_success
    # R-JUR-1: outside the key's subtree the event does not exist.
    r = await client.get(f"/api/v1/events/{event['id']}", headers=key_header(s2_key))
    assert_problem(r, 404, "event_not_found")
    r = await client.get("/api/v1/events", headers=key_header(s2_key))
    assert str(event["id"]) not in {item["id"] for item in r.json()["items"]}
    # Operations the key was not given are refused like a user's missing permission.
    r = await client.post(
        "/api/v1/events", json=event_body(world.g1.id), headers=key_header(s1_key)
    )
    assert_problem(r, 403, "permission_denied")
    assert_problem(
        await client.get("/api/v1/people", headers=key_header(s1_key)), 403, "permission_denied"
    )


async def test_r_api_1_r_jur_3_a_key_sees_personal_data_masked_unless_granted_pii_read(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    person = await make_person(session, clock, world.g1)
    plain = await make_key(session, clock, world, operations=["population:read"])
    trusted = await make_key(session, clock, world, operations=["population:read", "pii:read"])
    url = f"/api/v1/people/{person['id']}"
    masked = (await client.get(url, headers=key_header(plain))).json()
    assert masked["phone"] != PERSON_PHONE and masked["id_number"] != person["id_number"]
    full = (await client.get(url, headers=key_header(trusted))).json()
    assert full["phone"] == PERSON_PHONE and full["id_number"] == person["id_number"]


async def test_r_api_1_the_service_function_returns_the_keys_principal(
    app: FastAPI, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    key = await make_key(session, clock, world, operations=["event:read", "event:report"])
    principal = await api_keys.authenticate(session, app.state.redis, key["secret"], clock.now())
    assert principal.api_key_id == key["id"] and principal.scope == world.s1.path
    assert principal.can("event:report") and not principal.can("event:handle")
    assert principal.user_id is None and principal.username == f"gk_{key['prefix']}"
    scope = await session.scalar(text("SELECT current_setting('grid.scope')"))
    assert scope == world.s1.path


async def test_r_api_1_unknown_expired_and_revoked_keys_are_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    for garbage in ("nonsense", "gk_00000000_" + "x" * 43):
        r = await client.get("/api/v1/events", headers={"X-API-Key": garbage})
        assert_problem(r, 401, "api_key_invalid")
    short = await make_key(session, clock, world, expires_at=clock.now() + timedelta(hours=1))
    assert (await client.get("/api/v1/events", headers=key_header(short))).is_success
    clock.advance(timedelta(hours=1))
    assert_problem(
        await client.get("/api/v1/events", headers=key_header(short)), 401, "api_key_expired"
    )

    key = await make_key(session, clock, world)
    assert (await client.get("/api/v1/events", headers=key_header(key))).is_success
    admin = auth(world.admin_s1, clock)
    r = await client.post(f"{URL}/{key['id']}/revoke", json={"reason": "合作终止"}, headers=admin)
    assert r.status_code == 200 and r.json()["state"] == "revoked"
    assert r.json()["revoke_reason"] == "合作终止"
    assert_problem(
        await client.get("/api/v1/events", headers=key_header(key)), 401, "api_key_revoked"
    )
    again = await client.post(f"{URL}/{key['id']}/revoke", json={"reason": "再次"}, headers=admin)
    assert_problem(again, 409, "api_key_revoked")
    rotate = await client.post(f"{URL}/{key['id']}/rotate", json={}, headers=admin)
    assert_problem(rotate, 409, "api_key_inactive")
    listed = await client.get(URL, params={"state": "revoked"}, headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [str(key["id"])]
    [entry] = await audit_entries(session, action="api_key.revoke", target_id=str(key["id"]))
    assert entry.reason == "合作终止" and entry.actor_id == world.admin_s1.id


async def test_r_api_1_rotation_keeps_the_old_secret_for_the_overlap_only(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    key = await make_key(session, clock, world)
    admin = auth(world.admin_s1, clock)
    r = await client.post(
        f"{URL}/{key['id']}/rotate",
        json={"overlap_minutes": 60},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"] != key["secret"] and rotated["prefix"] != key["prefix"]
    assert rotated["version"] == 2
    for secret in (key["secret"], rotated["secret"]):
        assert (await client.get("/api/v1/events", headers={"X-API-Key": secret})).is_success
    clock.advance(timedelta(minutes=60))
    old = await client.get("/api/v1/events", headers=key_header(key))
    assert_problem(old, 401, "api_key_invalid")
    assert (await client.get("/api/v1/events", headers=key_header(rotated))).is_success
    # Without overlap the old secret stops at once; a stale If-Match is refused.
    admin = auth(world.admin_s1, clock)
    stale = await client.post(
        f"{URL}/{key['id']}/rotate",
        json={"overlap_minutes": 0},
        headers={**admin, "If-Match": '"1"'},
    )
    assert_problem(stale, 412, "precondition_failed")
    r = await client.post(f"{URL}/{key['id']}/rotate", json={"overlap_minutes": 0}, headers=admin)
    third = r.json()
    assert_problem(
        await client.get("/api/v1/events", headers=key_header(rotated)), 401, "api_key_invalid"
    )
    assert (await client.get("/api/v1/events", headers=key_header(third))).is_success
    too_long = await client.post(
        f"{URL}/{key['id']}/rotate", json={"overlap_minutes": 7 * 24 * 60 + 1}, headers=admin
    )
    assert_problem(too_long, 422, "validation_failed")


async def test_r_api_1_a_second_rotation_never_lengthens_an_older_secret(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    key = await make_key(session, clock, world)
    admin = auth(world.admin_s1, clock)
    await client.post(f"{URL}/{key['id']}/rotate", json={"overlap_minutes": 10}, headers=admin)
    clock.advance(timedelta(minutes=5))
    second = await client.post(
        f"{URL}/{key['id']}/rotate", json={"overlap_minutes": 60}, headers=admin
    )
    assert second.status_code == 200
    clock.advance(timedelta(minutes=5))
    assert_problem(
        await client.get("/api/v1/events", headers=key_header(key)), 401, "api_key_invalid"
    )


async def test_r_api_1_changing_a_key_is_guarded_by_if_match_and_checked_again(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    key = await make_key(session, clock, world)
    admin = auth(world.admin_s1, clock)
    path = f"{URL}/{key['id']}"
    stale = await client.patch(
        path, json={"rate_limit_per_minute": 5}, headers={**admin, "If-Match": '"7"'}
    )
    assert_problem(stale, 412, "precondition_failed")
    r = await client.patch(
        path,
        json={"rate_limit_per_minute": 5, "operations": ["event:read", "event:report"]},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["operations"] == ["event:read", "event:report"]
    assert r.headers["ETag"] == '"2"'
    bad = await client.patch(path, json={"operations": ["setting:write"]}, headers=admin)
    assert_problem(bad, 422, "api_key_invalid")
    [entry] = await audit_entries(session, action="api_key.update", target_id=str(key["id"]))
    assert entry.before is not None and entry.before["rate_limit_per_minute"] == 60
    assert entry.after is not None and entry.after["rate_limit_per_minute"] == 5
    # The key can report now, as itself.
    r = await client.post("/api/v1/events", json=event_body(world.g1.id), headers=key_header(key))
    assert r.status_code == 201, r.text


async def test_r_api_1_every_call_and_write_is_audited_with_the_key_id(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    key = await make_key(session, clock, world, operations=["event:read", "event:report"])
    key_id = key["id"]
    assert (
        await client.get("/api/v1/events", params={"q": "653101"}, headers=key_header(key))
    ).is_success
    missing = await client.get(f"/api/v1/events/{uuid.uuid4()}", headers=key_header(key))
    assert missing.status_code == 404
    created = await client.post(
        "/api/v1/events", json=event_body(world.g1.id), headers=key_header(key)
    )
    assert created.status_code == 201
    calls = await audit_entries(session, action="api_key.call", target_id=str(key_id))
    assert [(c.after or {}).get("status") for c in calls] == [200, 404, 201]
    assert calls[0].after == {"method": "GET", "path": "/api/v1/events", "status": 200}
    assert all(c.actor_id == key_id and c.actor_name == f"gk_{key['prefix']}" for c in calls)
    assert all(c.request_id for c in calls)
    # The write itself names the key as its actor.
    [report] = await audit_entries(session, target_type="event", target_id=created.json()["id"])
    assert report.actor_id == key_id
    # The key's administrators read its calls; a sibling street's do not.
    params = {"target_type": "api_key", "target_id": str(key_id), "action": "api_key.call"}
    mine = await client.get("/api/v1/audit", params=params, headers=auth(world.admin_s1, clock))
    assert mine.json()["total"] == 3
    theirs = await client.get("/api/v1/audit", params=params, headers=auth(world.admin_s2, clock))
    assert theirs.json()["total"] == 0


@pytest.fixture
async def second_app(conn: AsyncConnection, clock: MovableClock) -> AsyncIterator[AsyncClient]:
    """Another API process: its own app and Redis connection, the same Redis database."""
    other = create_app(clock=clock)
    async with other.router.lifespan_context(other):
        other.state.request_session = lambda: AsyncSession(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        async with AsyncClient(transport=ASGITransport(app=other), base_url="http://b") as c:
            yield c


async def test_r_api_1_the_rate_limit_is_shared_by_two_processes(
    client: AsyncClient,
    second_app: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    clock.current = clock.current.replace(second=0)
    key = await make_key(session, clock, world, rate_limit_per_minute=3)
    for api in (client, second_app, client):
        assert (await api.get("/api/v1/events", headers=key_header(key))).status_code == 200
    for api in (second_app, client):
        refused = await api.get("/api/v1/events", headers=key_header(key))
        assert_problem(refused, 429, "rate_limited")
        assert refused.headers["Retry-After"] == "60"
    clock.advance(timedelta(seconds=45))
    assert (await second_app.get("/api/v1/events", headers=key_header(key))).headers[
        "Retry-After"
    ] == "15"
    clock.advance(timedelta(seconds=15))
    assert (await second_app.get("/api/v1/events", headers=key_header(key))).status_code == 200
    # Refused calls are not written to the audit trail; the four answered ones are.
    calls = await audit_entries(session, action="api_key.call", target_id=str(key["id"]))
    assert len(calls) == 4


async def test_r_api_1_keys_are_listed_within_jurisdiction_by_state(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    active = await make_key(session, clock, world, agency="甲单位")
    expiring = await make_key(
        session, clock, world, agency="乙单位", expires_at=clock.now() + timedelta(minutes=1)
    )
    await make_key(session, clock, world, agency="丙单位", unit_id=world.s2.id)
    clock.advance(timedelta(minutes=1))
    admin = auth(world.admin_s1, clock)
    everything = (await client.get(URL, headers=admin)).json()
    assert {i["agency"] for i in everything["items"]} == {"甲单位", "乙单位"}
    assert everything["total"] == 2
    expired = (await client.get(URL, params={"state": "expired"}, headers=admin)).json()
    assert [i["id"] for i in expired["items"]] == [str(expiring["id"])]
    by_prefix = (await client.get(URL, params={"q": active["prefix"]}, headers=admin)).json()
    assert [i["id"] for i in by_prefix["items"]] == [str(active["id"])]
