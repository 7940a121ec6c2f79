"""Actual houses (实有房屋, R-HOUSE-1) and their residents (以房管人, R-POP-5).

A house is added at grid level with a house number unique among active houses (the partial
unique index decides, so a rename racing a create cannot both win). Residents are the active
people whose `house_id` is the house; they are read here, never written.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.masking import Mask
from domain.registry import Status
from domain.versioning import check_version
from services import addresses, masking, registry
from services.addresses import located, record_dict
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import House, Person, Rental
from services.pagination import Page, paginate

HOUSE = "house"
PERSON = "person"

HOUSE_MASK: masking.MaskSpec = {
    "owner_name": Mask.NAME,
    "owner_id_number": Mask.ID_NUMBER,
    "owner_phone": Mask.PHONE,
}
RESIDENT_MASK: masking.MaskSpec = {
    "name": Mask.NAME,
    "id_number": Mask.ID_NUMBER,
    "phone": Mask.PHONE,
}

COLUMNS = (
    House.id,
    House.grid_id,
    House.path,
    House.house_no,
    House.address_id,
    House.address,
    House.building,
    House.unit_no,
    House.room,
    located(House.location),
    House.use,
    House.structure,
    House.area,
    House.owner_name,
    House.owner_id_number,
    House.owner_phone,
    House.status,
    House.status_reason,
    House.status_changed_at,
    House.version,
    House.created_at,
    House.updated_at,
    House.created_by,
)
RESIDENT_COLUMNS = (
    Person.id,
    Person.house_id,
    Person.grid_id,
    Person.kind,
    Person.name,
    Person.gender,
    Person.id_number,
    Person.phone,
)
AUDITED = (
    "house_no",
    "address_id",
    "address",
    "building",
    "unit_no",
    "room",
    "location",
    "use",
    "structure",
    "area",
    "owner_name",
    "owner_id_number",
    "owner_phone",
)


def house_no_taken(house_no: str) -> Conflict:
    """R-HOUSE-1: the refusal of a house number an active house holds, naming it (the same
    error `flush_unique` raises for the unique index)."""
    return Conflict(
        "house_no_taken",
        params={"house_no": house_no},
        errors=[FieldError("house_no", "house_no_taken", {"house_no": house_no})],
    )


@dataclass(frozen=True)
class HouseFilters:
    unit_id: uuid.UUID | None = None
    q: str | None = None
    use: str | None = None
    status: Status | None = None


async def _with_address(ctx: Ctx, fields: dict[str, Any]) -> dict[str, Any]:
    """A house pointing at a standard address takes the address's text and location unless
    it states its own; the address must be active and in the caller's jurisdiction."""
    if fields.get("address_id") is None:
        return fields
    address = await addresses.active_address(ctx, fields["address_id"])
    if fields.get("address") is None:
        fields["address"] = address.full_text
    if fields.get("location") is None:
        fields["location"] = address.location
    return fields


async def create_house(ctx: Ctx, values: Mapping[str, Any]) -> dict[str, Any]:
    """Register a house in a grid (R-REG-1): a standard address and/or an address text,
    a house number no active house holds (409 `house_no_taken`)."""
    fields = dict(values)
    grid = await registry.grid_for_record(ctx, fields.pop("grid_id"))
    fields = await _with_address(ctx, fields)
    if not fields.get("address"):
        raise Invalid(
            "house_address_required", errors=[FieldError("address", "house_address_required")]
        )
    house = House(grid_id=grid.id, **{k: addresses.to_column(v) for k, v in fields.items()})
    await addresses.insert_record(
        ctx, house, grid.path, target_type=HOUSE, audited=AUDITED, unique=("house_no",)
    )
    return await get_house(ctx, house.id)


