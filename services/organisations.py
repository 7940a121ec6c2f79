"""Organisations (R-ORGN-1, R-ORGN-2): actual units (实有单位), new economic organisations
(非公经济) and large enterprises (规上企业) at grid level, social organisations (社会组织) at any
level; deregistered and restored with reason and time; legal representatives' ID numbers
and phones masked (R-JUR-3)."""

import uuid
from dataclasses import dataclass
from typing import Any

from domain.masking import Mask
from domain.places import ANY_LEVEL_CATEGORIES, OrganisationCategory, check_organisation
from domain.registry import Status
from services import masking
from services.context import Ctx
from services.models import Organisation
from services.pagination import AnySelect
from services.places import (
    BBox,
    Registry,
    address_for_record,
    geojson_of,
    held_by,
    holder_of,
    in_bbox,
    in_unit,
    name_matches,
    stored,
    with_address,
)
from services.registry import grid_for_record, unit_for_record

ORGANISATIONS: Registry[Organisation] = Registry(
    model=Organisation,
    target_type="organisation",
    not_found="organisation_not_found",
    columns=(
        Organisation.id,
        Organisation.category,
        holder_of(Organisation),
        Organisation.grid_id,
        Organisation.path,
        Organisation.name,
        Organisation.org_type,
        Organisation.licence_no,
        Organisation.legal_representative,
        Organisation.legal_representative_id_number,
        Organisation.legal_representative_phone,
        Organisation.principal,
        Organisation.phone,
        Organisation.industry,
        Organisation.hazardous_chemicals,
        Organisation.hazards,
        Organisation.address,
        Organisation.address_id,
        geojson_of(Organisation.location),
        Organisation.status,
        Organisation.status_reason,
        Organisation.status_changed_at,
        Organisation.version,
        Organisation.created_at,
        Organisation.updated_at,
        Organisation.created_by,
    ),
    sort=Organisation.name,
    mask={
        "legal_representative_id_number": Mask.ID_NUMBER,
        "legal_representative_phone": Mask.PHONE,
        "phone": Mask.PHONE,
    },
)


@dataclass(frozen=True)
class OrganisationFilter:
    category: OrganisationCategory | None = None
    unit_id: uuid.UUID | None = None
    org_type: str | None = None
    industry: str | None = None
    hazardous_chemicals: bool | None = None
    status: Status | None = None
    q: str | None = None


def organisations_query(ctx: Ctx, f: OrganisationFilter, bbox: BBox | None = None) -> AnySelect:
    """Organisations in jurisdiction matching the filters (the list and its export). `q`
    matches the name, or a full licence number or legal representative's ID number (the
    match is made here even though the response is masked, R-JUR-3)."""
    stmt = ORGANISATIONS.query(ctx)
    if f.category is not None:
        stmt = stmt.where(Organisation.category == f.category.value)
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(Organisation.path, f.unit_id))
    if f.org_type is not None:
        stmt = stmt.where(Organisation.org_type == f.org_type)
    if f.industry is not None:
        stmt = stmt.where(Organisation.industry == f.industry)
    if f.hazardous_chemicals is not None:
        stmt = stmt.where(Organisation.hazardous_chemicals.is_(f.hazardous_chemicals))
    if f.status is not None:
        stmt = stmt.where(Organisation.status == f.status.value)
    if f.q:
        exact = f.q.strip().upper()
        stmt = stmt.where(
            name_matches(Organisation.name, f.q)
            | (Organisation.licence_no == exact)
            | (Organisation.legal_representative_id_number == exact)
        )
    if bbox is not None:
        stmt = stmt.where(in_bbox(Organisation.location, bbox))
    return stmt


async def create_organisation(
    ctx: Ctx, *, category: OrganisationCategory, unit_id: uuid.UUID, values: dict[str, Any]
) -> dict[str, Any]:
    """Register an organisation at its unit: a grid, except for social organisations which
    any level may keep (R-REG-1, R-ORGN-2). A licence number already active in the grid for
    the category is a 409 `duplicate_active_record` (R-ORGN-1)."""
    if category in ANY_LEVEL_CATEGORIES:
        unit = await unit_for_record(ctx, unit_id)
    else:
        unit = await grid_for_record(ctx, unit_id, field="unit_id")
    check_organisation(
        category,
        values.get("org_type"),
        values.get("licence_no"),
        values.get("legal_representative_id_number"),
    )
    filled = await with_address(ctx, values)
    organisation = Organisation(category=category.value, **held_by(unit), **stored(filled))
    return await ORGANISATIONS.create(
        ctx, organisation, path=unit.path, unique={"licence_no": filled.get("licence_no") or ""}
    )


def _check(organisation: Organisation) -> None:
    check_organisation(
        OrganisationCategory(organisation.category),
        organisation.org_type,
        organisation.licence_no,
        organisation.legal_representative_id_number,
    )


async def update_organisation(
    ctx: Ctx, organisation_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the given fields; the category's rules hold for the result."""
    if changes.get("address_id") is not None:
        await address_for_record(ctx, changes["address_id"])
    return await ORGANISATIONS.update(
        ctx,
        organisation_id,
        changes,
        expected_version=expected_version,
        check=_check,
        unique={"licence_no": changes.get("licence_no") or ""},
    )


async def reveal_organisation(
    ctx: Ctx, organisation_id: uuid.UUID, *, reason: str
) -> dict[str, Any]:
    """The record unmasked for a holder of `pii:reveal`, the reason audited (R-JUR-3)."""
    record = await ORGANISATIONS.fetch(ctx, organisation_id)
    return await masking.reveal(
        ctx, record, target_type="organisation", unit_path=record["path"], reason=reason
    )
