"""Key places (重点场所, R-PLACE-1), and what every registry of organisations and places
shares (organisations, teams, components and video points read and write through
`Registry`): scoped reads with masking, keyset pages, audited creates and partial updates,
life-cycle changes, standard-address references and point locations.
"""

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import orjson
from geoalchemy2 import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, ColumnElement, and_, cast, delete, exists, func, inspect, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.geo import to_geojson
from domain.masking import Mask
from domain.places import (
    LEVEL_COLOURS,
    LEVEL_NAMES,
    PLACE_KIND_NAMES,
    AttentionLevel,
    PlaceKind,
    highest_level,
    place_details,
)
from domain.registry import FollowStatus, Status
from domain.versioning import check_version
from services.constraints import _conflict, flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope
from services.masking import MaskSpec, present
from services.models import Address, OrgUnit, Place, PlaceKindEntry
from services.models.places import HeldAtAnyLevel
from services.models.registry import RegistryRecord
from services.pagination import AnySelect, Page, paginate
from services.registry import (
    audit_change,
    change_status,
    grid_for_record,
    lock_record,
    stamp_new,
)
from services.spatial import boxed

R = TypeVar("R", bound=RegistryRecord)

BBox = tuple[float, float, float, float]


# --- shared by the registries of this feature ----------------------------------------------


def geojson_of(column: Any, label: str = "location") -> ColumnElement[Any]:
    """A geometry column selected as GeoJSON text (7 decimals, about 1 cm)."""
    return func.ST_AsGeoJSON(column, 7).label(label)


def holder_of(model: type[HeldAtAnyLevel]) -> ColumnElement[Any]:
    """The unit holding an any-level record, whichever of its two columns is set."""
    return func.coalesce(model.grid_id, model.unit_id).label("unit_id")


def held_by(unit: OrgUnit) -> dict[str, uuid.UUID | None]:
    """The holder columns of an any-level record kept at `unit`."""
    if unit.level == "grid":
        return {"grid_id": unit.id, "unit_id": None}
    return {"grid_id": None, "unit_id": unit.id}


def in_unit(path: InstrumentedAttribute[str], unit_id: uuid.UUID) -> ColumnElement[bool]:
    """Records in the subtree of a unit (an unknown or invisible unit matches nothing)."""
    unit_path = select(OrgUnit.path).where(OrgUnit.id == unit_id).scalar_subquery()
    return path.op("<@", return_type=None)(unit_path)


def in_bbox(column: Any, bbox: BBox) -> ColumnElement[bool]:
    """Points inside a box: the indexed box test, then the exact one."""
    envelope = func.ST_MakeEnvelope(*bbox, 4326)
    return and_(boxed(column, envelope), func.ST_Intersects(column, envelope))


def name_matches(column: InstrumentedAttribute[Any], q: str) -> ColumnElement[bool]:
    """Case-insensitive substring search (`q`), wildcards in the input escaped."""
    return column.icontains(q, autoescape=True)


def holds(column: InstrumentedAttribute[list[Any]], value: Any) -> ColumnElement[bool]:
    """`column @> ARRAY[value]`: the array column holds the value (a GIN index answers it)."""
    return column.op("@>", return_type=Boolean)(cast(array([value]), column.type))


