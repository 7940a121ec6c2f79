"""Video points (R-VID-1): camera metadata as a map layer; video is never relayed."""

from typing import Annotated

from fastapi import APIRouter, Response, status

from api.deps import requires
from api.registry_routes import (
    add_browse_routes,
    add_lifecycle_routes,
    add_update_route,
    point,
    shown,
)
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.places import (
    VIDEO_POINT_COLUMNS,
    VideoPointCreate,
    VideoPointOut,
    VideoPointUpdate,
)
from domain.coords import Crs
from domain.permissions import Perm
from services import video_points
from services.context import Ctx
from services.video_points import VIDEO_POINTS, VideoPointFilter

router = APIRouter(
    prefix="/api/v1/video-points", tags=["video-points"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VideoPointOut)
async def create_video_point(
    body: VideoPointCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> VideoPointOut:
    """A camera in a grid; the stream URL is rtsp, http or https."""
    values = body.model_dump(exclude={"grid_id"})
    values["location"] = point(body.location, crs)
    data = await video_points.create_video_point(ctx, grid_id=body.grid_id, values=values)
    return shown(response, VideoPointOut, data, f"/api/v1/video-points/{data['id']}")


add_browse_routes(
    router,
    path="/{video_point_id}",
    registry=VIDEO_POINTS,
    model=VideoPointOut,
    filter_type=VideoPointFilter,
    query=video_points.video_points_query,
    columns=VIDEO_POINT_COLUMNS,
    plural="video_points",
    filename="视频点位",
    list_description="By name; `bbox` gives the points of a map view.",
    permission=Perm.PLACE_READ,
)


add_update_route(
    router,
    path="/{video_point_id}",
    registry=VIDEO_POINTS,
    model=VideoPointOut,
    body_model=VideoPointUpdate,
    update=video_points.update_video_point,
    permission=Perm.PLACE_WRITE,
)


add_lifecycle_routes(
    router,
    path="/{video_point_id}",
    registry=VIDEO_POINTS,
    model=VideoPointOut,
    permission=Perm.PLACE_WRITE,
)
