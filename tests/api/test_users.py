"""R-ORG-3 users: exactly one home (unit or department) inside the caller's jurisdiction
(R-JUR-1), roles from the stored catalogue, argon2id hashes never shown, duplicates caught by
the unique constraint even across jurisdictions, optimistic concurrency, audit (R-AUD-1)."""

import uuid
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import set_scope
from services.models import AuditEntry, User, UserRole
from tests.conftest import MovableClock, unique
from tests.factories import PASSWORD, World, assert_problem, auth, make_user

USERS = "/api/v1/users"
NEW_PASSWORD = "Newpass2026"


def new_user(unit_id: uuid.UUID | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "username": unique("user_"),
        "password": NEW_PASSWORD,
        "full_name": "王小明",
        "phone": "13800001111",
        "roles": ["grid_leader", "community_staff"],
    }
    if unit_id is not None:
        body["unit_id"] = str(unit_id)
    body.update(overrides)
    return body


async def user_count(session: AsyncSession) -> int:
    await set_scope(session, "*")
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


async def stored_user(session: AsyncSession, username: str) -> Any:
    await set_scope(session, "*")
    return (
        await session.execute(
            select(User.id, User.password_hash, User.path, User.unit_id, User.department_id).where(
                User.username == username
            )
        )
    ).one_or_none()


async def audit_entries(session: AsyncSession, target_id: str) -> list[Any]:
    await set_scope(session, "*")
    return list(
        (
            await session.execute(
                select(AuditEntry)
                .where(AuditEntry.target_type == "user", AuditEntry.target_id == target_id)
                .order_by(AuditEntry.id)
            )
        ).scalars()
    )


def assert_no_secret(r: Response) -> None:
    text = r.text
    assert "password" not in text
    assert "argon2" not in text
    assert NEW_PASSWORD not in text


# --- create ----------------------------------------------------------------------------------