def plain(value: Any) -> Any:
    """A column value as the audit trail stores it (JSON)."""
    if isinstance(value, WKBElement):
        value = to_shape(value)
    if isinstance(value, BaseGeometry):
        return to_geojson(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def column_value(value: Any) -> Any:
    """A value as it goes into a column: shapely geometries become PostGIS geometries."""
    return from_shape(value, srid=4326) if isinstance(value, BaseGeometry) else value


def stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for a new row (see `column_value`)."""
    return {key: column_value(value) for key, value in values.items()}


async def address_for_record(ctx: Ctx, address_id: uuid.UUID, field: str = "address_id") -> Address:
    """An active standard address inside the caller's jurisdiction (404 outside it)."""
    address = (
        await ctx.session.execute(
            select(Address).where(Address.id == address_id, in_scope(Address.path, ctx.principal))
        )
    ).scalar_one_or_none()
    if address is None:
        raise NotFound("address_not_found", errors=[FieldError(field, "address_not_found")])
    if address.status != Status.ACTIVE:
        raise Invalid("address_inactive", errors=[FieldError(field, "address_inactive")])
    return address


async def with_address(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    """Values referring to a standard address take its text and location unless given."""
    address_id = values.get("address_id")
    if address_id is None:
        return values
    address = await address_for_record(ctx, address_id)
    filled = dict(values)
    if filled.get("address") is None:
        filled["address"] = address.full_text
    if filled.get("location") is None and address.location is not None:
        filled["location"] = address.location
    return filled


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """Lists joined into one text cell (posts, ids) for spreadsheets."""
    return {
        key: "、".join(str(v) for v in value) if isinstance(value, list) else value
        for key, value in record.items()
    }


def _row_dict(geo: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    def convert(row: Any) -> dict[str, Any]:
        data = dict(row._mapping)
        for key in geo:
            data[key] = orjson.loads(data[key]) if data.get(key) else None
        return data

    return convert


@dataclass(frozen=True)
class Registry(Generic[R]):
    """How one registry of this feature is read and written.

    `columns` must include the model's `id` and `path` (the path names the jurisdiction in
    audit entries; outputs ignore it); `geo` names GeoJSON text columns to parse.
    """

    model: type[R]
    target_type: str
    not_found: str
    columns: tuple[Any, ...]
    sort: InstrumentedAttribute[str]
    mask: MaskSpec = field(default_factory=dict)
    geo: tuple[str, ...] = ("location",)
    finish: Callable[[dict[str, Any]], dict[str, Any]] = lambda data: data

    def convert(self, row: Any) -> dict[str, Any]:
        return self.finish(_row_dict(self.geo)(row))

    @property
    def order(self) -> tuple[Any, ...]:
        """The list order (name, id), for exports to match the pages."""
        return (self.sort, self.model.id)

    def export_row(self, row: Any) -> dict[str, Any]:
        """A record as a spreadsheet row: lists become one text cell."""
        return flat(self.convert(row))

    def query(self, ctx: Ctx) -> AnySelect:
        """Every record in the caller's jurisdiction (lists add their filters)."""
        return select(*self.columns).where(in_scope(self.model.path, ctx.principal))

    async def shown(
        self, ctx: Ctx, records: list[dict[str, Any]], unit_path: str | None = None
    ) -> list[dict[str, Any]]:
        """Records masked for the caller, or shown in full with an audit entry (R-JUR-3)."""
        if not self.mask:
            return records
        return await present(
            ctx, records, self.mask, target_type=self.target_type, unit_path=unit_path
        )

    async def fetch(self, ctx: Ctx, record_id: uuid.UUID) -> dict[str, Any]:
        """One record in full (not for callers to see as is); unknown or outside
        jurisdiction → 404."""
        row = (
            await ctx.session.execute(self.query(ctx).where(self.model.id == record_id))
        ).one_or_none()
        if row is None:
            raise NotFound(self.not_found)
        return self.convert(row)

    async def get(self, ctx: Ctx, record_id: uuid.UUID) -> dict[str, Any]:
        """One record as the caller may see it."""
        record = await self.fetch(ctx, record_id)
        return (await self.shown(ctx, [record], record["path"]))[0]

    async def page(
        self, ctx: Ctx, stmt: AnySelect, *, limit: int, cursor: str | None
    ) -> Page[dict[str, Any]]:
        """A keyset page of `stmt` ordered by name, masked for the caller."""
        result = await paginate(
            ctx.session,
            stmt,
            key=(self.sort, self.model.id),
            limit=limit,
            cursor=cursor,
            convert=self.convert,
        )
        items = await self.shown(ctx, result.items)
        return Page(items=items, next_cursor=result.next_cursor, total=result.total)

    async def ensure_visible(self, ctx: Ctx, record_id: uuid.UUID) -> None:
        """404 unless the record exists inside the caller's jurisdiction."""
        visible = await ctx.session.scalar(
            select(
                exists().where(self.model.id == record_id, in_scope(self.model.path, ctx.principal))
            )
        )
        if not visible:
            raise NotFound(self.not_found)

    async def create(
        self, ctx: Ctx, record: R, *, path: str, unique: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Insert with bookkeeping; a unique-index clash is a 409; audited with its values."""
        stamp_new(ctx, record, path)
        ctx.session.add(record)
        await flush_unique(ctx.session, **(unique or {}))
        after = {
            attr.key: plain(getattr(record, attr.key))
            for attr in inspect(self.model).column_attrs
            if attr.key not in ("path", "created_at", "updated_at", "created_by")
        }
        await audit_change(
            ctx,
            record,
            action=f"{self.target_type}.create",
            target_type=self.target_type,
            before=None,
            after=after,
            bump=False,
        )
        return await self.get(ctx, record.id)

    async def update(
        self,
        ctx: Ctx,
        record_id: uuid.UUID,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None,
        check: Callable[[R], None] | None = None,
        unique: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Apply the given fields (None clears a field); `check` sees the changed record
        before anything is written. An empty change is a no-op."""
        record = await lock_record(ctx, self.model, record_id, not_found=self.not_found)
        check_version(expected_version, record.version)
        changed = {
            key: value
            for key, value in changes.items()
            if plain(getattr(record, key)) != plain(value)
        }
        if changed:
            before = {key: plain(getattr(record, key)) for key in changed}
            for key, value in changed.items():
                setattr(record, key, column_value(value))
            if check is not None:
                check(record)
            await flush_unique(ctx.session, **(unique or {}))
            await audit_change(
                ctx,
                record,
                action=f"{self.target_type}.update",
                target_type=self.target_type,
                before=before,
                after={key: plain(value) for key, value in changed.items()},
            )
        return await self.get(ctx, record.id)

    async def set_status(
        self,
        ctx: Ctx,
        record_id: uuid.UUID,
        *,
        from_status: str,
        to_status: str,
        reason: str | None,
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Deregister/restore (or unfollow/refollow) with reason and time, history kept.
        Restoring a record whose identity is now held by another active one is a 409."""
        try:
            async with ctx.session.begin_nested():
                await change_status(
                    ctx,
                    self.model,
                    record_id,
                    target_type=self.target_type,
                    from_status=from_status,
                    to_status=to_status,
                    reason=reason,
                    expected_version=expected_version,
                    not_found=self.not_found,
                )
        except IntegrityError as exc:
            raise _conflict(exc, {}) or exc from exc
        return await self.get(ctx, record_id)

    async def deregister(
        self, ctx: Ctx, record_id: uuid.UUID, *, reason: str, expected_version: int | None
    ) -> dict[str, Any]:
        """No longer exists (注销), with reason and time; the record stays readable."""
        return await self.set_status(
            ctx,
            record_id,
            from_status=Status.ACTIVE,
            to_status=Status.DEREGISTERED,
            reason=reason,
            expected_version=expected_version,
        )

    async def restore(
        self, ctx: Ctx, record_id: uuid.UUID, *, reason: str | None, expected_version: int | None
    ) -> dict[str, Any]:
        """Active again (恢复); a 409 while another active record holds its identity."""
        return await self.set_status(
            ctx,
            record_id,
            from_status=Status.DEREGISTERED,
            to_status=Status.ACTIVE,
            reason=reason,
            expected_version=expected_version,
        )


# --- key places -------------------------------------------------------------------------------

_KINDS = (
    select(
        func.coalesce(
            func.jsonb_agg(
                aggregate_order_by(
                    func.jsonb_build_object(
                        "kind",
                        PlaceKindEntry.kind,
                        "level",
                        PlaceKindEntry.level,
                        "details",
                        PlaceKindEntry.details,
                        "updated_at",
                        PlaceKindEntry.updated_at,
                    ),
                    PlaceKindEntry.kind,
                )
            ),
            func.jsonb_build_array(),
        )
    )
    .where(PlaceKindEntry.place_id == Place.id)
    .scalar_subquery()
    .label("kinds")
)


def _with_levels(place: dict[str, Any]) -> dict[str, Any]:
    """Each kind's legend colour, and the place's highest level (its colour on the map)."""
    kinds = [{**k, "colour": LEVEL_COLOURS[AttentionLevel(k["level"])]} for k in place["kinds"]]
    top = highest_level(k["level"] for k in kinds)
    return {
        **place,
        "kinds": kinds,
        "highest_level": top,
        "colour": LEVEL_COLOURS[top] if top else None,
        "kind_summary": "、".join(
            f"{PLACE_KIND_NAMES[PlaceKind(k['kind'])]}（{LEVEL_NAMES[AttentionLevel(k['level'])]}）"
            for k in kinds
        ),
    }


PLACES: Registry[Place] = Registry(
    model=Place,
    target_type="place",
    not_found="place_not_found",
    columns=(
        Place.id,
        Place.grid_id,
        Place.path,
        Place.name,
        Place.address,
        Place.address_id,
        geojson_of(Place.location),
        Place.principal,
        Place.phone,
        _KINDS,
        Place.status,
        Place.status_reason,
        Place.status_changed_at,
        Place.version,
        Place.created_at,
        Place.updated_at,
        Place.created_by,
    ),
    sort=Place.name,
    mask={"phone": Mask.PHONE},
    finish=_with_levels,
)


@dataclass(frozen=True)
class PlaceFilter:
    unit_id: uuid.UUID | None = None
    kind: PlaceKind | None = None
    level: AttentionLevel | None = None
    status: FollowStatus | None = None
    q: str | None = None


@dataclass(frozen=True)
class KindSpec:
    kind: PlaceKind
    level: AttentionLevel
    details: dict[str, Any]


def places_query(ctx: Ctx, f: PlaceFilter, bbox: BBox | None = None) -> AnySelect:
    """Places in jurisdiction matching the filters (shared by the list and its export);
    `kind` and `level` together select places holding that kind at that level."""
    stmt = PLACES.query(ctx)
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(Place.path, f.unit_id))
    if f.kind is not None or f.level is not None:
        held = [PlaceKindEntry.place_id == Place.id]
        if f.kind is not None:
            held.append(PlaceKindEntry.kind == f.kind.value)
        if f.level is not None:
            held.append(PlaceKindEntry.level == f.level.value)
        stmt = stmt.where(exists().where(*held))
    if f.status is not None:
        stmt = stmt.where(Place.status == f.status.value)
    if f.q:
        stmt = stmt.where(name_matches(Place.name, f.q) | name_matches(Place.address, f.q))
    if bbox is not None:
        stmt = stmt.where(in_bbox(Place.location, bbox))
    return stmt


def _checked_kinds(kinds: list[KindSpec]) -> list[KindSpec]:
    seen = [spec.kind for spec in kinds]
    if len(set(seen)) != len(seen):
        raise Invalid(
            "place_kinds_duplicate", errors=[FieldError("kinds", "place_kinds_duplicate")]
        )
    return [
        KindSpec(
            spec.kind, spec.level, place_details(spec.kind, spec.details, f"kinds.{i}.details")
        )
        for i, spec in enumerate(kinds)
    ]


async def create_place(
    ctx: Ctx, *, grid_id: uuid.UUID, values: dict[str, Any], kinds: list[KindSpec]
) -> dict[str, Any]:
    """A key place in a grid holding one or more kinds, each with its level (R-PLACE-1)."""
    grid = await grid_for_record(ctx, grid_id)
    checked = _checked_kinds(kinds)
    filled = await with_address(ctx, values)
    place = Place(
        grid_id=grid.id,
        status=FollowStatus.FOLLOWED.value,
        **stored(filled),
    )
    stamp_new(ctx, place, grid.path)
    ctx.session.add(place)
    await ctx.session.flush()
    now = ctx.now()
    ctx.session.add_all(
        PlaceKindEntry(
            place_id=place.id,
            kind=spec.kind.value,
            path=grid.path,
            level=spec.level.value,
            details=spec.details,
            created_at=now,
            updated_at=now,
        )
        for spec in checked
    )
    after = {key: plain(value) for key, value in filled.items()}
    after["grid_id"] = str(grid.id)
    after["kinds"] = [
        {"kind": s.kind.value, "level": s.level.value, "details": s.details} for s in checked
    ]
    await audit_change(
        ctx, place, action="place.create", target_type="place", before=None, after=after, bump=False
    )
    return await PLACES.get(ctx, place.id)


async def update_place(
    ctx: Ctx, place_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the given fields of a place (its kinds change through their own calls)."""
    if changes.get("address_id") is not None:
        await address_for_record(ctx, changes["address_id"])
    return await PLACES.update(ctx, place_id, changes, expected_version=expected_version)


async def _kind_entry(ctx: Ctx, place: Place, kind: PlaceKind) -> PlaceKindEntry:
    entry = (
        await ctx.session.execute(
            select(PlaceKindEntry)
            .where(PlaceKindEntry.place_id == place.id, PlaceKindEntry.kind == kind.value)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if entry is None:
        raise NotFound("place_kind_not_found", params={"kind": kind.value})
    return entry


async def _locked_place(ctx: Ctx, place_id: uuid.UUID, expected_version: int | None) -> Place:
    place = await lock_record(ctx, Place, place_id, not_found="place_not_found")
    check_version(expected_version, place.version)
    return place


async def add_kind(
    ctx: Ctx, place_id: uuid.UUID, spec: KindSpec, *, expected_version: int | None
) -> dict[str, Any]:
    """The place takes on one more kind with its level; holding it already is a 409."""
    place = await _locked_place(ctx, place_id, expected_version)
    details = place_details(spec.kind, spec.details, "details")
    now = ctx.now()
    ctx.session.add(
        PlaceKindEntry(
            place_id=place.id,
            kind=spec.kind.value,
            path=place.path,
            level=spec.level.value,
            details=details,
            created_at=now,
            updated_at=now,
        )
    )
    await flush_unique(ctx.session, kind=spec.kind.value)
    await audit_change(
        ctx,
        place,
        action="place.kind_add",
        target_type="place",
        before=None,
        after={"kind": spec.kind.value, "level": spec.level.value, "details": details},
    )
    return await PLACES.get(ctx, place.id)


async def change_kind(
    ctx: Ctx,
    place_id: uuid.UUID,
    kind: PlaceKind,
    *,
    level: AttentionLevel | None,
    details: dict[str, Any] | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """A new attention level and/or new details for one kind of the place."""
    place = await _locked_place(ctx, place_id, expected_version)
    entry = await _kind_entry(ctx, place, kind)
    before = {"kind": kind.value, "level": entry.level, "details": entry.details}
    if level is not None:
        entry.level = level.value
    if details is not None:
        entry.details = place_details(kind, details, "details")
    after = {"kind": kind.value, "level": entry.level, "details": entry.details}
    if after != before:
        entry.updated_at = ctx.now()
        await audit_change(
            ctx, place, action="place.kind_update", target_type="place", before=before, after=after
        )
    return await PLACES.get(ctx, place.id)


async def remove_kind(
    ctx: Ctx, place_id: uuid.UUID, kind: PlaceKind, *, expected_version: int | None
) -> dict[str, Any]:
    """The place no longer holds this kind; its last kind stays (unfollow the place)."""
    place = await _locked_place(ctx, place_id, expected_version)
    entry = await _kind_entry(ctx, place, kind)
    held = await ctx.session.scalar(select(func.count()).where(PlaceKindEntry.place_id == place.id))
    if held == 1:
        raise Conflict("place_last_kind")
    before = {"kind": kind.value, "level": entry.level, "details": entry.details}
    await ctx.session.execute(
        delete(PlaceKindEntry).where(
            PlaceKindEntry.place_id == place.id, PlaceKindEntry.kind == kind.value
        )
    )
    await audit_change(
        ctx, place, action="place.kind_remove", target_type="place", before=before, after=None
    )
    return await PLACES.get(ctx, place.id)


async def unfollow_place(
    ctx: Ctx, place_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """No longer a key place (取消关注), with reason and time."""
    return await PLACES.set_status(
        ctx,
        place_id,
        from_status=FollowStatus.FOLLOWED,
        to_status=FollowStatus.UNFOLLOWED,
        reason=reason,
        expected_version=expected_version,
    )


async def refollow_place(
    ctx: Ctx, place_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """A key place again (重新关注), history kept."""
    return await PLACES.set_status(
        ctx,
        place_id,
        from_status=FollowStatus.UNFOLLOWED,
        to_status=FollowStatus.FOLLOWED,
        reason=reason,
        expected_version=expected_version,
    )
