"""R-ORG-3: sign-in, lockout, access tokens, refresh-token rotation with reuse detection, and
permissions that are data (role → permission rows), checked at every protected route."""

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import asyncpg
import jwt
import orjson
import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import RolePermission
from services.settings import get_settings
from tests.conftest import MovableClock, unique
from tests.factories import PASSWORD, World, assert_problem, auth, make_user

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/me"


async def login(client: AsyncClient, username: str, password: str = PASSWORD) -> Response:
    return await client.post(TOKEN, json={"username": username, "password": password})


async def tokens(client: AsyncClient, username: str) -> dict[str, Any]:
    r = await login(client, username)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


# --- sign-in ---------------------------------------------------------------------------------


async def test_r_org_3_login_returns_a_token_pair(client: AsyncClient, world: World) -> None:
    r = await login(client, world.admin_s1.username)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_minutes * 60
    assert body["access_token"] != body["refresh_token"]
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == str(world.admin_s1.id)


async def test_r_org_3_me_shows_user_unit_roles_and_stored_permissions(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.get(ME, headers=auth(world.worker_g1, clock))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["id"] == str(world.worker_g1.id)
    assert me["username"] == world.worker_g1.username
    assert me["is_superuser"] is False
    assert me["unit"] == {
        "id": str(world.g1.id),
        "code": "653101001001001",
        "name": world.g1.name,
        "level": "grid",
    }
    assert me["department"] is None
    assert me["roles"] == ["grid_worker"]
    stored = (
        await session.execute(
            select(RolePermission.permission_code).where(RolePermission.role_code == "grid_worker")
        )
    ).scalars()
    assert me["permissions"] == sorted(stored)
    assert "user:write" not in me["permissions"]


async def test_r_org_3_me_of_a_department_user_names_the_department(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    handler = await make_user(session, roles=["department_handler"], department=world.dept_s1)
    r = await client.get(ME, headers=auth(handler, clock))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["unit"] is None
    assert me["department"] == {
        "id": str(world.dept_s1.id),
        "code": world.dept_s1.code,
        "name": world.dept_s1.name,
        "unit_id": str(world.s1.id),
    }
    assert me["roles"] == ["department_handler"]


async def test_r_org_3_me_merges_the_permissions_of_all_roles(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    user = await make_user(session, roles=["grid_worker", "auditor"], unit=world.c1)
    r = await client.get(ME, headers=auth(user, clock))
    assert r.status_code == 200, r.text
    stored = (
        await session.execute(
            select(RolePermission.permission_code).where(
                RolePermission.role_code.in_(["grid_worker", "auditor"])
            )
        )
    ).scalars()
    assert r.json()["roles"] == ["auditor", "grid_worker"]
    assert r.json()["permissions"] == sorted(set(stored))


async def test_r_org_3_wrong_password_and_unknown_user_read_the_same(
    client: AsyncClient, world: World
) -> None:
    wrong = await login(client, world.admin_s1.username, "wrong-password-1")
    unknown = await login(client, unique("nobody_"), "wrong-password-1")
    body = assert_problem(wrong, 401, "invalid_credentials")
    assert assert_problem(unknown, 401, "invalid_credentials") == body
    assert "access_token" not in body


async def test_r_org_3_login_body_is_validated(client: AsyncClient) -> None:
    r = await client.post(TOKEN, json={"username": "x"})
    body = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["password"]


# --- lockout (Redis, injected clock) ---------------------------------------------------------


async def test_r_org_3_five_failures_lock_even_the_right_password_for_15_minutes(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    generic = assert_problem(
        await login(client, user.username, "nope12345"), 401, "invalid_credentials"
    )
    for _ in range(4):
        assert_problem(await login(client, user.username, "nope12345"), 401, "invalid_credentials")
    locked = await login(client, user.username)
    assert assert_problem(locked, 401, "invalid_credentials") == generic
    clock.advance(timedelta(minutes=14, seconds=59))
    assert_problem(await login(client, user.username), 401, "invalid_credentials")
    clock.advance(timedelta(seconds=2))
    r = await login(client, user.username)
    assert r.status_code == 200, r.text


async def test_r_org_3_a_lock_is_per_user(
    client: AsyncClient, session: AsyncSession, world: World
) -> None:
    victim = await make_user(session, roles=["grid_worker"], unit=world.g1)
    for _ in range(5):
        await login(client, victim.username, "nope12345")
    assert_problem(await login(client, victim.username), 401, "invalid_credentials")
    assert (await login(client, world.worker_g1.username)).status_code == 200


async def test_r_org_3_success_resets_the_failure_count(
    client: AsyncClient, session: AsyncSession, world: World
) -> None:
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    for _ in range(4):
        await login(client, user.username, "nope12345")
    assert (await login(client, user.username)).status_code == 200
    for _ in range(4):
        await login(client, user.username, "nope12345")
    assert (await login(client, user.username)).status_code == 200


async def test_r_org_3_failures_older_than_the_window_do_not_count(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The failure window follows the injected clock, not Redis' own TTL."""
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    for _ in range(4):
        await login(client, user.username, "nope12345")
    clock.advance(timedelta(hours=2))
    assert_problem(await login(client, user.username, "nope12345"), 401, "invalid_credentials")
    r = await login(client, user.username)
    assert r.status_code == 200, r.text


async def test_r_org_3_unknown_usernames_lock_too(client: AsyncClient, clock: MovableClock) -> None:
    name = unique("ghost_")
    bodies = [(await login(client, name, "nope12345")).json() for _ in range(7)]
    assert all(b == bodies[0] for b in bodies)
    assert bodies[0]["code"] == "invalid_credentials"


# --- disabled users --------------------------------------------------------------------------


async def test_r_org_3_a_disabled_user_cannot_sign_in_and_its_tokens_stop_working(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    pair = await tokens(client, user.username)
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 200
    r = await client.patch(
        f"/api/v1/users/{user.id}", json={"is_active": False}, headers=auth(world.admin_s1, clock)
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    generic = assert_problem(
        await login(client, unique("nobody_"), PASSWORD), 401, "invalid_credentials"
    )
    assert assert_problem(await login(client, user.username), 401, "invalid_credentials") == generic
    assert_problem(await client.get(ME, headers=bearer(pair["access_token"])), 401, "token_invalid")
    r = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert_problem(r, 401, "token_invalid")


async def test_r_org_3_re_enabling_a_user_does_not_revive_its_old_sessions(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    pair = await tokens(client, user.username)
    admin = auth(world.admin_s1, clock)
    url = f"/api/v1/users/{user.id}"
    assert (await client.patch(url, json={"is_active": False}, headers=admin)).status_code == 200
    assert (await client.patch(url, json={"is_active": True}, headers=admin)).status_code == 200
    r = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert_problem(r, 401, "token_invalid")
    assert (await login(client, user.username)).status_code == 200


async def test_r_org_3_a_password_reset_ends_sessions_and_changes_the_password(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    user = await make_user(session, roles=["grid_worker"], unit=world.g1)
    pair = await tokens(client, user.username)
    r = await client.patch(
        f"/api/v1/users/{user.id}",
        json={"password": "Fresh2026pw"},
        headers=auth(world.admin_s1, clock),
    )
    assert r.status_code == 200, r.text
    r = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert_problem(r, 401, "token_invalid")
    assert_problem(await login(client, user.username), 401, "invalid_credentials")
    assert (await login(client, user.username, "Fresh2026pw")).status_code == 200


# --- access tokens ---------------------------------------------------------------------------


def _flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    first = "A" if signature[0] != "A" else "B"
    return f"{head}.{payload}.{first}{signature[1:]}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(user_id: uuid.UUID, clock: MovableClock, **overrides: Any) -> dict[str, Any]:
    now = int(clock.now().timestamp())
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "typ": "access",
        "iat": now,
        "exp": now + 600,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _alg_none(user_id: uuid.UUID, clock: MovableClock) -> str:
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    return f"{header}.{_b64(orjson.dumps(_claims(user_id, clock)))}."


TAMPERED: dict[str, Callable[[Any, MovableClock, str], str]] = {
    "flipped_signature": lambda user, clock, good: _flip_signature(good),
    "other_key": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock), "another-secret-key-0123456789abcdef", algorithm="HS256"
    ),
    "alg_none": lambda user, clock, good: _alg_none(user.id, clock),
    "not_an_access_token": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock, typ="refresh"), get_settings().secret_key, algorithm="HS256"
    ),
    "no_expiry": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock, exp=None), get_settings().secret_key, algorithm="HS256"
    ),
    "subject_not_a_uuid": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock, sub="admin"), get_settings().secret_key, algorithm="HS256"
    ),
    "unknown_subject": lambda user, clock, good: jwt.encode(
        _claims(uuid.uuid4(), clock), get_settings().secret_key, algorithm="HS256"
    ),
    "no_issued_at": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock, iat=None), get_settings().secret_key, algorithm="HS256"
    ),
    "issued_in_the_future": lambda user, clock, good: jwt.encode(
        _claims(
            user.id,
            clock,
            iat=int(clock.now().timestamp()) + 3600,
            exp=int(clock.now().timestamp()) + 4200,
        ),
        get_settings().secret_key,
        algorithm="HS256",
    ),
    "not_yet_valid": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock, nbf=int(clock.now().timestamp()) + 3600),
        get_settings().secret_key,
        algorithm="HS256",
    ),
    "signed_with_another_algorithm": lambda user, clock, good: jwt.encode(
        _claims(user.id, clock), get_settings().secret_key, algorithm="HS512"
    ),
    "garbage": lambda user, clock, good: "not.a.token",
}


