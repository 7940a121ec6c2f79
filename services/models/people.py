"""Actual population, households and families (R-POP-1..5, R-HH-1, R-HH-2)."""

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, synonym

from services.models.base import Base, Ltree
from services.models.registry import GridBound


class Person(GridBound, Base):
    __tablename__ = "people"

    kind: Mapped[str] = mapped_column(String(16))
    id_number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    former_name: Mapped[str | None] = mapped_column(String(100), default=None)
    gender: Mapped[str | None] = mapped_column(String(8), default=None)
    birth_date: Mapped[date | None] = mapped_column(default=None)
    ethnicity: Mapped[str | None] = mapped_column(String(32), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    register_address: Mapped[str | None] = mapped_column(String(300), default=None)
    current_address: Mapped[str | None] = mapped_column(String(300), default=None)
    education: Mapped[str | None] = mapped_column(String(32), default=None)
    occupation: Mapped[str | None] = mapped_column(String(100), default=None)
    employer: Mapped[str | None] = mapped_column(String(200), default=None)
    political_status: Mapped[str | None] = mapped_column(String(32), default=None)
    marital_status: Mapped[str | None] = mapped_column(String(16), default=None)
    photo_url: Mapped[str | None] = mapped_column(String(500), default=None)
    low_income: Mapped[bool] = mapped_column(default=False)
    away: Mapped[bool] = mapped_column(default=False)
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("houses.id"), default=None)
    no_house_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    location: Mapped[Any | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False), default=None
    )


class PersonCount(Base):
    """How many people of a kind and status a path holds, written only by the database's
    triggers on `people` (migration 0047): the people list's totals."""

    __tablename__ = "person_counts"

    path: Mapped[str] = mapped_column(Ltree(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class PersonGroup(GridBound):
    """A household or a family: a numbered group of people with a head (R-HH-1, R-HH-2).
    Each table names its number column after itself; `number` reads either."""

    if TYPE_CHECKING:
        number: Mapped[str]

    @declared_attr
    def head_person_id(cls) -> Mapped[uuid.UUID | None]:
        return mapped_column(ForeignKey("people.id"), default=None)

    address: Mapped[str | None] = mapped_column(String(300), default=None)


class GroupMember:
    """A person's membership of one group; a person is in one group of a kind at most.
    `group_id` reads the table's own key column."""

    if TYPE_CHECKING:
        group_id: Mapped[uuid.UUID]

    @declared_attr
    def person_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("people.id"), primary_key=True)

    path: Mapped[str] = mapped_column(Ltree())
    relation: Mapped[str] = mapped_column(String(32))
    joined_at: Mapped[datetime]


class Household(PersonGroup, Base):
    __tablename__ = "households"

    household_no: Mapped[str] = mapped_column(String(32))
    number = synonym("household_no")


class HouseholdMember(GroupMember, Base):
    __tablename__ = "household_members"

    household_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("households.id"))
    group_id = synonym("household_id")


class Family(PersonGroup, Base):
    __tablename__ = "families"

    family_no: Mapped[str] = mapped_column(String(32))
    number = synonym("family_no")


class FamilyMember(GroupMember, Base):
    __tablename__ = "family_members"

    family_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("families.id"))
    group_id = synonym("family_id")
