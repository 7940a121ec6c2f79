"""Roles and the permissions they grant, as stored (R-ORG-3)."""

from typing import Any

from sqlalchemy import select

from services.context import Ctx
from services.models import Role, RolePermission


async def list_roles(ctx: Ctx) -> list[dict[str, Any]]:
    roles = (await ctx.session.execute(select(Role.code, Role.name).order_by(Role.code))).all()
    grants = (
        await ctx.session.execute(
            select(RolePermission.role_code, RolePermission.permission_code).order_by(
                RolePermission.permission_code
            )
        )
    ).all()
    by_role: dict[str, list[str]] = {}
    for grant in grants:
        by_role.setdefault(grant.role_code, []).append(grant.permission_code)
    return [{"code": r.code, "name": r.name, "permissions": by_role.get(r.code, [])} for r in roles]
