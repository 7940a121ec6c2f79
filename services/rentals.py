"""Rentals (出租房, R-HOUSE-2) and the building view (以房找人, R-MAP-3).

A rental is a record on a house: one active rental per house (the partial unique index
decides), its tenants are the people living in the house, and "no longer rented" is a
deregistration with reason and time, restorable. The building view spans all three
registers (address → rooms → residents and rental records), so it sits here, at the top of
the chain addresses → houses → rentals.
"""

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select

from domain.addresses import HazardLevel
from domain.errors import Conflict, FieldError, NotFound
from domain.masking import Mask
from domain.registry import Status
from domain.versioning import check_version
from services import addresses, houses, masking, registry
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import House, Rental
from services.pagination import Page, paginate

RENTAL = "rental"

RENTAL_MASK: masking.MaskSpec = {
    "landlord_name": Mask.NAME,
    "landlord_id_number": Mask.ID_NUMBER,
    "landlord_phone": Mask.PHONE,
}

COLUMNS = (
    Rental.id,
    Rental.grid_id,
    Rental.path,
    Rental.house_id,
    House.house_no,
    House.address,
    Rental.landlord_name,
    Rental.landlord_phone,
    Rental.landlord_id_number,
    Rental.rooms,
    Rental.nature,
    Rental.category,
    Rental.use,
    Rental.structure,
    Rental.hazard_level,
    Rental.status,
    Rental.status_reason,
    Rental.status_changed_at,
    Rental.version,
    Rental.created_at,
    Rental.updated_at,
    Rental.created_by,
)
AUDITED = (
    "landlord_name",
    "landlord_phone",
    "landlord_id_number",
    "rooms",
    "nature",
    "category",
    "use",
    "structure",
    "hazard_level",
)


@dataclass(frozen=True)
class RentalFilters:
    unit_id: uuid.UUID | None = None
    q: str | None = None
    hazard_level: HazardLevel | None = None
    status: Status | None = None


def _rentals(ctx: Ctx) -> Select[*tuple[Any, ...]]:
    """Rentals in the caller's jurisdiction with their house's number and address."""
    return (
        select(*COLUMNS)
        .join(House, House.id == Rental.house_id)
        .where(in_scope(Rental.path, ctx.principal))
    )


async def _active_house(ctx: Ctx, house_id: uuid.UUID) -> House:
    """The house row-locked: rentals are only added to (or restored on) an active house."""
    house = await registry.lock_record(ctx, House, house_id, not_found="house_not_found")
    if house.status != Status.ACTIVE:
        raise Conflict("house_deregistered", params={"house_no": house.house_no})
    return house


def _rented_already() -> Conflict:
    return Conflict(
        "duplicate_active_record", errors=[FieldError("house_id", "duplicate_active_record")]
    )


async def create_rental(ctx: Ctx, house_id: uuid.UUID, values: Mapping[str, Any]) -> dict[str, Any]:
    """Register a house as let (R-HOUSE-2); a house has one active rental at most (409
    `duplicate_active_record`)."""
    house = await _active_house(ctx, house_id)
    rental = Rental(grid_id=house.grid_id, house_id=house.id, **values)
    await addresses.insert_record(
        ctx, rental, house.path, target_type=RENTAL, audited=AUDITED, unique=("house_id",)
    )
    return await get_rental(ctx, rental.id)


async def _rental_row(ctx: Ctx, rental_id: uuid.UUID) -> dict[str, Any]:
    row = (await ctx.session.execute(_rentals(ctx).where(Rental.id == rental_id))).one_or_none()
    if row is None:
        raise NotFound("rental_not_found")
    return dict(row._mapping)


async def get_rental(ctx: Ctx, rental_id: uuid.UUID) -> dict[str, Any]:
    """A rental with its tenants (the people living in the house), masked for the caller."""
    rental = await _rental_row(ctx, rental_id)
    out = await masking.present_one(
        ctx, rental, RENTAL_MASK, target_type=RENTAL, unit_path=rental["path"]
    )
    tenants = await houses.residents(ctx, [rental["house_id"]], unit_path=rental["path"])
    out["tenants"] = tenants[rental["house_id"]]
    return out


async def reveal_rental(ctx: Ctx, rental_id: uuid.UUID, *, reason: str) -> dict[str, Any]:
    """The rental and its tenants unmasked for a holder of pii:reveal, reason audited."""
    rental = await _rental_row(ctx, rental_id)
    await masking.reveal(ctx, rental, target_type=RENTAL, unit_path=rental["path"], reason=reason)
    tenants = await houses.residents(
        ctx, [rental["house_id"]], unit_path=rental["path"], unmasked=True
    )
    return {**rental, "tenants": tenants[rental["house_id"]]}