@pytest.mark.parametrize("kind", sorted(TAMPERED))
async def test_r_org_3_tampered_tokens_are_token_invalid(
    kind: str, client: AsyncClient, world: World, clock: MovableClock
) -> None:
    good = (await tokens(client, world.admin_s1.username))["access_token"]
    assert (await client.get(ME, headers=bearer(good))).status_code == 200
    forged = TAMPERED[kind](world.admin_s1, clock, good)
    assert_problem(await client.get(ME, headers=bearer(forged)), 401, "token_invalid")


async def test_r_org_3_the_refresh_token_is_not_a_bearer_token(
    client: AsyncClient, world: World
) -> None:
    pair = await tokens(client, world.admin_s1.username)
    r = await client.get(ME, headers=bearer(pair["refresh_token"]))
    assert_problem(r, 401, "token_invalid")


async def test_r_org_3_access_token_expires_after_15_minutes_of_the_injected_clock(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    access = (await tokens(client, world.admin_s1.username))["access_token"]
    clock.advance(timedelta(minutes=14))
    assert (await client.get(ME, headers=bearer(access))).status_code == 200
    clock.advance(timedelta(minutes=2))
    assert_problem(await client.get(ME, headers=bearer(access)), 401, "token_invalid")


async def test_r_org_3_tokens_follow_the_injected_clock_ahead_of_the_wall_clock(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    """A token issued 'in the future' of the wall clock is valid by the injected clock."""
    clock.advance(timedelta(days=3))
    access = (await tokens(client, world.admin_s1.username))["access_token"]
    r = await client.get(ME, headers=bearer(access))
    assert r.status_code == 200, r.text
    assert (await client.get(ME, headers=auth(world.worker_g1, clock))).status_code == 200


async def test_r_org_3_no_token_is_401(client: AsyncClient) -> None:
    r = await client.get(ME)
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    r = await client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401, r.text


# --- refresh rotation and reuse detection ----------------------------------------------------


async def test_r_org_3_refresh_rotates_the_pair(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    first = await tokens(client, world.admin_s1.username)
    clock.advance(timedelta(minutes=20))  # the first access token has expired
    r = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["token_type"] == "bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert_problem(
        await client.get(ME, headers=bearer(first["access_token"])), 401, "token_invalid"
    )
    assert (await client.get(ME, headers=bearer(second["access_token"]))).status_code == 200
    again = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401, again.text


async def test_r_org_3_reusing_a_spent_refresh_token_revokes_the_whole_family(
    client: AsyncClient, world: World
) -> None:
    first = await tokens(client, world.admin_s1.username)
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    third = (await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})).json()
    # Another sign-in of the same user is another family and stays valid.
    other = await tokens(client, world.admin_s1.username)

    r = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert_problem(r, 401, "refresh_token_reused")
    # The revocation was committed despite the 401: the newest token of the family is dead.
    r = await client.post(REFRESH, json={"refresh_token": third["refresh_token"]})
    assert_problem(r, 401, "token_invalid")
    r = await client.post(REFRESH, json={"refresh_token": other["refresh_token"]})
    assert r.status_code == 200, r.text


