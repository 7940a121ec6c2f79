"""Standard addresses, houses and rentals over the wire (R-HOUSE-1, R-HOUSE-2, R-MAP-3).

Personal fields (owners, landlords, residents) arrive here already masked or not by
`services.masking`; these models only shape them.
"""

import uuid
from typing import Annotated, Any

from pydantic import Field

from api.schemas.common import Input, Instant, Output, PageOut
from domain.addresses import HazardLevel
from domain.houses import (
    AddressText,
    Area,
    HouseNo,
    IdNumber,
    PersonName,
    Phone,
    Rooms,
    Text20,
    Text32,
    Text50,
    Text100,
)
from domain.registry import Status

FullText = Annotated[str, Field(min_length=1, max_length=300)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
PointGeoJSON = Annotated[
    dict[str, Any],
    Field(
        description="GeoJSON Point (RFC 7946), lon/lat; converted from `crs` if given",
        json_schema_extra={"example": {"type": "Point", "coordinates": [75.93, 39.42]}},
    ),
]


class StatusChangeIn(Input):
    reason: Reason


class RestoreIn(Input):
    reason: Annotated[str | None, Field(min_length=1, max_length=500)] = None


class StatusChangeOut(Output):
    from_status: Status
    to_status: Status
    reason: str | None
    at: Instant
    actor_id: uuid.UUID | None


class RecordOut(Output):
    """Bookkeeping every registry record shows (SPEC §3: freshness and life cycle)."""

    id: uuid.UUID
    grid_id: uuid.UUID
    status: Status
    status_reason: str | None
    status_changed_at: Instant | None
    version: int
    created_at: Instant
    updated_at: Instant
    created_by: uuid.UUID | None


# --------------------------------------------------------------------------- addresses


class AddressCreate(Input):
    grid_id: uuid.UUID
    full_text: FullText
    road: Text100 = None
    house_number: Text50 = None
    building: Text100 = None
    location: PointGeoJSON | None = None


class AddressUpdate(Input):
    """Absent fields stay; null clears an optional field (`full_text` cannot be cleared)."""

    full_text: FullText | None = None
    road: Text100 = None
    house_number: Text50 = None
    building: Text100 = None
    location: PointGeoJSON | None = None


class AddressOut(RecordOut):
    full_text: str
    road: str | None
    house_number: str | None
    building: str | None
    pinyin_initials: str
    location: dict[str, Any] | None
    score: float | None = Field(
        default=None, description="search relevance 0…1, present when listing with `q`"
    )


# --------------------------------------------------------------------------- houses


class ResidentOut(Output):
    """A person living in the house (R-POP-5); names, ID numbers and phones are masked
    unless the caller holds pii:read (R-JUR-3)."""

    id: uuid.UUID
    grid_id: uuid.UUID
    kind: str
    name: str
    gender: str | None
    id_number: str | None
    phone: str | None


class HouseFields(Input):
    address_id: uuid.UUID | None = None
    address: AddressText = None
    building: Text50 = None
    unit_no: Text20 = None
    room: Text20 = None
    location: PointGeoJSON | None = None
    use: Text32 = None
    structure: Text32 = None
    area: Area = None
    owner_name: Text100 = None
    owner_id_number: IdNumber = None
    owner_phone: Phone = None


class HouseCreate(HouseFields):
    """`address` defaults to the standard address's text and `location` to its point."""

    grid_id: uuid.UUID
    house_no: HouseNo


class HouseUpdate(HouseFields):
    """Absent fields stay; null clears an optional field (`house_no` and `address` cannot be
    cleared). A new `address_id` brings its text and point unless they are sent too."""

    house_no: HouseNo | None = None


class HouseOut(RecordOut):
    house_no: str
    address_id: uuid.UUID | None
    address: str
    building: str | None
    unit_no: str | None
    room: str | None
    location: dict[str, Any] | None
    use: str | None
    structure: str | None
    area: float | None
    owner_name: str | None
    owner_id_number: str | None
    owner_phone: str | None


class HouseDetailOut(HouseOut):
    residents: list[ResidentOut]


# --------------------------------------------------------------------------- rentals


class RentalFields(Input):
    landlord_phone: Phone = None
    landlord_id_number: IdNumber = None
    rooms: Rooms = None
    nature: Text32 = None
    category: Text32 = None
    use: Text32 = None
    structure: Text32 = None
    hazard_level: HazardLevel | None = None


class RentalCreate(RentalFields):
    landlord_name: PersonName


class RentalUpdate(RentalFields):
    """Absent fields stay; null clears an optional field (`landlord_name` cannot be cleared)."""

    landlord_name: PersonName | None = None


class RentalOut(RecordOut):
    house_id: uuid.UUID
    house_no: str
    address: str
    landlord_name: str
    landlord_phone: str | None
    landlord_id_number: str | None
    rooms: int | None
    nature: str | None
    category: str | None
    use: str | None
    structure: str | None
    hazard_level: HazardLevel | None


class RentalDetailOut(RentalOut):
    tenants: list[ResidentOut] = Field(description="the people living in the house")


# --------------------------------------------------------------------------- building view


class RoomOut(HouseOut):
    residents: list[ResidentOut]
    rentals: list[RentalOut] = Field(description="the house's rental records, active first")


class BuildingOut(Output):
    """以房找人 (R-MAP-3): an address, its rooms, their residents and rental records."""

    address: AddressOut
    rooms: PageOut[RoomOut]
