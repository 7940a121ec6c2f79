"""Versioned history of org units and grids (R-GRID-2): every change closes the open version
and opens a new one, with actor, reason and validity period, so the layout can be read "as of"
any instant."""

from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import update

from services.context import Ctx
from services.models import OrgUnit, OrgUnitVersion


async def record_version(
    ctx: Ctx,
    unit: OrgUnit,
    operation: str,
    *,
    geometry: BaseGeometry | None,
    reason: str | None,
    attributes: dict[str, Any] | None = None,
) -> None:
    """Close the unit's open version (if any) at `now` and, unless the unit was deleted,
    open the version describing its current state."""
    now = ctx.now()
    await ctx.session.execute(
        update(OrgUnitVersion)
        .where(OrgUnitVersion.unit_id == unit.id, OrgUnitVersion.valid_to.is_(None))
        .values(valid_to=now)
    )
    ctx.session.add(
        OrgUnitVersion(
            unit_id=unit.id,
            version=unit.version,
            operation=operation,
            code=unit.code,
            name=unit.name,
            level=unit.level,
            parent_id=unit.parent_id,
            path=unit.path,
            geom=from_shape(geometry, srid=4326) if geometry is not None else None,
            attributes=attributes or {},
            reason=reason,
            actor_id=ctx.principal.user_id,
            valid_from=now,
            # A deletion is recorded as a version valid for no time at all.
            valid_to=now if operation == "delete" else None,
        )
    )
