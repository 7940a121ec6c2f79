"""City components (R-CMP-1): public and civil facilities, bound to one standard address at
most; unbinding is explicit."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from api.deps import requires
from api.etag import expected_version
from api.registry_routes import (
    IfMatch,
    add_browse_routes,
    add_lifecycle_routes,
    add_update_route,
    point,
    shown,
)
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.places import (
    COMPONENT_COLUMNS,
    BindIn,
    ComponentCreate,
    ComponentOut,
    ComponentUpdate,
    OptionalReasonIn,
)
from domain.coords import Crs
from domain.permissions import Perm
from services import components
from services.components import COMPONENTS, ComponentFilter
from services.context import Ctx

router = APIRouter(prefix="/api/v1/components", tags=["components"], responses=PROBLEM_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ComponentOut)
async def create_component(
    body: ComponentCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> ComponentOut:
    """A component in a grid; its code is unique among active components (409)."""
    values = body.model_dump(exclude={"grid_id", "category", "kind"})
    values["location"] = point(body.location, crs)
    data = await components.create_component(
        ctx, grid_id=body.grid_id, category=body.category, kind=body.kind, values=values
    )
    return shown(response, ComponentOut, data, f"/api/v1/components/{data['id']}")


add_browse_routes(
    router,
    path="/{component_id}",
    registry=COMPONENTS,
    model=ComponentOut,
    filter_type=ComponentFilter,
    query=components.components_query,
    columns=COMPONENT_COLUMNS,
    plural="components",
    filename="城市部件",
    list_description=(
        "By name; `q` matches the name or a full code; `bound` selects bound or free ones."
    ),
    permission=Perm.PLACE_READ,
)


add_update_route(
    router,
    path="/{component_id}",
    registry=COMPONENTS,
    model=ComponentOut,
    body_model=ComponentUpdate,
    update=components.update_component,
    permission=Perm.PLACE_WRITE,
)


@router.post("/{component_id}/bind", response_model=ComponentOut)
async def bind_component(
    component_id: uuid.UUID,
    body: BindIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    if_match: IfMatch = None,
) -> ComponentOut:
    """Bind to a standard address; a bound component is a 409 `component_already_bound`
    until it is unbound (仅且允许绑定一次)."""
    data = await components.bind_component(
        ctx, component_id, body.address_id, expected_version=expected_version(if_match)
    )
    return shown(response, ComponentOut, data)


@router.post("/{component_id}/unbind", response_model=ComponentOut)
async def unbind_component(
    component_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    body: OptionalReasonIn | None = None,
    if_match: IfMatch = None,
) -> ComponentOut:
    """Release the address explicitly (409 `component_not_bound` when there is none)."""
    data = await components.unbind_component(
        ctx,
        component_id,
        reason=body.reason if body else None,
        expected_version=expected_version(if_match),
    )
    return shown(response, ComponentOut, data)


add_lifecycle_routes(
    router,
    path="/{component_id}",
    registry=COMPONENTS,
    model=ComponentOut,
    permission=Perm.PLACE_WRITE,
)