async def house_row(ctx: Ctx, house_id: uuid.UUID) -> dict[str, Any]:
    """One house in the caller's jurisdiction as stored (unmasked; callers present it)."""
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(House.id == house_id, in_scope(House.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("house_not_found")
    return record_dict(row)


async def get_house(ctx: Ctx, house_id: uuid.UUID) -> dict[str, Any]:
    """A house with its residents (API.md), masked for the caller (R-JUR-3)."""
    house = await house_row(ctx, house_id)
    out = await masking.present_one(
        ctx, house, HOUSE_MASK, target_type=HOUSE, unit_path=house["path"]
    )
    out["residents"] = (await residents(ctx, [house_id], unit_path=house["path"]))[house_id]
    return out


async def reveal_house(ctx: Ctx, house_id: uuid.UUID, *, reason: str) -> dict[str, Any]:
    """The house and its residents unmasked for a holder of pii:reveal, with the reason in the
    audit trail (R-JUR-3)."""
    house = await house_row(ctx, house_id)
    await masking.reveal(ctx, house, target_type=HOUSE, unit_path=house["path"], reason=reason)
    found = await residents(ctx, [house_id], unit_path=house["path"], unmasked=True)
    return {**house, "residents": found[house_id]}


async def residents(
    ctx: Ctx, house_ids: list[uuid.UUID], *, unit_path: str | None, unmasked: bool = False
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """The active people living in each house (R-POP-5), masked for the caller unless the
    caller is revealing them (and has been audited for it)."""
    rows = (
        await ctx.session.execute(
            select(*RESIDENT_COLUMNS)
            .where(
                Person.house_id.in_(house_ids),
                Person.status == Status.ACTIVE,
                in_scope(Person.path, ctx.principal),
            )
            .order_by(Person.name, Person.id)
        )
    ).all()
    people = [dict(row._mapping) for row in rows]
    if not unmasked:
        people = await masking.present(
            ctx, people, RESIDENT_MASK, target_type=PERSON, unit_path=unit_path
        )
    by_house: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for person in people:
        by_house[person["house_id"]].append(person)
    return {house_id: by_house[house_id] for house_id in house_ids}


async def _house_query(ctx: Ctx, filters: HouseFilters) -> Select[*tuple[Any, ...]]:
    stmt = select(*COLUMNS).where(
        in_scope(House.path, ctx.principal),
        await addresses.under_unit(ctx, House.path, filters.unit_id),
    )
    if filters.q:
        # A full ID number finds its owner even for callers who only see it masked (R-JUR-3).
        stmt = stmt.where(
            or_(
                House.house_no.icontains(filters.q, autoescape=True),
                House.address.icontains(filters.q, autoescape=True),
                House.owner_name.icontains(filters.q, autoescape=True),
                House.owner_id_number == filters.q.upper(),
            )
        )
    if filters.use:
        stmt = stmt.where(House.use == filters.use)
    if filters.status is not None:
        stmt = stmt.where(House.status == filters.status)
    return stmt


async def present_houses(
    ctx: Ctx, page: Page[dict[str, Any]], *, unit_path: str | None = None
) -> Page[dict[str, Any]]:
    """A page of houses masked for the caller (R-JUR-3)."""
    items = await masking.present(
        ctx, page.items, HOUSE_MASK, target_type=HOUSE, unit_path=unit_path
    )
    return Page(items=items, next_cursor=page.next_cursor, total=page.total)


async def list_houses(
    ctx: Ctx, filters: HouseFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of houses by house number."""
    page = await paginate(
        ctx.session,
        await _house_query(ctx, filters),
        key=(House.house_no, House.id),
        limit=limit,
        cursor=cursor,
        convert=record_dict,
    )
    return await present_houses(ctx, page)


async def export_houses(ctx: Ctx, filters: HouseFilters) -> Select[*tuple[Any, ...]]:
    """The list's rows in the list's order, for a streaming export."""
    return (await _house_query(ctx, filters)).order_by(House.house_no, House.id)


async def rooms_at(
    ctx: Ctx, address_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The active houses at a standard address (the rooms of a building), by house number,
    unmasked: the caller presents them."""
    stmt = select(*COLUMNS).where(
        House.address_id == address_id,
        House.status == Status.ACTIVE,
        in_scope(House.path, ctx.principal),
    )
    return await paginate(
        ctx.session,
        stmt,
        key=(House.house_no, House.id),
        limit=limit,
        cursor=cursor,
        convert=record_dict,
    )


async def update_house(
    ctx: Ctx, house_id: uuid.UUID, changes: Mapping[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Correct a house (If-Match). A new house number already held by an active house is
    refused with a message naming it (R-HOUSE-1)."""
    house = await registry.lock_record(ctx, House, house_id, not_found="house_not_found")
    check_version(expected_version, house.version)
    fields = dict(changes)
    if fields.get("address_id") not in (None, house.address_id):
        fields = await _with_address(ctx, fields)
    await addresses.write_changes(
        ctx,
        house,
        fields,
        target_type=HOUSE,
        audited=AUDITED,
        required=("house_no", "address"),
        unique=("house_no",),
    )
    return await get_house(ctx, house_id)


async def deregister_house(
    ctx: Ctx, house_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Deregister a house nobody lives in and that is not let (409 `house_in_use`):
    residents move and the rental ends first, so no active record points at a dead house."""
    house = await registry.lock_record(ctx, House, house_id, not_found="house_not_found")
    living = await ctx.session.scalar(
        select(func.count())
        .select_from(Person)
        .where(Person.house_id == house.id, Person.status == Status.ACTIVE)
    )
    let_out = await ctx.session.scalar(
        select(func.count())
        .select_from(Rental)
        .where(Rental.house_id == house.id, Rental.status == Status.ACTIVE)
    )
    if living or let_out:
        raise Conflict("house_in_use", params={"residents": living or 0, "rentals": let_out or 0})
    await addresses.deregister_record(
        ctx,
        House,
        house_id,
        target_type=HOUSE,
        not_found="house_not_found",
        reason=reason,
        expected_version=expected_version,
    )
    return await get_house(ctx, house_id)


async def restore_house(
    ctx: Ctx, house_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """Restore a deregistered house unless its number now belongs to an active house."""
    await addresses.restore_record(
        ctx,
        House,
        house_id,
        target_type=HOUSE,
        not_found="house_not_found",
        reason=reason,
        expected_version=expected_version,
        clash=lambda house: house_no_taken(house.house_no),
    )
    return await get_house(ctx, house_id)


async def house_history(ctx: Ctx, house_id: uuid.UUID) -> list[dict[str, Any]]:
    """The house's deregistrations and restorations, oldest first."""
    await house_row(ctx, house_id)
    return await registry.status_history(ctx, HOUSE, house_id)
