"""Organisations (R-ORGN-1, R-ORGN-2): actual units, new economic organisations, social
organisations and large enterprises, in one registry with a `category`."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Response, status

from api.deps import requires
from api.registry_routes import (
    add_browse_routes,
    add_lifecycle_routes,
    add_update_route,
    located,
    shown,
)
from api.schemas.common import PROBLEM_RESPONSES
from api.schemas.places import (
    ORGANISATION_COLUMNS,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
    ReasonIn,
)
from domain.coords import Crs
from domain.permissions import Perm
from services import organisations
from services.context import Ctx
from services.organisations import ORGANISATIONS, OrganisationFilter

router = APIRouter(
    prefix="/api/v1/organisations", tags=["organisations"], responses=PROBLEM_RESPONSES
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=OrganisationOut)
async def create_organisation(
    body: OrganisationCreate,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.PLACE_WRITE)],
    crs: Crs = Crs.WGS84,
) -> OrganisationOut:
    """At a grid (`unit_id` a grid), except social organisations, which any level keeps. A
    licence number active in the grid already is a 409 `duplicate_active_record`."""
    data = await organisations.create_organisation(
        ctx,
        category=body.category,
        unit_id=body.unit_id,
        values=located(body.model_dump(exclude={"category", "unit_id"}), crs),
    )
    return shown(response, OrganisationOut, data, f"/api/v1/organisations/{data['id']}")


add_browse_routes(
    router,
    path="/{organisation_id}",
    registry=ORGANISATIONS,
    model=OrganisationOut,
    filter_type=OrganisationFilter,
    query=organisations.organisations_query,
    columns=ORGANISATION_COLUMNS,
    plural="organisations",
    filename="组织",
    list_description="By name; `q` matches the name, a full licence number or a full ID number.",
    permission=Perm.PLACE_READ,
)


add_update_route(
    router,
    path="/{organisation_id}",
    registry=ORGANISATIONS,
    model=OrganisationOut,
    body_model=OrganisationUpdate,
    update=organisations.update_organisation,
    permission=Perm.PLACE_WRITE,
)


@router.post("/{organisation_id}/reveal", response_model=OrganisationOut)
async def reveal_organisation(
    organisation_id: uuid.UUID,
    body: ReasonIn,
    ctx: Annotated[Ctx, requires(Perm.PII_REVEAL)],
) -> OrganisationOut:
    """The record with unmasked ID number and phones; the stated reason is audited."""
    return OrganisationOut.model_validate(
        await organisations.reveal_organisation(ctx, organisation_id, reason=body.reason)
    )


add_lifecycle_routes(
    router,
    path="/{organisation_id}",
    registry=ORGANISATIONS,
    model=OrganisationOut,
    permission=Perm.PLACE_WRITE,
)
