"""Users and their roles (R-ORG-3): each belongs to exactly one unit or one department."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update

from domain.errors import FieldError, Invalid, NotFound
from domain.versioning import check_version
from services import audit, org_units
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope, path_in_scope
from services.models import Department, OrgUnit, RefreshToken, Role, User, UserRole
from services.pagination import AnySelect, Page, paginate
from services.passwords import hash_password

COLUMNS = (
    User.id,
    User.username,
    User.full_name,
    User.phone,
    User.unit_id,
    User.department_id,
    User.is_superuser,
    User.is_active,
    User.version,
    User.created_at,
    User.updated_at,
)


async def _home_path(ctx: Ctx, unit_id: uuid.UUID | None, department_id: uuid.UUID | None) -> str:
    """The jurisdiction path of a user's home, which must lie in the caller's subtree."""
    if (unit_id is None) == (department_id is None):
        raise Invalid(
            "user_home_required",
            errors=[FieldError("unit_id", "user_home_required")],
        )
    if unit_id is not None:
        unit = await org_units.lock_unit(ctx, unit_id)
        return unit.path
    department = await ctx.session.get(Department, department_id)
    if department is None or department.deleted_at is not None:
        raise NotFound("department_not_found")
    if not path_in_scope(department.path, ctx.principal):
        raise NotFound("department_not_found")
    return department.path


async def _check_roles(ctx: Ctx, roles: list[str]) -> None:
    known = set((await ctx.session.execute(select(Role.code))).scalars())
    for role in roles:
        if role not in known:
            raise Invalid(
                "role_unknown",
                params={"role": role},
                errors=[FieldError("roles", "role_unknown", {"role": role})],
            )


async def _set_roles(ctx: Ctx, user_id: uuid.UUID, roles: list[str]) -> None:
    await _check_roles(ctx, roles)
    await ctx.session.execute(delete(UserRole).where(UserRole.user_id == user_id))
    ctx.session.add_all(UserRole(user_id=user_id, role_code=role) for role in sorted(set(roles)))
    await ctx.session.flush()


async def create_user(
    ctx: Ctx,
    *,
    username: str,
    password: str,
    full_name: str,
    phone: str | None,
    unit_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
    roles: list[str],
) -> dict[str, Any]:
    path = await _home_path(ctx, unit_id, department_id)
    now = ctx.now()
    user = User(
        username=username,
        password_hash=hash_password(password),
        full_name=full_name,
        phone=phone,
        unit_id=unit_id,
        department_id=department_id,
        path=path,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(user)
    await flush_unique(ctx.session, username=username)
    await _set_roles(ctx, user.id, roles)
    await audit.record(
        ctx,
        action="user.create",
        target_type="user",
        target_id=user.id,
        unit_path=path,
        after=snapshot(user, roles),
    )
    return await get_user(ctx, user.id)


def snapshot(user: User, roles: list[str]) -> dict[str, Any]:
    """The audited state of a user."""
    return {
        "username": user.username,
        "full_name": user.full_name,
        "unit_id": str(user.unit_id) if user.unit_id else None,
        "department_id": str(user.department_id) if user.department_id else None,
        "is_active": user.is_active,
        "roles": sorted(roles),
    }


async def _roles_of(ctx: Ctx, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    rows = (
        await ctx.session.execute(
            select(UserRole.user_id, UserRole.role_code)
            .where(UserRole.user_id.in_(user_ids))
            .order_by(UserRole.role_code)
        )
    ).all()
    roles: dict[uuid.UUID, list[str]] = {uid: [] for uid in user_ids}
    for row in rows:
        roles[row.user_id].append(row.role_code)
    return roles


async def get_user(ctx: Ctx, user_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(User.id == user_id, in_scope(User.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    data = dict(row._mapping)
    data["roles"] = (await _roles_of(ctx, [user_id]))[user_id]
    return data


def users_query(ctx: Ctx, *, unit_id: uuid.UUID | None, q: str | None) -> AnySelect:
    """Users in jurisdiction matching the filters (shared by the list and its export)."""
    stmt = select(*COLUMNS).where(in_scope(User.path, ctx.principal))
    if unit_id is not None:
        stmt = stmt.where(User.unit_id == unit_id)
    if q:
        stmt = stmt.where(
            User.username.icontains(q, autoescape=True)
            | User.full_name.icontains(q, autoescape=True)
        )
    return stmt


async def list_users(
    ctx: Ctx,
    *,
    limit: int,
    cursor: str | None,
    unit_id: uuid.UUID | None,
    q: str | None,
) -> Page[dict[str, Any]]:
    page = await paginate(
        ctx.session,
        users_query(ctx, unit_id=unit_id, q=q),
        key=(User.username, User.id),
        limit=limit,
        cursor=cursor,
    )
    roles = await _roles_of(ctx, [item["id"] for item in page.items])
    for item in page.items:
        item["roles"] = roles[item["id"]]
    return page


@dataclass(frozen=True)
class UserChanges:
    fields: frozenset[str]
    full_name: str | None = None
    phone: str | None = None
    is_active: bool | None = None
    password: str | None = None
    roles: list[str] | None = None


async def update_user(
    ctx: Ctx, user_id: uuid.UUID, changes: UserChanges, *, expected_version: int | None
) -> dict[str, Any]:
    user = (
        await ctx.session.execute(
            select(User)
            .where(User.id == user_id, in_scope(User.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if user is None:
        raise NotFound()
    check_version(expected_version, user.version)
    old_roles = (await _roles_of(ctx, [user.id]))[user.id]
    before = snapshot(user, old_roles)
    if "full_name" in changes.fields and changes.full_name is not None:
        user.full_name = changes.full_name
    if "phone" in changes.fields:
        user.phone = changes.phone
    if "is_active" in changes.fields and changes.is_active is not None:
        user.is_active = changes.is_active
    if "password" in changes.fields and changes.password is not None:
        user.password_hash = hash_password(changes.password)
    new_roles = old_roles
    if "roles" in changes.fields and changes.roles is not None:
        await _set_roles(ctx, user.id, changes.roles)
        new_roles = sorted(set(changes.roles))
    if changes.is_active is False or changes.password is not None:
        # Disabling a user or resetting its password ends its sessions: re-enabling it later
        # must not revive refresh tokens issued before.
        await ctx.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=ctx.now())
        )
    user.version += 1
    user.updated_at = ctx.now()
    await ctx.session.flush()
    after = snapshot(user, new_roles)
    if changes.password is not None:
        after["password"] = "changed"
    await audit.record(
        ctx,
        action="user.update",
        target_type="user",
        target_id=user.id,
        unit_path=user.path,
        before=before,
        after=after,
    )
    return await get_user(ctx, user.id)


async def profile(ctx: Ctx) -> dict[str, Any]:
    """The caller with its home unit or department, roles and effective permissions."""
    principal = ctx.principal
    unit = department = None
    if principal.unit_id is not None:
        unit = (
            (
                await ctx.session.execute(
                    select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level).where(
                        OrgUnit.id == principal.unit_id
                    )
                )
            )
            .one()
            ._asdict()
        )
    if principal.department_id is not None:
        department = (
            (
                await ctx.session.execute(
                    select(
                        Department.id, Department.code, Department.name, Department.unit_id
                    ).where(Department.id == principal.department_id)
                )
            )
            .one()
            ._asdict()
        )
    return {
        "id": principal.user_id,
        "username": principal.username,
        "full_name": principal.full_name,
        "is_superuser": principal.is_superuser,
        "unit": unit,
        "department": department,
        "roles": list(principal.roles),
        "permissions": sorted(principal.permissions),
    }
