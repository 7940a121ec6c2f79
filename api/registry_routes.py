"""The route helpers the registries of organisations and places share (organisations, places,
teams, components, video points): responses with ETags, locations from GeoJSON, partial
updates, the list/export/read routes and the deregister/restore pair."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Protocol, TypeVar, cast

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from shapely.geometry import Point

from api.deps import Paging, requires
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list
from api.geometry import parse_bbox, read_geometry
from api.schemas.common import Output, PageOut
from api.schemas.places import OptionalReasonIn, Patch, ReasonIn, RecordOut
from domain.coords import Crs
from domain.permissions import Perm
from services.context import Ctx
from services.exporting import Column
from services.pagination import AnySelect
from services.places import BBox, Registry

OutT = TypeVar("OutT", bound=Output)
FilterT = TypeVar("FilterT")

IfMatch = Annotated[str | None, Header()]
BBoxQuery = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")]


def shown(response: Response, model: type[OutT], data: dict[str, Any], location: str = "") -> OutT:
    """The response model with its ETag (and Location, for a created resource)."""
    out = model.model_validate(data)
    set_etag(response, data["version"])
    if location:
        response.headers["Location"] = location
    return out


def point(obj: dict[str, Any] | None, crs: Crs, field: str = "location") -> Point | None:
    """A GeoJSON Point from a body, converted from `crs` to WGS-84 (R-GRID-4)."""
    if obj is None:
        return None
    geometry = read_geometry(obj, crs, allowed=("Point",), field=field)
    assert isinstance(geometry, Point)
    return geometry


def located(values: dict[str, Any], crs: Crs) -> dict[str, Any]:
    """Body values with their `location` (when given) read as a WGS-84 point."""
    if "location" in values:
        return {**values, "location": point(values["location"], crs)}
    return values


def bbox_of(text: str | None) -> BBox | None:
    return parse_bbox(text) if text else None


def _id_name(path: str) -> str:
    """The record id parameter named by the last `{…}` of `path`."""
    return path.rsplit("{", 1)[1].rstrip("}")


def add_browse_routes(
    target: APIRouter,
    *,
    path: str,
    registry: Registry[Any],
    model: type[Output],
    filter_type: type[FilterT],
    query: Callable[[Ctx, FilterT, BBox | None], AnySelect],
    columns: list[Column],
    plural: str,
    filename: str,
    list_description: str,
    permission: Perm,
) -> None:
    """`GET ""` (a keyset page by name, filtered and boxed by `bbox`) and `GET {path}` (one
    record with its ETag), both under `permission`, and `GET /export` (the same records as a
    file, masked like the list) under `DATA_EXPORT`.
    `query` selects the records in jurisdiction matching the filters, for the list and its
    export alike; the routes are named `list_{plural}`, `export_{plural}` and
    `get_{registry.target_type}`. Add them before `{path}` routes of other methods, so that
    `/export` is matched before the record id."""
    RecordId = Annotated[uuid.UUID, Path(alias=_id_name(path))]
    # pydantic parametrises the generic at run time; mypy cannot see `model` as a type
    page_model: type[PageOut[Any]] = PageOut[model]  # type: ignore[valid-type]

    @target.get(
        "",
        response_model=page_model,
        name=f"list_{plural}",
        description=list_description,
    )
    async def list_records(
        ctx: Annotated[Ctx, requires(permission)],
        page: Paging,
        filters: Annotated[FilterT, Depends(filter_type)],
        bbox: BBoxQuery = None,
    ) -> PageOut[Any]:
        result = await registry.page(
            ctx, query(ctx, filters, bbox_of(bbox)), limit=page.limit, cursor=page.cursor
        )
        return page_model.model_validate(result, from_attributes=True)

    @target.get("/export", response_class=StreamingResponse, name=f"export_{plural}")
    async def export_records(
        request: Request,
        ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
        filters: Annotated[FilterT, Depends(filter_type)],
        bbox: BBoxQuery = None,
        format: ExportFormat = ExportFormat.XLSX,
    ) -> StreamingResponse:
        return await export_list(
            request,
            ctx,
            query(ctx, filters, bbox_of(bbox)).order_by(*registry.order),
            columns,
            fmt=format,
            filename=filename,
            target_type=registry.target_type,
            filters={**vars(filters), "bbox": bbox},
            mask=registry.mask,
            convert=registry.export_row,
        )

    @target.get(path, response_model=model, name=f"get_{registry.target_type}")
    async def get_record(
        record_id: RecordId, response: Response, ctx: Annotated[Ctx, requires(permission)]
    ) -> Output:
        return shown(response, model, await registry.get(ctx, record_id))


class Update(Protocol):
    """A service's partial update of one record (the changed fields, None clears one)."""

    async def __call__(
        self,
        ctx: Ctx,
        record_id: uuid.UUID,
        changes: dict[str, Any],
        /,
        *,
        expected_version: int | None,
    ) -> dict[str, Any]: ...


def add_update_route(
    target: APIRouter,
    *,
    path: str,
    registry: Registry[Any],
    model: type[Output],
    body_model: type[Patch],
    update: Update,
    permission: Perm,
) -> None:
    """`PATCH {path}` (named `update_{registry.target_type}`): the fields the body sets, a
    `location` read as a point in `crs`, guarded by `If-Match`; answers the record with its
    new ETag."""
    RecordId = Annotated[uuid.UUID, Path(alias=_id_name(path))]

    @target.patch(path, response_model=model, name=f"update_{registry.target_type}")
    async def update_record(
        record_id: RecordId,
        # FastAPI reads the body model from the annotation at run time
        body: body_model,  # type: ignore[valid-type]
        response: Response,
        ctx: Annotated[Ctx, requires(permission)],
        if_match: IfMatch = None,
        crs: Crs = Crs.WGS84,
    ) -> Output:
        data = await update(
            ctx,
            record_id,
            located(cast(Patch, body).model_dump(exclude_unset=True), crs),
            expected_version=expected_version(if_match),
        )
        return shown(response, model, data)


def add_lifecycle_routes(
    target: APIRouter,
    *,
    path: str,
    registry: Registry[Any],
    model: type[RecordOut],
    permission: Perm,
) -> None:
    """`POST {path}/deregister {"reason"}` and `POST {path}/restore {"reason"?}` (SPEC §3:
    records are deregistered with reason and time and can be restored, history kept).
    `path` names the record id as its one path parameter."""
    RecordId = Annotated[uuid.UUID, Path(alias=_id_name(path))]

    @target.post(
        f"{path}/deregister", response_model=model, name=f"deregister_{registry.target_type}"
    )
    async def deregister(
        record_id: RecordId,
        body: ReasonIn,
        response: Response,
        ctx: Annotated[Ctx, requires(permission)],
        if_match: IfMatch = None,
    ) -> RecordOut:
        data = await registry.deregister(
            ctx, record_id, reason=body.reason, expected_version=expected_version(if_match)
        )
        return shown(response, model, data)

    @target.post(f"{path}/restore", response_model=model, name=f"restore_{registry.target_type}")
    async def restore(
        record_id: RecordId,
        response: Response,
        ctx: Annotated[Ctx, requires(permission)],
        body: OptionalReasonIn | None = None,
        if_match: IfMatch = None,
    ) -> RecordOut:
        data = await registry.restore(
            ctx,
            record_id,
            reason=body.reason if body else None,
            expected_version=expected_version(if_match),
        )
        return shown(response, model, data)
