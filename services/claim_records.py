"""How claimed pool rows become records (R-IMP-2): per registry, the service that creates a
record (so every rule of the registry holds), the one that merges a row into a record, and
the identity of an active record the row duplicates.

People, organisations and business tags are in `services.claims`; here are houses, rentals,
key places, service teams, city components and video points, whose rows share one shape:
their values typed again, the location built from its WGS-84 longitude and latitude, and
what the template marks required present, else the claim is `incomplete`.
"""

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point
from sqlalchemy import ColumnElement, and_, select

from domain.errors import FieldError, Invalid
from domain.import_records import LAT, LON
from domain.imports import Nature, Template, typed_values
from domain.permissions import Perm
from domain.places import PLACE_DETAILS, AttentionLevel, ComponentCategory, PlaceKind, TeamCategory
from domain.registry import FollowStatus, Status
from services import components, houses, places, rentals, teams, video_points
from services.context import Ctx
from services.masking import MaskSpec
from services.models import Component, House, Place, Rental, Team, VideoPoint
from services.models.registry import RegistryRecord
from services.places import KindSpec

Values = dict[str, Any]


@dataclass(frozen=True)
class Registry:
    """How claimed rows become records of one nature, through that registry's service."""

    write: Perm
    model: type[RegistryRecord]
    active: str
    create: Callable[[Ctx, Template, Any, Values], Awaitable[Values]]
    update: Callable[[Ctx, uuid.UUID, Values], Awaitable[Values]]
    get: Callable[[Ctx, uuid.UUID], Awaitable[Values]]
    identity: Callable[[Template, Any, Values], ColumnElement[bool] | None]
    mask: MaskSpec


def record_values(ctx: Ctx, template: Template, values: Values, *, complete: bool = True) -> Values:
    """A pool row's values as the registry's service takes them; with `complete` (a new
    record) `incomplete` — 422 naming each field — when one the template marks required is
    missing."""
    typed = typed_values(template, values, today=ctx.today())
    missing = [c.key for c in template.columns if c.required and typed.get(c.key) in (None, [])]
    if missing and complete:
        raise Invalid(
            "validation_failed", errors=[FieldError(k, "field_required") for k in missing]
        )
    lon, lat = typed.pop(LON, None), typed.pop(LAT, None)
    if lon is not None and lat is not None:
        typed["location"] = Point(lon, lat)
    return typed


def _without(values: Values, *keys: str) -> Values:
    return {k: v for k, v in values.items() if k not in keys}


