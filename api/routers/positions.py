"""The caller's own position, reported by the mobile grid-worker app (R-MAP-1 layer
`worker_positions`: grid workers' last positions)."""

import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import Field

from api.deps import requires
from api.registry_routes import point
from api.schemas.common import PROBLEM_RESPONSES, Input, Instant, Output
from domain.coords import Crs
from domain.permissions import Perm
from services import positions
from services.context import Ctx

router = APIRouter(prefix="/api/v1/me", tags=["map"], responses=PROBLEM_RESPONSES)


class PositionIn(Input):
    location: dict[str, Any] = Field(
        description="GeoJSON Point where the caller is",
        examples=[{"type": "Point", "coordinates": [75.99, 39.47]}],
    )
    accuracy_m: Annotated[float | None, Field(ge=0, le=100_000)] = None


class PositionOut(Output):
    user_id: uuid.UUID
    full_name: str
    location: dict[str, Any]
    accuracy_m: float | None
    reported_at: Instant


@router.put("/position", response_model=PositionOut)
async def report_position(
    body: PositionIn,
    ctx: Annotated[Ctx, requires(Perm.POSITION_REPORT)],
    crs: Crs = Crs.WGS84,
) -> PositionOut:
    """Where the caller is now (phones send `crs=gcj02`); replaces their last position."""
    location = point(body.location, crs)
    assert location is not None
    return PositionOut.model_validate(
        await positions.report_position(ctx, location, body.accuracy_m)
    )
