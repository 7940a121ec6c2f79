"""Standard addresses, houses and rentals (R-HOUSE-1, R-HOUSE-2, R-MAP-3)."""

import uuid
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base
from services.models.registry import GridBound


class Address(GridBound, Base):
    __tablename__ = "addresses"

    full_text: Mapped[str] = mapped_column(String(300))
    road: Mapped[str | None] = mapped_column(String(100), default=None)
    house_number: Mapped[str | None] = mapped_column(String(50), default=None)
    building: Mapped[str | None] = mapped_column(String(100), default=None)
    # Search forms of `full_text` (domain.addresses): components and their pinyin initials.
    search_text: Mapped[str] = mapped_column(String(600), default="")
    pinyin_initials: Mapped[str] = mapped_column(String(600), default="")
    location: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), default=None
    )


class House(GridBound, Base):
    __tablename__ = "houses"

    house_no: Mapped[str] = mapped_column(String(64))
    address_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("addresses.id"), default=None)
    address: Mapped[str] = mapped_column(String(300))
    building: Mapped[str | None] = mapped_column(String(50), default=None)
    unit_no: Mapped[str | None] = mapped_column(String(20), default=None)
    room: Mapped[str | None] = mapped_column(String(20), default=None)
    location: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), default=None
    )
    use: Mapped[str | None] = mapped_column(String(32), default=None)
    structure: Mapped[str | None] = mapped_column(String(32), default=None)
    area: Mapped[Decimal | None] = mapped_column(Numeric(10, 2), default=None)
    owner_name: Mapped[str | None] = mapped_column(String(100), default=None)
    owner_id_number: Mapped[str | None] = mapped_column(String(32), default=None)
    owner_phone: Mapped[str | None] = mapped_column(String(20), default=None)


class Rental(GridBound, Base):
    __tablename__ = "rentals"

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("houses.id"))
    landlord_name: Mapped[str] = mapped_column(String(100))
    landlord_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    landlord_id_number: Mapped[str | None] = mapped_column(String(32), default=None)
    rooms: Mapped[int | None] = mapped_column(default=None)
    nature: Mapped[str | None] = mapped_column(String(32), default=None)
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    use: Mapped[str | None] = mapped_column(String(32), default=None)
    structure: Mapped[str | None] = mapped_column(String(32), default=None)
    hazard_level: Mapped[str | None] = mapped_column(String(16), default=None)
