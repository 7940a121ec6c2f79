"""`Idempotency-Key` on POST (API.md): the same key and body replay the stored response
(with its ETag, Location and Content-Type) without running the action again; the same key
with another body is a 422; refusals a retry may overcome are not stored; keys expire after
24 hours and the worker purges them."""

import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services import idempotency
from services.db import set_scope
from services.models import Department, UserRole
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from workers.jobs import purge_idempotency_keys
from workers.settings import WorkerSettings


def _body(world: World, name: str = "民政所") -> dict[str, str]:
    return {"code": f"MZ{uuid.uuid4().hex[:6]}", "name": name, "unit_id": str(world.s1.id)}


async def _count(session: AsyncSession, code: str) -> int:
    await set_scope(session, "*")
    return int(
        await session.scalar(
            select(func.count()).select_from(Department).where(Department.code == code)
        )
        or 0
    )


async def test_replay_returns_the_stored_response_and_creates_nothing(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    body = _body(world)
    headers = {**auth(world.admin_d, clock), "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/api/v1/departments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post("/api/v1/departments", json=body, headers=headers)
    assert second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _count(session, body["code"]) == 1


async def test_same_key_with_another_body_is_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = {**auth(world.admin_d, clock), "Idempotency-Key": uuid.uuid4().hex}
    assert (
        await client.post("/api/v1/departments", json=_body(world), headers=headers)
    ).status_code == 201
    other = await client.post("/api/v1/departments", json=_body(world, "另一个"), headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


async def test_keys_belong_to_their_caller(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Another user with the same key runs its own request, never sees the first response."""
    key = uuid.uuid4().hex
    body = _body(world)
    first = await client.post(
        "/api/v1/departments",
        json=body,
        headers={**auth(world.admin_d, clock), "Idempotency-Key": key},
    )
    assert first.status_code == 201
    other = await client.post(
        "/api/v1/departments",
        json=body,
        headers={**auth(world.admin_s1, clock), "Idempotency-Key": key},
    )
    assert other.status_code == 409  # ran for real: the code is taken now
    assert "idempotent-replayed" not in other.headers


async def test_errors_are_replayed_too_but_not_server_faults(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = {**auth(world.admin_d, clock), "Idempotency-Key": uuid.uuid4().hex}
    bad = {"code": "!", "name": "x", "unit_id": str(world.s1.id)}
    first = await client.post("/api/v1/departments", json=bad, headers=headers)
    second = await client.post("/api/v1/departments", json=bad, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"


async def test_without_a_key_each_post_runs(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    body = _body(world)
    assert (
        await client.post("/api/v1/departments", json=body, headers=auth(world.admin_d, clock))
    ).status_code == 201
    again = await client.post("/api/v1/departments", json=body, headers=auth(world.admin_d, clock))
    assert again.status_code == 409
    assert again.json()["code"] == "code_taken"


async def test_a_replay_repeats_the_etag_location_and_content_type(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = {**auth(world.admin_d, clock), "Idempotency-Key": uuid.uuid4().hex}
    body = _body(world)
    first = await client.post("/api/v1/departments", json=body, headers=headers)
    assert first.status_code == 201, first.text
    second = await client.post("/api/v1/departments", json=body, headers=headers)
    for name in ("etag", "location", "content-type"):
        assert second.headers[name] == first.headers[name], name
    assert second.headers["location"].endswith(first.json()["id"])


async def test_a_refusal_for_permission_is_not_stored_so_the_retry_succeeds(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """403 may turn into success once the role is granted: the key is released."""
    user = await make_user(session, roles=[], unit=world.district)
    headers = {**auth(user, clock), "Idempotency-Key": uuid.uuid4().hex}
    body = _body(world)
    assert_problem(
        await client.post("/api/v1/departments", json=body, headers=headers),
        403,
        "permission_denied",
    )
    session.add(UserRole(user_id=user.id, role_code="admin"))
    await session.flush()
    retried = await client.post("/api/v1/departments", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers


async def test_a_refusal_for_an_expired_token_is_not_stored(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    key = uuid.uuid4().hex
    body = _body(world)
    stale = {**auth(world.admin_d, clock), "Idempotency-Key": key}
    clock.advance(timedelta(hours=1))
    assert_problem(
        await client.post("/api/v1/departments", json=body, headers=stale), 401, "token_invalid"
    )
    fresh = {**auth(world.admin_d, clock), "Idempotency-Key": key}
    retried = await client.post("/api/v1/departments", json=body, headers=fresh)
    assert retried.status_code == 201, retried.text


@pytest.mark.parametrize(
    ("status", "kept"),
    [
        *((status, True) for status in (200, 201, 409, 422)),
        *((status, False) for status in (401, 403, 429, 500, 503)),
    ],
)
def test_only_responses_a_retry_cannot_change_are_kept(status: int, kept: bool) -> None:
    assert idempotency.keeps(status) is kept


async def test_a_key_expires_after_24_hours(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """Within the day another body is refused; a day later the key runs a new request."""
    headers = {**auth(world.admin_d, clock), "Idempotency-Key": uuid.uuid4().hex}
    assert (
        await client.post("/api/v1/departments", json=_body(world), headers=headers)
    ).status_code == 201
    clock.advance(idempotency.TTL - timedelta(seconds=1))
    headers.update(auth(world.admin_d, clock))
    assert_problem(
        await client.post("/api/v1/departments", json=_body(world), headers=headers),
        422,
        "idempotency_key_reused",
    )
    clock.advance(timedelta(seconds=1))
    headers.update(auth(world.admin_d, clock))
    later = await client.post("/api/v1/departments", json=_body(world), headers=headers)
    assert later.status_code == 201, later.text
    assert "idempotent-replayed" not in later.headers


async def test_the_worker_purges_expired_keys(app: FastAPI, clock: MovableClock) -> None:
    """The hourly cron job deletes keys 24 h old and keeps younger ones."""
    maker = app.state.sessionmaker
    owner = f"test:{uuid.uuid4().hex}"
    old, young = (idempotency.Request(owner, k, "POST", "/x", "f") for k in ("old", "young"))
    assert await idempotency.claim(maker, old, clock.now())
    clock.advance(timedelta(hours=1))
    assert await idempotency.claim(maker, young, clock.now())
    clock.advance(idempotency.TTL - timedelta(hours=1))
    ctx = {"sessionmaker": maker, "clock": clock}
    assert await purge_idempotency_keys(ctx) >= 1
    assert await idempotency.stored(maker, old) is None
    assert await idempotency.stored(maker, young) is not None
    clock.advance(timedelta(hours=1))
    await purge_idempotency_keys(ctx)
    assert await idempotency.stored(maker, young) is None
    job_names = {job.name for job in WorkerSettings.cron_jobs or ()}
    assert "cron:purge_idempotency_keys" in job_names