async def test_r_org_3_create_a_user_at_a_unit_in_scope(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    body = new_user(world.c1.id)
    r = await client.post(USERS, json=body, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    assert r.headers["etag"] == '"1"'
    out = r.json()
    assert r.headers["location"] == f"/api/v1/users/{out['id']}"
    assert out["username"] == body["username"]
    assert out["full_name"] == "王小明"
    assert out["phone"] == "13800001111"
    assert out["unit_id"] == str(world.c1.id)
    assert out["department_id"] is None
    assert out["roles"] == ["community_staff", "grid_leader"]
    assert out["is_active"] is True
    assert out["is_superuser"] is False
    assert out["version"] == 1
    assert out["created_at"].endswith("+08:00")
    assert_no_secret(r)

    row = await stored_user(session, body["username"])
    assert row.path == world.c1.path
    # The new user signs in with the password it was given.
    token = await client.post(
        "/api/v1/auth/token", json={"username": body["username"], "password": NEW_PASSWORD}
    )
    assert token.status_code == 200, token.text


async def test_r_org_3_password_is_stored_as_argon2id_and_never_returned(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    body = new_user(world.g1.id, roles=["grid_worker"])
    created = await client.post(USERS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    row = await stored_user(session, body["username"])
    assert row.password_hash.startswith("$argon2id$")
    assert NEW_PASSWORD not in row.password_hash

    user_id = created.json()["id"]
    responses = [
        created,
        await client.get(f"{USERS}/{user_id}", headers=headers),
        await client.get(USERS, params={"q": body["username"]}, headers=headers),
        await client.patch(f"{USERS}/{user_id}", json={"password": "Another2026"}, headers=headers),
    ]
    for r in responses:
        assert r.status_code == 200 or r.status_code == 201, r.text
        assert_no_secret(r)
        assert row.password_hash not in r.text
    changed = await stored_user(session, body["username"])
    assert changed.password_hash.startswith("$argon2id$")
    assert changed.password_hash != row.password_hash
    for entry in await audit_entries(session, user_id):
        dumped = f"{entry.before} {entry.after}"
        assert "argon2" not in dumped
        assert "Another2026" not in dumped


async def test_r_org_3_a_user_may_live_in_a_department(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    body = new_user(department_id=str(world.dept_s1.id), roles=["department_handler"])
    r = await client.post(USERS, json=body, headers=auth(world.admin_s1, clock))
    assert r.status_code == 201, r.text
    assert r.json()["department_id"] == str(world.dept_s1.id)
    assert r.json()["unit_id"] is None
    row = await stored_user(session, body["username"])
    assert row.path == world.s1.path


async def test_r_org_3_unknown_role_is_422_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await user_count(session)
    body = new_user(world.c1.id, roles=["grid_worker", "overlord"])
    r = await client.post(USERS, json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 422, "role_unknown")
    assert [e["field"] for e in problem["errors"]] == ["roles"]
    assert "overlord" in problem["detail"]
    assert await user_count(session) == before
    assert await stored_user(session, body["username"]) is None


async def test_r_org_3_exactly_one_home_is_required(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await user_count(session)
    headers = auth(world.admin_s1, clock)
    both = new_user(world.c1.id, department_id=str(world.dept_s1.id))
    assert_problem(await client.post(USERS, json=both, headers=headers), 422, "user_home_required")
    neither = new_user()
    assert_problem(
        await client.post(USERS, json=neither, headers=headers), 422, "user_home_required"
    )
    assert await user_count(session) == before


async def test_r_org_3_weak_passwords_are_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await user_count(session)
    headers = auth(world.admin_s1, clock)
    for weak in ("abcdefghij", "1234567890"):
        r = await client.post(USERS, json=new_user(world.c1.id, password=weak), headers=headers)
        problem = assert_problem(r, 422, "password_too_weak")
        assert [e["field"] for e in problem["errors"]] == ["password"]
    r = await client.post(USERS, json=new_user(world.c1.id, password="ab12"), headers=headers)
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["password"]
    assert await user_count(session) == before


async def test_r_org_3_duplicate_username_is_409(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await user_count(session)
    body = new_user(world.c1.id, username=world.worker_g1.username)
    r = await client.post(USERS, json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 409, "username_taken")
    assert [e["field"] for e in problem["errors"]] == ["username"]
    assert await user_count(session) == before


async def test_r_org_3_duplicate_username_outside_jurisdiction_is_still_409(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The unique constraint sees the S1 user that row-level security hides from S2's admin;
    the failed insert leaves nothing behind (no user, no roles, no audit)."""
    headers = auth(world.admin_s2, clock)
    taken = world.worker_g1.username
    hidden = await client.get(f"{USERS}/{world.worker_g1.id}", headers=headers)
    assert_problem(hidden, 404, "not_found")
    before = await user_count(session)
    await set_scope(session, "*")
    roles_before = (await session.execute(select(func.count()).select_from(UserRole))).scalar_one()
    audit_before = (
        await session.execute(select(func.count()).select_from(AuditEntry))
    ).scalar_one()

    r = await client.post(USERS, json=new_user(world.c3.id, username=taken), headers=headers)
    problem = assert_problem(r, 409, "username_taken")
    assert taken in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["username"]

    assert await user_count(session) == before
    await set_scope(session, "*")
    assert (
        await session.execute(select(func.count()).select_from(UserRole))
    ).scalar_one() == roles_before
    assert (
        await session.execute(select(func.count()).select_from(AuditEntry))
    ).scalar_one() == audit_before
    row = await stored_user(session, taken)
    assert row.unit_id == world.g1.id


async def test_r_jur_1_a_home_outside_scope_is_404(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = await user_count(session)
    headers = auth(world.admin_s2, clock)
    r = await client.post(USERS, json=new_user(world.c1.id), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.post(
        USERS, json=new_user(department_id=str(world.dept_s1.id)), headers=headers
    )
    assert_problem(r, 404, "department_not_found")
    # Above one's own unit is outside it too.
    r = await client.post(USERS, json=new_user(world.district.id), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    r = await client.post(USERS, json=new_user(uuid.uuid4()), headers=headers)
    assert_problem(r, 404, "org_unit_not_found")
    assert await user_count(session) == before


async def test_r_org_3_unknown_fields_are_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    body = new_user(world.c1.id, is_superuser=True)
    r = await client.post(USERS, json=body, headers=auth(world.admin_s1, clock))
    problem = assert_problem(r, 422, "validation_failed")
    assert [e["field"] for e in problem["errors"]] == ["is_superuser"]


# --- read ------------------------------------------------------------------------------------


async def test_r_jur_1_get_a_user_in_scope_with_etag_else_404(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(f"{USERS}/{world.worker_g1.id}", headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"1"'
    assert r.json()["roles"] == ["grid_worker"]
    r = await client.get(f"{USERS}/{world.admin_d.id}", headers=auth(world.admin_s1, clock))
    assert_problem(r, 404, "not_found")
    r = await client.get(f"{USERS}/{world.worker_g1.id}", headers=auth(world.admin_s2, clock))
    assert_problem(r, 404, "not_found")


async def test_r_org_3_list_with_q_and_keyset_cursor(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    prefix = unique("pg")
    names = [f"{prefix}_{suffix}" for suffix in ("c", "a", "b")]
    for name in names:
        await make_user(session, roles=["grid_worker"], unit=world.c1, username=name)
    await make_user(session, roles=["grid_worker"], unit=world.c3, username=f"{prefix}_z")
    headers = auth(world.admin_s1, clock)

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(5):
        params: dict[str, Any] = {"q": prefix, "limit": 1}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(USERS, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 3  # the C3 user is outside S1
        assert len(page["items"]) == 1
        seen.append(page["items"][0]["username"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(names)

    r = await client.get(USERS, params={"q": prefix.upper()}, headers=headers)
    assert r.json()["total"] == 3  # case-insensitive
    r = await client.get(USERS, params={"q": prefix}, headers=auth(world.admin_d, clock))
    assert r.json()["total"] == 4
    r = await client.get(USERS, params={"q": prefix}, headers=auth(world.admin_s2, clock))
    assert [item["username"] for item in r.json()["items"]] == [f"{prefix}_z"]
    r = await client.get(USERS, params={"cursor": "!!not-a-cursor"}, headers=headers)
    assert r.status_code == 400, r.text


async def test_r_jur_1_list_shows_only_the_callers_subtree(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.get(USERS, params={"limit": 500}, headers=auth(world.admin_s1, clock))
    assert r.status_code == 200, r.text
    ids = {item["id"] for item in r.json()["items"]}
    assert str(world.admin_s1.id) in ids
    assert str(world.worker_g1.id) in ids
    assert str(world.admin_s2.id) not in ids
    assert str(world.admin_d.id) not in ids


# --- update ----------------------------------------------------------------------------------


async def test_r_org_3_patch_with_stale_if_match_is_412(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = f"{USERS}/{world.worker_g1.id}"
    r = await client.patch(url, json={"full_name": "李四"}, headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["full_name"] == "李四"
    r = await client.patch(url, json={"full_name": "张三"}, headers={**headers, "If-Match": '"1"'})
    assert_problem(r, 412, "precondition_failed")
    assert (await client.get(url, headers=headers)).json()["full_name"] == "李四"
    r = await client.patch(url, json={"full_name": "张三"}, headers={**headers, "If-Match": "x"})
    assert_problem(r, 400, "if_match_invalid")


async def test_r_org_3_patch_roles_replaces_them(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    url = f"{USERS}/{world.worker_g1.id}"
    r = await client.patch(url, json={"roles": ["grid_leader", "leader"]}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["grid_leader", "leader"]
    assert (await client.get(url, headers=headers)).json()["roles"] == ["grid_leader", "leader"]
    me = await client.get("/api/v1/me", headers=auth(world.worker_g1, clock))
    assert me.json()["roles"] == ["grid_leader", "leader"]

    r = await client.patch(url, json={"roles": ["grid_worker", "overlord"]}, headers=headers)
    assert_problem(r, 422, "role_unknown")
    assert (await client.get(url, headers=headers)).json()["roles"] == ["grid_leader", "leader"]


async def test_r_jur_1_sibling_admin_cannot_patch(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    r = await client.patch(
        f"{USERS}/{world.worker_g1.id}",
        json={"is_active": False},
        headers=auth(world.admin_s2, clock),
    )
    assert_problem(r, 404, "not_found")
    login = await client.post(
        "/api/v1/auth/token", json={"username": world.worker_g1.username, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text


# --- audit -----------------------------------------------------------------------------------


async def test_r_aud_1_create_and_update_are_audited(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = {**auth(world.admin_s1, clock), "X-Request-ID": "req-users-audit"}
    body = new_user(world.c1.id, roles=["grid_worker"])
    created = await client.post(USERS, json=body, headers=headers)
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    r = await client.patch(
        f"{USERS}/{user_id}",
        json={"full_name": "赵六", "roles": ["grid_leader"], "password": "Changed2026"},
        headers=headers,
    )
    assert r.status_code == 200, r.text

    entries = await audit_entries(session, user_id)
    assert [e.action for e in entries] == ["user.create", "user.update"]
    create, update = entries
    assert create.actor_id == world.admin_s1.id
    assert create.actor_name == world.admin_s1.username
    assert create.request_id == "req-users-audit"
    assert str(create.unit_path) == world.c1.path
    assert create.before is None
    assert create.after["username"] == body["username"]
    assert create.after["roles"] == ["grid_worker"]
    assert update.before["full_name"] == "王小明"
    assert update.before["roles"] == ["grid_worker"]
    assert update.after["full_name"] == "赵六"
    assert update.after["roles"] == ["grid_leader"]
    assert update.after["password"] == "changed"
    assert update.prev_hash == create.hash
    assert create.at == clock.now()