async def _create_house(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    return await houses.create_house(
        ctx, {"grid_id": grid.id, **record_values(ctx, template, values)}
    )


async def _house_in_grid(ctx: Ctx, grid: Any, house_no: str) -> House:
    """The active house a rental row names by its number, in the grid claimed into."""
    house = (
        await ctx.session.execute(
            select(House).where(
                House.grid_id == grid.id,
                House.house_no == house_no,
                House.status == Status.ACTIVE,
            )
        )
    ).scalar_one_or_none()
    if house is None:
        raise Invalid("house_not_found", errors=[FieldError("house_no", "house_not_found")])
    return house


async def _create_rental(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    fields = record_values(ctx, template, values)
    house = await _house_in_grid(ctx, grid, fields.pop("house_no"))
    return await rentals.create_rental(ctx, house.id, fields)


def _place_kinds(fields: Values) -> list[KindSpec]:
    """The row's kinds at its level, each with the sub-type when its details have one (the
    place's service checks the details as for a typed place)."""
    level = AttentionLevel(fields.pop("level", AttentionLevel.NORMAL))
    subtype = fields.pop("subtype", None)
    kinds = [PlaceKind(kind) for kind in fields.pop("kinds")]
    return [
        KindSpec(kind, level, {"subtype": subtype} if subtype and _has_subtype(kind) else {})
        for kind in kinds
    ]


def _has_subtype(kind: PlaceKind) -> bool:
    return "subtype" in PLACE_DETAILS[kind].model_fields


async def _create_place(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    fields = record_values(ctx, template, values)
    kinds = _place_kinds(fields)
    return await places.create_place(ctx, grid_id=grid.id, values=fields, kinds=kinds)


async def _create_team(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    fields = record_values(ctx, template, values)
    category = TeamCategory(fields.pop("category"))
    return await teams.create_team(ctx, unit_id=grid.id, category=category, values=fields)


async def _create_component(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    fields = record_values(ctx, template, values)
    return await components.create_component(
        ctx,
        grid_id=grid.id,
        category=ComponentCategory(fields.pop("category")),
        kind=fields.pop("kind"),
        values=fields,
    )


async def _create_video_point(ctx: Ctx, template: Template, grid: Any, values: Values) -> Values:
    fields = record_values(ctx, template, values)
    return await video_points.create_video_point(ctx, grid_id=grid.id, values=fields)


def _updater(
    update: Callable[..., Awaitable[Values]], *fixed: str
) -> Callable[[Ctx, uuid.UUID, Values], Awaitable[Values]]:
    """A merge through the registry's update, leaving out what a record keeps from its
    creation (a rental's house, a team's category, a place's kinds …)."""

    async def merge(ctx: Ctx, record_id: uuid.UUID, changes: Values) -> Values:
        return await update(ctx, record_id, _without(changes, *fixed), expected_version=None)

    return merge


def _equal(column: Any, value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _house_identity(template: Template, grid: Any, values: Values) -> ColumnElement[bool] | None:
    return and_(House.grid_id == grid.id, House.house_no == values.get("house_no"))


def _rental_identity(template: Template, grid: Any, values: Values) -> ColumnElement[bool] | None:
    house = (
        select(House.id)
        .where(
            House.grid_id == grid.id,
            House.house_no == values.get("house_no"),
            House.status == Status.ACTIVE,
        )
        .scalar_subquery()
    )
    return Rental.house_id == house


def _place_identity(template: Template, grid: Any, values: Values) -> ColumnElement[bool] | None:
    return and_(
        Place.grid_id == grid.id,
        Place.name == values.get("name"),
        _equal(Place.address, values.get("address")),
    )


def _team_identity(template: Template, grid: Any, values: Values) -> ColumnElement[bool] | None:
    return and_(Team.path == grid.path, Team.name == values.get("name"))


def _component_identity(
    template: Template, grid: Any, values: Values
) -> ColumnElement[bool] | None:
    return Component.code == values.get("code")


def _video_point_identity(
    template: Template, grid: Any, values: Values
) -> ColumnElement[bool] | None:
    if values.get("code"):
        return VideoPoint.code == values["code"]
    return and_(VideoPoint.grid_id == grid.id, VideoPoint.name == values.get("name"))


def _kept_by(
    store: places.Registry[Any],
    write: Perm,
    create: Callable[[Ctx, Template, Any, Values], Awaitable[Values]],
    update: Callable[[Ctx, uuid.UUID, Values], Awaitable[Values]],
    identity: Callable[[Template, Any, Values], ColumnElement[bool] | None],
    *,
    active: str = Status.ACTIVE,
) -> Registry:
    """A registry kept by a `services.places.Registry`: its model, reads and masks."""
    return Registry(
        write=write,
        model=store.model,
        active=active,
        create=create,
        update=update,
        get=store.get,
        identity=identity,
        mask=store.mask,
    )


RECORD_REGISTRIES: dict[Nature, Registry] = {
    Nature.HOUSE: Registry(
        write=Perm.HOUSE_WRITE,
        model=House,
        active=Status.ACTIVE,
        create=_create_house,
        update=_updater(houses.update_house),
        get=houses.get_house,
        identity=_house_identity,
        mask=houses.HOUSE_MASK,
    ),
    Nature.RENTAL: Registry(
        write=Perm.HOUSE_WRITE,
        model=Rental,
        active=Status.ACTIVE,
        create=_create_rental,
        update=_updater(rentals.update_rental, "house_no"),
        get=rentals.get_rental,
        identity=_rental_identity,
        mask=rentals.RENTAL_MASK,
    ),
    Nature.PLACE: _kept_by(
        places.PLACES,
        Perm.PLACE_WRITE,
        _create_place,
        _updater(places.update_place, "kinds", "level", "subtype"),
        _place_identity,
        active=FollowStatus.FOLLOWED,
    ),
    Nature.TEAM: _kept_by(
        teams.TEAMS,
        Perm.TEAM_WRITE,
        _create_team,
        _updater(teams.update_team, "category"),
        _team_identity,
    ),
    Nature.COMPONENT: _kept_by(
        components.COMPONENTS,
        Perm.PLACE_WRITE,
        _create_component,
        _updater(components.update_component, "category"),
        _component_identity,
    ),
    Nature.VIDEO_POINT: _kept_by(
        video_points.VIDEO_POINTS,
        Perm.PLACE_WRITE,
        _create_video_point,
        _updater(video_points.update_video_point),
        _video_point_identity,
    ),
}
