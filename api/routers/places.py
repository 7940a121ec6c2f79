"""Key places (R-PLACE-1): places holding one or more kinds, each with its attention level;
followed until unfollowed with a reason."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from api.deps import requires
from api.etag import expected_version
from api.registry_routes import IfMatch, add_browse_routes, add_update_route, located, shown
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.places import (
    PLACE_COLUMNS,
    OptionalReasonIn,
    PlaceCreate,
    PlaceKindIn,
    PlaceKindUpdate,
    PlaceOut,
    PlaceUpdate,
    ReasonIn,
)
from domain.coords import Crs
from domain.permissions import Perm
from domain.places import PlaceKind
from services import places
from services.context import Ctx
from services.places import KindSpec, PlaceFilter

router = APIRouter(prefix="/api/v1/places", tags=["places"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PlaceOut)
async def create_place(
    body: PlaceCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> PlaceOut:
    """A key place in a grid holding one or more kinds, each with its attention level."""
    values = located(body.model_dump(exclude={"grid_id", "kinds"}), crs)
    data = await places.create_place(
        ctx,
        grid_id=body.grid_id,
        values=values,
        kinds=[KindSpec(k.kind, k.level, k.details) for k in body.kinds],
    )
    return shown(response, PlaceOut, data, f"/api/v1/places/{data['id']}")


add_browse_routes(
    router,
    path="/{place_id}",
    registry=places.PLACES,
    model=PlaceOut,
    filter_type=PlaceFilter,
    query=places.places_query,
    columns=PLACE_COLUMNS,
    plural="places",
    filename="重点场所",
    list_description=(
        "Places by name; `kind` and `level` select places holding that kind at that level."
    ),
    permission=Perm.PLACE_READ,
)


add_update_route(
    router,
    path="/{place_id}",
    registry=places.PLACES,
    model=PlaceOut,
    body_model=PlaceUpdate,
    update=places.update_place,
    permission=Perm.PLACE_WRITE,
)


@router.post("/{place_id}/unfollow", response_model=PlaceOut)
async def unfollow_place(
    place_id: uuid.UUID,
    body: ReasonIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    if_match: IfMatch = None,
) -> PlaceOut:
    """No longer a key place (取消关注), with reason and time."""
    data = await places.unfollow_place(
        ctx, place_id, reason=body.reason, expected_version=expected_version(if_match)
    )
    return shown(response, PlaceOut, data)


@router.post("/{place_id}/refollow", response_model=PlaceOut)
async def refollow_place(
    place_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    body: OptionalReasonIn | None = None,
    if_match: IfMatch = None,
) -> PlaceOut:
    data = await places.refollow_place(
        ctx,
        place_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return shown(response, PlaceOut, data)


@router.post("/{place_id}/kinds", status_code=status.HTTP_201_CREATED, response_model=PlaceOut)
async def add_place_kind(
    place_id: uuid.UUID,
    body: PlaceKindIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    if_match: IfMatch = None,
) -> PlaceOut:
    """The place holds one more kind (409 `place_kind_exists` if it holds it already)."""
    data = await places.add_kind(
        ctx,
        place_id,
        KindSpec(body.kind, body.level, body.details),
        expected_version=expected_version(if_match),
    )
    return shown(response, PlaceOut, data)


@router.patch("/{place_id}/kinds/{kind}", response_model=PlaceOut)
async def change_place_kind(
    place_id: uuid.UUID,
    kind: PlaceKind,
    body: PlaceKindUpdate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    if_match: IfMatch = None,
) -> PlaceOut:
    """A new attention level and/or details for one kind; `If-Match` is the place's ETag."""
    data = await places.change_kind(
        ctx,
        place_id,
        kind,
        level=body.level,
        details=body.details,
        expected_version=expected_version(if_match),
    )
    return shown(response, PlaceOut, data)


@router.delete("/{place_id}/kinds/{kind}", response_model=PlaceOut)
async def remove_place_kind(
    place_id: uuid.UUID,
    kind: PlaceKind,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    if_match: IfMatch = None,
) -> PlaceOut:
    """The place no longer holds the kind; its last kind stays (409: unfollow instead)."""
    data = await places.remove_kind(
        ctx, place_id, kind, expected_version=expected_version(if_match)
    )
    return shown(response, PlaceOut, data)
