"""Statistics for the registries and the events (R-ANA-1): by region (one figure per child
unit, for bar charts and the map's choropleth), by type, and by trend with year-on-year and
month-on-month, in chart-ready JSON.

Each figure is one grouped query over the subject's table inside the caller's jurisdiction;
registries count their active records, events all of them. Dates are business-zone dates."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Date, cast, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from domain import analysis
from domain.analysis import Granularity
from domain.errors import FieldError, Invalid, PermissionDenied
from domain.events import CATEGORY_NAMES
from domain.people import KIND_LABELS
from domain.permissions import Perm
from domain.places import (
    COMPONENT_KINDS,
    ORGANISATION_CATEGORY_NAMES,
    PLACE_KIND_NAMES,
    TEAM_CATEGORY_NAMES,
)
from domain.tags import KINDS
from services.context import Ctx
from services.events import visible
from services.jurisdiction import in_scope
from services.models import (
    Component,
    Event,
    House,
    Organisation,
    OrgUnit,
    Person,
    PersonTag,
    PlaceKindEntry,
    Rental,
    Team,
)
from services.models.base import Ltree
from services.registry import unit_for_record
from services.settings import get_settings

_ZONE = get_settings().timezone
E = TypeVar("E", bound=StrEnum)
# The longest trend one request may ask for, in buckets.
MAX_BUCKETS = 400


class SubjectName(StrEnum):
    EVENTS = "events"
    PEOPLE = "people"
    TAGS = "tags"
    HOUSES = "houses"
    RENTALS = "rentals"
    PLACES = "places"
    ORGANISATIONS = "organisations"
    TEAMS = "teams"
    COMPONENTS = "components"


def _plain(names: Mapping[E, str]) -> dict[str, str]:
    return {code.value: name for code, name in names.items()}


@dataclass(frozen=True)
class Subject:
    """What is counted: the table's path, type and time columns, who may read it, and the
    names of its type codes."""

    path: InstrumentedAttribute[Any]
    type: InstrumentedAttribute[Any]
    created: InstrumentedAttribute[Any]
    permission: Perm
    names: Mapping[str, str]
    # Registries count active records only; events count every one.
    status: InstrumentedAttribute[Any] | None


SUBJECTS: dict[SubjectName, Subject] = {
    SubjectName.EVENTS: Subject(
        Event.path, Event.category, Event.created_at, Perm.EVENT_READ, _plain(CATEGORY_NAMES), None
    ),
    SubjectName.PEOPLE: Subject(
        Person.path,
        Person.kind,
        Person.created_at,
        Perm.POPULATION_READ,
        _plain(KIND_LABELS),
        Person.status,
    ),
    SubjectName.TAGS: Subject(
        PersonTag.path,
        PersonTag.kind,
        PersonTag.created_at,
        Perm.TAG_READ,
        {kind.value: spec.label for kind, spec in KINDS.items()},
        PersonTag.status,
    ),
    SubjectName.HOUSES: Subject(
        House.path, House.use, House.created_at, Perm.HOUSE_READ, {}, House.status
    ),
    SubjectName.RENTALS: Subject(
        Rental.path, Rental.category, Rental.created_at, Perm.HOUSE_READ, {}, Rental.status
    ),
    # A place is counted under each of its kinds (R-PLACE-1: a place holds several).
    SubjectName.PLACES: Subject(
        PlaceKindEntry.path,
        PlaceKindEntry.kind,
        PlaceKindEntry.created_at,
        Perm.PLACE_READ,
        _plain(PLACE_KIND_NAMES),
        None,
    ),
    SubjectName.ORGANISATIONS: Subject(
        Organisation.path,
        Organisation.category,
        Organisation.created_at,
        Perm.PLACE_READ,
        _plain(ORGANISATION_CATEGORY_NAMES),
        Organisation.status,
    ),
    SubjectName.TEAMS: Subject(
        Team.path,
        Team.category,
        Team.created_at,
        Perm.TEAM_READ,
        _plain(TEAM_CATEGORY_NAMES),
        Team.status,
    ),
    SubjectName.COMPONENTS: Subject(
        Component.path,
        Component.kind,
        Component.created_at,
        Perm.PLACE_READ,
        {kind: name for kinds in COMPONENT_KINDS.values() for kind, name in kinds.items()},
        Component.status,
    ),
}


@dataclass(frozen=True)
class Window:
    """Records created on or after `since` and on or before `until` (business dates)."""

    since: date | None = None
    until: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=ZoneInfo(_ZONE))


def _subject(ctx: Ctx, name: SubjectName) -> Subject:
    subject = SUBJECTS[name]
    if not ctx.principal.can(subject.permission):
        raise PermissionDenied()
    return subject


def _conditions(ctx: Ctx, subject: Subject, path: str | None, window: Window) -> list[Any]:
    """Jurisdiction (events: the workbench's visibility rule), the unit asked about, the
    life-cycle status and the time window."""
    where: list[Any] = [
        visible(ctx.principal)
        if subject.path is Event.path
        else in_scope(subject.path, ctx.principal)
    ]
    if path is not None:
        where.append(subject.path.op("<@", return_type=None)(cast(literal(path), Ltree())))
    if subject.status is not None:
        where.append(subject.status == "active")
    if window.since is not None:
        where.append(subject.created >= _start_of(window.since))
    if window.until is not None:
        where.append(subject.created < _start_of(window.until + timedelta(days=1)))
    return where


async def _home(ctx: Ctx, unit_id: uuid.UUID | None) -> OrgUnit | None:
    """The unit asked about (in jurisdiction, else 404), or the caller's home; none for a
    whole-tree caller who names no unit."""
    if unit_id is not None:
        return await unit_for_record(ctx, unit_id)
    if ctx.principal.unit_id is not None:
        return await unit_for_record(ctx, ctx.principal.unit_id)
    return None


async def by_region(
    ctx: Ctx, name: SubjectName, unit_id: uuid.UUID | None, window: Window
) -> dict[str, Any]:
    """One figure per unit directly below the unit (its children, each with its subtree)."""
    subject = _subject(ctx, name)
    home = await _home(ctx, unit_id)
    path = home.path if home else None
    child = (
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.path)
        .where(
            OrgUnit.parent_id == home.id if home else OrgUnit.parent_id.is_(None),
            OrgUnit.deleted_at.is_(None),
            in_scope(OrgUnit.path, ctx.principal),
        )
        .subquery("child")
    )
    counted = (
        select(subject.path.label("path"))
        .where(*_conditions(ctx, subject, path, window))
        .subquery("counted")
    )
    rows = await ctx.session.execute(
        select(child.c.id, child.c.code, child.c.name, child.c.level, func.count(counted.c.path))
        .select_from(child)
        .outerjoin(counted, counted.c.path.op("<@", return_type=None)(child.c.path))
        .group_by(child.c.id, child.c.code, child.c.name, child.c.level)
        .order_by(child.c.code)
    )
    items = [
        {
            "key": str(row.id),
            "code": row.code,
            "name": row.name,
            "level": row.level,
            "value": row[4],
        }
        for row in rows
    ]
    total = await ctx.session.scalar(select(func.count()).select_from(counted))
    return {
        "subject": name.value,
        "unit_id": home.id if home else None,
        "total": int(total or 0),
        "items": items,
    }


async def by_type(
    ctx: Ctx, name: SubjectName, unit_id: uuid.UUID | None, window: Window
) -> dict[str, Any]:
    """One figure per type code (category, kind or use), largest first."""
    subject = _subject(ctx, name)
    home = await _home(ctx, unit_id)
    rows = await ctx.session.execute(
        select(subject.type, func.count())
        .where(*_conditions(ctx, subject, home.path if home else None, window))
        .group_by(subject.type)
        .order_by(func.count().desc(), subject.type)
    )
    items = [
        {
            "key": code,
            "name": subject.names.get(code, code) if code is not None else None,
            "value": count,
        }
        for code, count in rows
    ]
    return {
        "subject": name.value,
        "unit_id": home.id if home else None,
        "total": sum(item["value"] for item in items),
        "items": items,
    }


def _bucket(column: InstrumentedAttribute[Any], granularity: Granularity) -> ColumnElement[Any]:
    local = func.timezone(_ZONE, column)
    return cast(func.date_trunc(granularity.value, local), Date)


async def trend(
    ctx: Ctx,
    name: SubjectName,
    unit_id: uuid.UUID | None,
    granularity: Granularity,
    since: date,
    until: date,
) -> dict[str, Any]:
    """New records per bucket from `since` to `until`, each with the same bucket a year
    before (同比) and the bucket before (环比) and their change ratios."""
    if until < since:
        raise Invalid(
            "analysis_window_invalid", errors=[FieldError("until", "analysis_window_invalid")]
        )
    if len(analysis.buckets(since, until, granularity)) > MAX_BUCKETS:
        raise Invalid(
            "analysis_window_too_long", errors=[FieldError("since", "analysis_window_too_long")]
        )
    subject = _subject(ctx, name)
    home = await _home(ctx, unit_id)
    bucket = _bucket(subject.created, granularity).label("bucket")
    # Whole buckets at both ends, so each compares like with like.
    last = analysis.shift(analysis.bucket_start(until, granularity), granularity, 1)
    full = Window(analysis.window(since, granularity), last - timedelta(days=1))
    rows = await ctx.session.execute(
        select(bucket, func.count())
        .where(*_conditions(ctx, subject, home.path if home else None, full))
        .group_by(bucket)
    )
    counts = {row[0]: int(row[1]) for row in rows}
    points = analysis.trend(counts, since, until, granularity)
    return {
        "subject": name.value,
        "unit_id": home.id if home else None,
        "granularity": granularity.value,
        "items": [point.__dict__ for point in points],
    }
