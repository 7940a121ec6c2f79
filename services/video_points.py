"""Video points (视频点位, R-VID-1): camera metadata — name, location, stream URL, owner — kept
as a map layer. The platform stores and shows them; it never relays video."""

import uuid
from dataclasses import dataclass
from typing import Any

from domain.places import STREAM_SCHEMES, VideoSource, check_urls
from domain.registry import Status
from services.context import Ctx
from services.models import VideoPoint
from services.pagination import AnySelect
from services.places import BBox, Registry, geojson_of, in_bbox, in_unit, name_matches, stored
from services.registry import grid_for_record

VIDEO_POINTS: Registry[VideoPoint] = Registry(
    model=VideoPoint,
    target_type="video_point",
    not_found="video_point_not_found",
    columns=(
        VideoPoint.id,
        VideoPoint.grid_id,
        VideoPoint.path,
        VideoPoint.name,
        VideoPoint.code,
        VideoPoint.source,
        geojson_of(VideoPoint.location),
        VideoPoint.stream_url,
        VideoPoint.owner,
        VideoPoint.status,
        VideoPoint.status_reason,
        VideoPoint.status_changed_at,
        VideoPoint.version,
        VideoPoint.created_at,
        VideoPoint.updated_at,
        VideoPoint.created_by,
    ),
    sort=VideoPoint.name,
)


@dataclass(frozen=True)
class VideoPointFilter:
    unit_id: uuid.UUID | None = None
    source: VideoSource | None = None
    owner: str | None = None
    status: Status | None = None
    q: str | None = None


def video_points_query(ctx: Ctx, f: VideoPointFilter, bbox: BBox | None = None) -> AnySelect:
    """Video points in jurisdiction matching the filters (the list, its export, the map)."""
    stmt = VIDEO_POINTS.query(ctx)
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(VideoPoint.path, f.unit_id))
    if f.source is not None:
        stmt = stmt.where(VideoPoint.source == f.source.value)
    if f.owner is not None:
        stmt = stmt.where(VideoPoint.owner == f.owner)
    if f.status is not None:
        stmt = stmt.where(VideoPoint.status == f.status.value)
    if f.q:
        stmt = stmt.where(
            name_matches(VideoPoint.name, f.q)
            | name_matches(VideoPoint.owner, f.q)
            | (VideoPoint.code == f.q.strip())
        )
    if bbox is not None:
        stmt = stmt.where(in_bbox(VideoPoint.location, bbox))
    return stmt


def _check_stream_url(url: str | None) -> None:
    if url is not None:
        check_urls({"stream_url": url}, STREAM_SCHEMES)


async def create_video_point(
    ctx: Ctx, *, grid_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    """A camera in a grid; its stream URL must be rtsp, http or https."""
    grid = await grid_for_record(ctx, grid_id)
    _check_stream_url(values["stream_url"])
    return await VIDEO_POINTS.create(
        ctx, VideoPoint(grid_id=grid.id, **stored(values)), path=grid.path
    )


async def update_video_point(
    ctx: Ctx, video_point_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the given fields; a new stream URL is checked like a new one."""
    _check_stream_url(changes.get("stream_url"))
    return await VIDEO_POINTS.update(
        ctx, video_point_id, changes, expected_version=expected_version
    )
