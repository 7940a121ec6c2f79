"""Organisations, key places, service teams, jurisdiction profiles, city components and video
points (R-ORGN-1, R-ORGN-2, R-PLACE-1, R-TEAM-1, R-JURINFO-1, R-CMP-1, R-VID-1)."""

import uuid
from datetime import date, datetime
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import ForeignKey, String, Text, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.models.base import Base, Ltree, new_id
from services.models.registry import GridBound, RegistryRecord


def _point() -> Mapped[Any | None]:
    return mapped_column(Geometry("POINT", srid=4326, spatial_index=False), default=None)


class HeldAtAnyLevel(RegistryRecord):
    """A record held by a grid (`grid_id`) or by a unit above grid level (`unit_id`): exactly
    one is set, so grid-held rows take part in grid moves and the grid delete guard."""

    grid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("org_units.id"), default=None)


class Organisation(HeldAtAnyLevel, Base):
    __tablename__ = "organisations"

    category: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str | None] = mapped_column(String(32), default=None)
    licence_no: Mapped[str | None] = mapped_column(String(32), default=None)
    legal_representative: Mapped[str | None] = mapped_column(String(100), default=None)
    legal_representative_id_number: Mapped[str | None] = mapped_column(String(32), default=None)
    legal_representative_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    principal: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    industry: Mapped[str | None] = mapped_column(String(100), default=None)
    hazardous_chemicals: Mapped[bool] = mapped_column(default=False)
    hazards: Mapped[str | None] = mapped_column(Text, default=None)
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    address_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("addresses.id"), default=None)
    location: Mapped[Any | None] = _point()


class Place(GridBound, Base):
    __tablename__ = "places"

    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(String(300), default=None)
    address_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("addresses.id"), default=None)
    location: Mapped[Any | None] = _point()
    principal: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)


class PlaceKindEntry(Base):
    """One kind a place holds, with its own attention level and details (R-PLACE-1)."""

    __tablename__ = "place_kinds"

    place_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("places.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    path: Mapped[str] = mapped_column(Ltree())
    level: Mapped[str] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Team(HeldAtAnyLevel, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    subcategory: Mapped[str | None] = mapped_column(String(64), default=None)
    leader: Mapped[str | None] = mapped_column(String(100), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    established_on: Mapped[date | None] = mapped_column(default=None)


class TeamMember(RegistryRecord, Base):
    """A person's membership of one team, with the posts held there; a person serving in
    several teams has one membership per team (R-TEAM-1)."""

    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"), default=None)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    posts: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    joined_on: Mapped[date | None] = mapped_column(default=None)


class ServiceRecord(Base):
    """A service given by members of one team to business persons of one kind (R-TEAM-1)."""

    __tablename__ = "service_records"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    team_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("teams.id"))
    path: Mapped[str] = mapped_column(Ltree())
    business_kind: Mapped[str] = mapped_column(String(32))
    member_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    tag_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    served_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class JurisdictionProfile(Base):
    """辖区信息 of one unit: text sections and images (R-JURINFO-1)."""

    __tablename__ = "jurisdiction_profiles"

    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    path: Mapped[str] = mapped_column(Ltree())
    overview: Mapped[str | None] = mapped_column(Text, default=None)
    geography: Mapped[str | None] = mapped_column(Text, default=None)
    economy: Mapped[str | None] = mapped_column(Text, default=None)
    society: Mapped[str | None] = mapped_column(Text, default=None)
    key_projects: Mapped[str | None] = mapped_column(Text, default=None)
    images: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


class Component(GridBound, Base):
    __tablename__ = "components"

    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(16), default="normal")
    owner: Mapped[str | None] = mapped_column(String(200), default=None)
    location: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    address_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("addresses.id"), default=None)
    bound_at: Mapped[datetime | None] = mapped_column(default=None)


class VideoPoint(GridBound, Base):
    __tablename__ = "video_points"

    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(32))
    location: Mapped[Any] = mapped_column(Geometry("POINT", srid=4326, spatial_index=False))
    stream_url: Mapped[str] = mapped_column(String(1000))
    owner: Mapped[str] = mapped_column(String(200))
