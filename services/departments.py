"""Functional departments (职能部门, R-ORG-2): outside the territorial tree, scoped by the
district or street unit they belong to."""

import uuid
from typing import Any

from sqlalchemy import func, select

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.org import DEPARTMENT_HOME_LEVELS, Level
from domain.versioning import check_version
from services import audit, org_units
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Department, User
from services.pagination import AnySelect, Page, paginate

COLUMNS = (
    Department.id,
    Department.code,
    Department.name,
    Department.unit_id,
    Department.version,
    Department.created_at,
    Department.updated_at,
)


async def create_department(
    ctx: Ctx, *, code: str, name: str, unit_id: uuid.UUID
) -> dict[str, Any]:
    unit = await org_units.lock_unit(ctx, unit_id)
    if Level(unit.level) not in DEPARTMENT_HOME_LEVELS:
        raise Invalid(
            "department_unit_level", errors=[FieldError("unit_id", "department_unit_level")]
        )
    now = ctx.now()
    department = Department(
        code=code,
        name=name,
        unit_id=unit.id,
        path=unit.path,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(department)
    await flush_unique(ctx.session, code=code)
    await audit.record(
        ctx,
        action="department.create",
        target_type="department",
        target_id=department.id,
        unit_path=unit.path,
        after={"code": code, "name": name, "unit_id": str(unit.id)},
    )
    return await get_department(ctx, department.id)


async def get_department(ctx: Ctx, department_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(
                Department.id == department_id,
                Department.deleted_at.is_(None),
                in_scope(Department.path, ctx.principal),
            )
        )
    ).one_or_none()
    if row is None:
        raise NotFound("department_not_found")
    return dict(row._mapping)


def departments_query(ctx: Ctx, *, unit_id: uuid.UUID | None) -> AnySelect:
    """Live departments in jurisdiction (shared by the list and its export)."""
    stmt = select(*COLUMNS).where(
        Department.deleted_at.is_(None),
        in_scope(Department.path, ctx.principal),
    )
    if unit_id is not None:
        stmt = stmt.where(Department.unit_id == unit_id)
    return stmt


async def list_departments(
    ctx: Ctx, *, limit: int, cursor: str | None, unit_id: uuid.UUID | None
) -> Page[dict[str, Any]]:
    return await paginate(
        ctx.session,
        departments_query(ctx, unit_id=unit_id),
        key=(Department.code, Department.id),
        limit=limit,
        cursor=cursor,
    )


async def _lock(ctx: Ctx, department_id: uuid.UUID) -> Department:
    department = (
        await ctx.session.execute(
            select(Department)
            .where(
                Department.id == department_id,
                Department.deleted_at.is_(None),
                in_scope(Department.path, ctx.principal),
            )
            .with_for_update()
        )
    ).scalar_one_or_none()
    if department is None:
        raise NotFound("department_not_found")
    return department


def _snapshot(department: Department) -> dict[str, Any]:
    return {"code": department.code, "name": department.name, "version": department.version}


async def rename_department(
    ctx: Ctx, department_id: uuid.UUID, *, name: str, expected_version: int | None
) -> dict[str, Any]:
    department = await _lock(ctx, department_id)
    check_version(expected_version, department.version)
    before = _snapshot(department)
    department.name = name
    department.version += 1
    department.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="department.update",
        target_type="department",
        target_id=department.id,
        unit_path=department.path,
        before=before,
        after=_snapshot(department),
    )
    return await get_department(ctx, department.id)


async def delete_department(
    ctx: Ctx, department_id: uuid.UUID, *, expected_version: int | None, reason: str | None
) -> None:
    """Retire a department that no active user belongs to; its history stays readable."""
    department = await _lock(ctx, department_id)
    check_version(expected_version, department.version)
    members = await ctx.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.department_id == department.id, User.is_active)
    )
    if members:
        raise Conflict("unit_has_members")
    before = _snapshot(department)
    department.deleted_at = ctx.now()
    department.version += 1
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="department.delete",
        target_type="department",
        target_id=department.id,
        unit_path=department.path,
        before=before,
        reason=reason,
    )
