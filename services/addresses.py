"""Standard addresses (楼宇/地址库, R-MAP-3): the register and its typo-tolerant search.

This is the base of the house registries (addresses → houses → rentals), so it also holds
what the three share: records under a unit, points in and out, audited inserts and field
changes, and restoring a record whose unique key may have been taken meanwhile.
"""

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import orjson
from geoalchemy2.elements import WKBElement
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Double, Select, and_, case, cast, func, literal, or_, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from domain.addresses import MATCH_THRESHOLD, SearchTerms, normalise, pinyin_initials, search_text
from domain.errors import BadRequest, Conflict, DomainError, FieldError, Invalid, NotFound
from domain.registry import Status
from domain.versioning import check_version
from services import registry
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Address, House
from services.models.base import Ltree
from services.models.registry import RegistryRecord
from services.pagination import Page, decode_cursor, encode_cursor, paginate

R = TypeVar("R", bound=RegistryRecord)

ADDRESS = "address"
FULL_TEXT_MAX = 300


def located(column: InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """A point column as GeoJSON text (WGS-84, 7 decimals ≈ 1 cm)."""
    return func.ST_AsGeoJSON(column, 7).label("location")


COLUMNS = (
    Address.id,
    Address.grid_id,
    Address.path,
    Address.full_text,
    Address.road,
    Address.house_number,
    Address.building,
    Address.pinyin_initials,
    located(Address.location),
    Address.status,
    Address.status_reason,
    Address.status_changed_at,
    Address.version,
    Address.created_at,
    Address.updated_at,
    Address.created_by,
)
AUDITED = ("full_text", "road", "house_number", "building", "location")


# --------------------------------------------------------------------------- shared helpers


def record_dict(row: Any) -> dict[str, Any]:
    """A selected row as a dict, its `location` GeoJSON text parsed."""
    data = dict(row._mapping)
    if "location" in data:
        data["location"] = orjson.loads(data["location"]) if data["location"] else None
    return data


def export_dict(row: Any) -> dict[str, Any]:
    """A selected row for a spreadsheet: the location as plain lon/lat columns."""
    data = record_dict(row)
    location = data.pop("location", None)
    data["lon"], data["lat"] = location["coordinates"] if location else (None, None)
    return data


def to_column(value: Any) -> Any:
    """A shapely geometry as a PostGIS value (WGS-84); anything else unchanged."""
    return from_shape(value, srid=4326) if isinstance(value, BaseGeometry) else value


def _plain(value: Any) -> Any:
    if isinstance(value, WKBElement):
        return list(to_shape(value).coords[0])
    if isinstance(value, BaseGeometry):
        return list(value.coords[0])
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def snapshot(record: RegistryRecord, keys: tuple[str, ...]) -> dict[str, Any]:
    """The audited fields of a record as JSON values (R-AUD-1 before/after)."""
    return {key: _plain(getattr(record, key)) for key in keys}


async def under_unit(
    ctx: Ctx, path: InstrumentedAttribute[str], unit_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """Records in the subtree of `unit_id` (a unit of any level, 404 outside the caller's
    jurisdiction); no condition when no unit is named."""
    if unit_id is None:
        return true()
    unit = await registry.unit_for_record(ctx, unit_id)
    return path.op("<@", return_type=None)(cast(literal(unit.path), Ltree()))


async def insert_record(
    ctx: Ctx,
    record: RegistryRecord,
    path: str,
    *,
    target_type: str,
    audited: tuple[str, ...],
    unique: tuple[str, ...] = (),
) -> None:
    """Insert a new record under `path`; a clash on a unique index is a 409 naming the
    value (the index decides, so concurrent inserts cannot both win); audited."""
    registry.stamp_new(ctx, record, path)
    ctx.session.add(record)
    await flush_unique(ctx.session, **{key: str(getattr(record, key)) for key in unique})
    await registry.audit_change(
        ctx,
        record,
        action=f"{target_type}.create",
        target_type=target_type,
        before=None,
        after=snapshot(record, audited),
        bump=False,
    )


async def write_changes(
    ctx: Ctx,
    record: RegistryRecord,
    changes: Mapping[str, Any],
    *,
    target_type: str,
    audited: tuple[str, ...],
    required: tuple[str, ...] = (),
    unique: tuple[str, ...] = (),
) -> None:
    """Apply a PATCH to a locked record: absent fields stay, null clears an optional field
    and is refused for a required one, unique indexes decide clashes (409), the version is
    bumped and the change audited. An empty PATCH is a no-op (no version, no audit)."""
    cleared = [key for key in required if key in changes and changes[key] is None]
    if cleared:
        raise Invalid(
            "validation_failed", errors=[FieldError(key, "field_required") for key in cleared]
        )
    if not changes:
        return
    before = snapshot(record, audited)
    for key, value in changes.items():
        setattr(record, key, to_column(value))
    await flush_unique(ctx.session, **{key: str(getattr(record, key)) for key in unique})
    await registry.audit_change(
        ctx,
        record,
        action=f"{target_type}.update",
        target_type=target_type,
        before=before,
        after=snapshot(record, audited),
    )


async def restore_record(
    ctx: Ctx,
    model: type[R],
    record_id: uuid.UUID,
    *,
    target_type: str,
    not_found: str,
    reason: str | None,
    expected_version: int | None,
    clash: Callable[[R], DomainError],
) -> R:
    """Restore (恢复) a deregistered record with its history kept. Its unique key may have
    been taken by an active record meanwhile: the partial unique index decides, also under a
    race, and the clash (`clash(record)`) is raised instead."""
    record = await registry.lock_record(ctx, model, record_id, not_found=not_found)
    error = clash(record)
    try:
        async with ctx.session.begin_nested():
            return await registry.change_status(
                ctx,
                model,
                record_id,
                target_type=target_type,
                from_status=Status.DEREGISTERED,
                to_status=Status.ACTIVE,
                reason=reason,
                expected_version=expected_version,
                not_found=not_found,
            )
    except IntegrityError as exc:
        # A status update can only break the "one active record per key" index.
        raise error from exc


async def deregister_record(
    ctx: Ctx,
    model: type[R],
    record_id: uuid.UUID,
    *,
    target_type: str,
    not_found: str,
    reason: str,
    expected_version: int | None,
) -> R:
    """Deregister (注销) an active record with reason and time (SPEC §3)."""
    return await registry.change_status(
        ctx,
        model,
        record_id,
        target_type=target_type,
        from_status=Status.ACTIVE,
        to_status=Status.DEREGISTERED,
        reason=reason,
        expected_version=expected_version,
        not_found=not_found,
    )


# --------------------------------------------------------------------------- the register


@dataclass(frozen=True)
class AddressFilters:
    unit_id: uuid.UUID | None = None
    q: str | None = None
    status: Status | None = None


def _text_forms(full_text: str) -> dict[str, str]:
    """The stored full text (normalised) and its search forms."""
    text = normalise(full_text)
    if not text or len(text) > FULL_TEXT_MAX:
        raise Invalid(
            "validation_failed",
            errors=[FieldError("full_text", "field_invalid", {"detail": f"1–{FULL_TEXT_MAX}"})],
        )
    return {
        "full_text": text,
        "search_text": search_text(text),
        "pinyin_initials": pinyin_initials(text),
    }


async def create_address(ctx: Ctx, values: Mapping[str, Any]) -> dict[str, Any]:
    """Register a standard address in a grid (R-REG-1); its normalised full text is unique
    among active addresses (409 `address_taken`)."""
    fields = dict(values)
    grid = await registry.grid_for_record(ctx, fields.pop("grid_id"))
    fields.update(_text_forms(fields["full_text"]))
    address = Address(grid_id=grid.id, **{k: to_column(v) for k, v in fields.items()})
    await insert_record(
        ctx, address, grid.path, target_type=ADDRESS, audited=AUDITED, unique=("full_text",)
    )
    return await get_address(ctx, address.id)


async def get_address(ctx: Ctx, address_id: uuid.UUID) -> dict[str, Any]:
    """One address in the caller's jurisdiction; else 404."""
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(Address.id == address_id, in_scope(Address.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("address_not_found")
    return record_dict(row)


async def active_address(ctx: Ctx, address_id: uuid.UUID, field: str = "address_id") -> Address:
    """An active address in the caller's jurisdiction for a house to point at, share-locked
    so that it cannot be deregistered until the house is written."""
    address = (
        await ctx.session.execute(
            select(Address)
            .where(Address.id == address_id, in_scope(Address.path, ctx.principal))
            .with_for_update(read=True)
        )
    ).scalar_one_or_none()
    if address is None:
        raise NotFound("address_not_found", errors=[FieldError(field, "address_not_found")])
    if address.status != Status.ACTIVE:
        raise Invalid("address_deregistered", errors=[FieldError(field, "address_deregistered")])
    return address


async def update_address(
    ctx: Ctx, address_id: uuid.UUID, changes: Mapping[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Correct an address (If-Match); a new full text must not be another active address's."""
    address = await registry.lock_record(ctx, Address, address_id, not_found="address_not_found")
    check_version(expected_version, address.version)
    fields = dict(changes)
    if fields.get("full_text") is not None:
        fields.update(_text_forms(fields["full_text"]))
    await write_changes(
        ctx,
        address,
        fields,
        target_type=ADDRESS,
        audited=AUDITED,
        required=("full_text",),
        unique=("full_text",),
    )
    return await get_address(ctx, address.id)


async def deregister_address(
    ctx: Ctx, address_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Deregister an address that no active house points at (409 `address_in_use`)."""
    address = await registry.lock_record(ctx, Address, address_id, not_found="address_not_found")
    houses = await ctx.session.scalar(
        select(func.count())
        .select_from(House)
        .where(House.address_id == address.id, House.status == Status.ACTIVE)
    )
    if houses:
        raise Conflict("address_in_use", params={"houses": houses})
    await deregister_record(
        ctx,
        Address,
        address_id,
        target_type=ADDRESS,
        not_found="address_not_found",
        reason=reason,
        expected_version=expected_version,
    )
    return await get_address(ctx, address_id)


async def restore_address(
    ctx: Ctx, address_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """Restore a deregistered address unless its full text is another active address's."""
    await restore_record(
        ctx,
        Address,
        address_id,
        target_type=ADDRESS,
        not_found="address_not_found",
        reason=reason,
        expected_version=expected_version,
        clash=lambda a: Conflict(
            "address_taken",
            params={"full_text": a.full_text},
            errors=[FieldError("full_text", "address_taken", {"full_text": a.full_text})],
        ),
    )
    return await get_address(ctx, address_id)


async def address_history(ctx: Ctx, address_id: uuid.UUID) -> list[dict[str, Any]]:
    """The address's deregistrations and restorations, oldest first."""
    await get_address(ctx, address_id)
    return await registry.status_history(ctx, ADDRESS, address_id)


# --------------------------------------------------------------------------- search


def _ranking(terms: SearchTerms) -> tuple[ColumnElement[Any], ColumnElement[bool]]:
    """(score, hit) of an address for a query. The character similarity is 1 when the text
    contains the query, else pg_trgm word similarity of the components; the initials
    similarity catches homophones and initials typed as the query. The score is their mean,
    so a match on both characters and sound ranks above a match on sound alone."""
    chars = case(
        (Address.full_text.icontains(terms.plain, autoescape=True), literal(1.0, Double)),
        else_=cast(func.word_similarity(terms.words, Address.search_text), Double),
    )
    initials = cast(func.word_similarity(terms.initials, Address.pinyin_initials), Double)
    hit = or_(chars >= MATCH_THRESHOLD, initials >= MATCH_THRESHOLD)
    return (chars + initials) / 2, hit


async def _address_query(
    ctx: Ctx, filters: AddressFilters
) -> tuple[Select[*tuple[Any, ...]], ColumnElement[Any] | None, SearchTerms | None]:
    stmt: Select[*tuple[Any, ...]] = select(*COLUMNS).where(
        in_scope(Address.path, ctx.principal),
        await under_unit(ctx, Address.path, filters.unit_id),
    )
    if filters.status is not None:
        stmt = stmt.where(Address.status == filters.status)
    terms = SearchTerms.parse(filters.q) if filters.q else None
    if terms is None:
        return stmt, None, None
    score, hit = _ranking(terms)
    return stmt.add_columns(score.label("score")).where(hit), score, terms


async def list_addresses(
    ctx: Ctx, filters: AddressFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of addresses: by full text, or best match first when searching."""
    stmt, score, terms = await _address_query(ctx, filters)
    if score is None or terms is None:
        return await paginate(
            ctx.session,
            stmt,
            key=(Address.full_text, Address.id),
            limit=limit,
            cursor=cursor,
            convert=record_dict,
        )
    return await _ranked_page(ctx, stmt, score, terms, limit=limit, cursor=cursor)


async def export_addresses(ctx: Ctx, filters: AddressFilters) -> Select[*tuple[Any, ...]]:
    """The list's rows in the list's order, for a streaming export."""
    stmt, score, _ = await _address_query(ctx, filters)
    if score is None:
        return stmt.order_by(Address.full_text, Address.id)
    return stmt.order_by(score.desc(), Address.id)


def _query_mark(terms: SearchTerms) -> str:
    return hashlib.sha256(terms.plain.encode()).hexdigest()[:16]


async def _ranked_page(
    ctx: Ctx,
    stmt: Select[*tuple[Any, ...]],
    score: ColumnElement[Any],
    terms: SearchTerms,
    *,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """Keyset paging over (score desc, id). A score is a pure function of the query and the
    row, so the cursor carries the last (score, id) and the next page continues strictly
    after it: no cap, no OFFSET, stable while the data is. The cursor also names its query,
    so a cursor of another search is refused (400) instead of skipping rows. Scores are
    double precision end to end, and JSON round-trips a double exactly."""
    total = (
        await ctx.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery()))
    ).scalar_one()
    if cursor:
        last_score, last_id, mark = decode_cursor(cursor, 3)
        if mark != _query_mark(terms):
            raise BadRequest("cursor_invalid", errors=[FieldError("cursor", "cursor_invalid")])
        try:
            at_score, after_id = literal(float(last_score), Double), uuid.UUID(str(last_id))
        except (TypeError, ValueError) as exc:
            raise BadRequest("cursor_invalid") from exc
        stmt = stmt.where(or_(score < at_score, and_(score == at_score, Address.id > after_id)))
    rows = (
        await ctx.session.execute(stmt.order_by(score.desc(), Address.id).limit(limit + 1))
    ).all()
    items = [record_dict(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last["score"], str(last["id"]), _query_mark(terms)])
    return Page(items=items, next_cursor=next_cursor, total=total)
