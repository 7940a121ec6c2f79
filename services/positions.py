"""Grid workers' last positions (R-MAP-1): the mobile app reports where its user is; the map
shows each user's latest report as the `worker_positions` layer."""

from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from domain.errors import FieldError, Invalid
from services import audit
from services.context import Ctx
from services.models import WorkerPosition


async def report_position(ctx: Ctx, location: Point, accuracy_m: float | None) -> dict[str, Any]:
    """Record the caller's current position, replacing their previous one (one upsert, so
    two reports racing leave the later one). Filed under the caller's own unit; a caller
    without a unit (the whole-tree system) has nowhere to be shown."""
    principal = ctx.principal
    if principal.user_id is None or principal.sees_everything:
        raise Invalid(
            "position_unit_required", errors=[FieldError("location", "position_unit_required")]
        )
    values = {
        "path": principal.scope,
        "full_name": principal.full_name,
        "location": from_shape(location, srid=4326),
        "accuracy_m": accuracy_m,
        "reported_at": ctx.now(),
    }
    stmt = insert(WorkerPosition).values(id=principal.user_id, **values)
    await ctx.session.execute(
        stmt.on_conflict_do_update(index_elements=[WorkerPosition.id], set_=values)
    )
    await audit.record(
        ctx,
        action="position.report",
        target_type="user",
        target_id=principal.user_id,
        unit_path=principal.scope,
        after={"location": [location.x, location.y], "accuracy_m": accuracy_m},
    )
    row = (
        await ctx.session.execute(
            select(
                WorkerPosition.id.label("user_id"),
                WorkerPosition.full_name,
                func.ST_AsGeoJSON(WorkerPosition.location, 7).label("location"),
                WorkerPosition.accuracy_m,
                WorkerPosition.reported_at,
            ).where(WorkerPosition.id == principal.user_id)
        )
    ).one()
    return {**row._mapping, "location": orjson.loads(row.location)}
