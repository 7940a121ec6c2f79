"""`Idempotency-Key` on POST (API.md): the same key and body replay the stored response
without running the action again; the same key with another body is a 422."""

import uuid

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import Department
from tests.conftest import MovableClock
from tests.factories import World, auth


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