async def update_rental(
    ctx: Ctx, rental_id: uuid.UUID, changes: Mapping[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Correct a rental (If-Match)."""
    rental = await registry.lock_record(ctx, Rental, rental_id, not_found="rental_not_found")
    check_version(expected_version, rental.version)
    await addresses.write_changes(
        ctx, rental, changes, target_type=RENTAL, audited=AUDITED, required=("landlord_name",)
    )
    return await get_rental(ctx, rental_id)


async def deregister_rental(
    ctx: Ctx, rental_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """No longer rented (不再出租): deregistered with reason and time."""
    await addresses.deregister_record(
        ctx,
        Rental,
        rental_id,
        target_type=RENTAL,
        not_found="rental_not_found",
        reason=reason,
        expected_version=expected_version,
    )
    return await get_rental(ctx, rental_id)


async def restore_rental(
    ctx: Ctx, rental_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """Let again (再次出租): restored, unless the house is deregistered or has another active
    rental meanwhile."""
    rental = await registry.lock_record(ctx, Rental, rental_id, not_found="rental_not_found")
    await _active_house(ctx, rental.house_id)
    await addresses.restore_record(
        ctx,
        Rental,
        rental_id,
        target_type=RENTAL,
        not_found="rental_not_found",
        reason=reason,
        expected_version=expected_version,
        clash=lambda _: _rented_already(),
    )
    return await get_rental(ctx, rental_id)


async def rental_history(ctx: Ctx, rental_id: uuid.UUID) -> list[dict[str, Any]]:
    """The rental's deregistrations and restorations, oldest first."""
    if (await ctx.session.execute(_rentals(ctx).where(Rental.id == rental_id))).first() is None:
        raise NotFound("rental_not_found")
    return await registry.status_history(ctx, RENTAL, rental_id)


async def _rental_query(ctx: Ctx, filters: RentalFilters) -> Select[*tuple[Any, ...]]:
    stmt = _rentals(ctx).where(await addresses.under_unit(ctx, Rental.path, filters.unit_id))
    if filters.q:
        # A full ID number finds its landlord even for callers who see it masked (R-JUR-3).
        stmt = stmt.where(
            or_(
                House.house_no.icontains(filters.q, autoescape=True),
                House.address.icontains(filters.q, autoescape=True),
                Rental.landlord_name.icontains(filters.q, autoescape=True),
                Rental.landlord_id_number == filters.q.upper(),
            )
        )
    if filters.hazard_level is not None:
        stmt = stmt.where(Rental.hazard_level == filters.hazard_level)
    if filters.status is not None:
        stmt = stmt.where(Rental.status == filters.status)
    return stmt


async def list_rentals(
    ctx: Ctx, filters: RentalFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of rentals by their house's number, masked for the caller."""
    page = await paginate(
        ctx.session,
        await _rental_query(ctx, filters),
        key=(House.house_no, Rental.id),
        limit=limit,
        cursor=cursor,
    )
    items = await masking.present(ctx, page.items, RENTAL_MASK, target_type=RENTAL)
    return Page(items=items, next_cursor=page.next_cursor, total=page.total)


async def export_rentals(ctx: Ctx, filters: RentalFilters) -> Select[*tuple[Any, ...]]:
    """The list's rows in the list's order, for a streaming export."""
    return (await _rental_query(ctx, filters)).order_by(House.house_no, Rental.id)


async def _rental_records(
    ctx: Ctx, house_ids: list[uuid.UUID], *, unit_path: str | None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Every rental record of each house (出租记录), the active one first, then newest first;
    masked for the caller."""
    rows = (
        await ctx.session.execute(
            _rentals(ctx)
            .where(Rental.house_id.in_(house_ids))
            .order_by(Rental.status != Status.ACTIVE, Rental.created_at.desc(), Rental.id)
        )
    ).all()
    records = await masking.present(
        ctx,
        [dict(row._mapping) for row in rows],
        RENTAL_MASK,
        target_type=RENTAL,
        unit_path=unit_path,
    )
    by_house: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_house[record["house_id"]].append(record)
    return by_house


async def building(
    ctx: Ctx, address_id: uuid.UUID, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """以房找人 (R-MAP-3): a standard address with a keyset page of its rooms (the active
    houses there), each with its residents and its rental records."""
    address = await addresses.get_address(ctx, address_id)
    page = await houses.present_houses(
        ctx,
        await houses.rooms_at(ctx, address_id, limit=limit, cursor=cursor),
        unit_path=address["path"],
    )
    ids = [room["id"] for room in page.items]
    living = await houses.residents(ctx, ids, unit_path=address["path"])
    records = await _rental_records(ctx, ids, unit_path=address["path"])
    for room in page.items:
        room["residents"] = living[room["id"]]
        room["rentals"] = records[room["id"]]
    return {"address": address, "rooms": page}