async def test_r_org_3_unknown_or_expired_refresh_tokens_are_token_invalid(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.post(REFRESH, json={"refresh_token": "x" * 43})
    assert_problem(r, 401, "token_invalid")
    pair = await tokens(client, world.admin_s1.username)
    clock.advance(timedelta(days=get_settings().refresh_token_days, seconds=1))
    r = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert_problem(r, 401, "token_invalid")


# --- permissions -----------------------------------------------------------------------------


async def test_r_org_3_missing_permission_is_403(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    body = {
        "username": unique("new_"),
        "password": "abc123456",
        "full_name": "新用户",
        "unit_id": str(world.g1.id),
        "roles": ["grid_worker"],
    }
    r = await client.post("/api/v1/users", json=body, headers=auth(world.worker_g1, clock))
    assert_problem(r, 403, "permission_denied")


def _owner_dsn() -> str:
    return get_settings().owner_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def scratch_role() -> AsyncIterator[tuple[str, asyncpg.Connection]]:
    """A committed test-only role granting `self:read` and `org:read`, through a superuser
    connection (the app role may only read the grants). It is removed after the test's own
    transaction has rolled back: list this fixture first so its teardown runs last."""
    code = unique("t_role_")
    owner = await asyncpg.connect(_owner_dsn())
    try:
        await owner.execute("SET lock_timeout = '5s'")
        await owner.execute("INSERT INTO roles (code, name) VALUES ($1, '测试角色')", code)
        await owner.execute(
            "INSERT INTO role_permissions (role_code, permission_code) "
            "VALUES ($1, 'self:read'), ($1, 'org:read')",
            code,
        )
        yield code, owner
    finally:
        await owner.execute("DELETE FROM role_permissions WHERE role_code = $1", code)
        await owner.execute("DELETE FROM roles WHERE code = $1", code)
        await owner.close()


async def test_r_org_3_permissions_are_data_revoking_a_grant_takes_effect(
    scratch_role: tuple[str, asyncpg.Connection],
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    code, owner = scratch_role
    user = await make_user(session, roles=[code], unit=world.c1)
    headers = auth(user, clock)
    r = await client.get(f"/api/v1/org-units/{world.c1.id}", headers=headers)
    assert r.status_code == 200, r.text
    me = (await client.get(ME, headers=headers)).json()
    assert me["permissions"] == ["org:read", "self:read"]

    await owner.execute(
        "DELETE FROM role_permissions WHERE role_code = $1 AND permission_code = 'org:read'",
        code,
    )
    r = await client.get(f"/api/v1/org-units/{world.c1.id}", headers=headers)
    assert_problem(r, 403, "permission_denied")
    assert (await client.get(ME, headers=headers)).json()["permissions"] == ["self:read"]

    await owner.execute(
        "INSERT INTO role_permissions (role_code, permission_code) VALUES ($1, 'user:read')",
        code,
    )
    r = await client.get("/api/v1/users", headers=headers)
    assert r.status_code == 200, r.text
    # Its own subtree only: itself and the worker of G1 (under C1).
    assert {item["id"] for item in r.json()["items"]} == {str(user.id), str(world.worker_g1.id)}
