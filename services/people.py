"""Actual population (实有人口, R-POP-1..5).

People of four kinds are kept per grid. One active record per (grid, ID number) whatever the
kind (R-POP-1) is decided by the partial unique index, never by a pre-check, so racing
writers cannot both win. A person lives in a house or states why not (R-POP-5); an unsettled
person settles into a new registered record in one transaction (R-POP-4). Responses are
masked by the caller's permission (R-JUR-3); the audit trail keeps the real values, since it
is there for auditors.
"""

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    true,
)

from domain import id_numbers
from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.id_numbers import Gender
from domain.people import (
    DETAIL_MASKS,
    GENDER_LABELS,
    KIND_LABELS,
    PERSON_MASKS,
    Kind,
    check_residence,
    dictionary_errors,
    establish_identity,
    validate_details,
)
from domain.registry import Status
from domain.versioning import check_version
from services import households
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope, in_scope_param, scope_params, within_path
from services.masking import MaskSpec, present, present_one, reveal
from services.models import House, OrgUnit, Person, PersonCount
from services.pagination import AFTER_ID, AFTER_SORT, LIMIT, AnySelect, Keyset, Page
from services.prepared import Prepared
from services.registry import (
    audit_change,
    change_status,
    grid_for_record,
    lock_record,
    reactivate,
    stamp_new,
    status_history,
    unit_path,
)

TARGET = "person"
SETTLED_REASON = "已落户"
DUPLICATE_INDEX = "uq_people_grid_id_number_active"
# Exports flatten the details into columns of their own, so their masks lose the prefix.
EXPORT_MASKS: MaskSpec = {
    **{key: mask for key, mask in PERSON_MASKS.items() if not key.startswith("details.")},
    **DETAIL_MASKS,
}
# Fields stored as sent; identity, details and residence are checked and derived instead.
PLAIN_FIELDS = (
    "name",
    "former_name",
    "ethnicity",
    "phone",
    "register_address",
    "current_address",
    "education",
    "occupation",
    "employer",
    "political_status",
    "marital_status",
    "photo_url",
    "low_income",
    "away",
)
_AUDITED = (
    "kind",
    "id_number",
    "gender",
    "birth_date",
    *PLAIN_FIELDS,
    "house_id",
    "no_house_reason",
    "details",
)


# The person's own columns, as every read selects them.
_PERSON = (
    Person.id,
    Person.grid_id,
    Person.kind,
    Person.id_number,
    Person.name,
    Person.former_name,
    Person.gender,
    Person.birth_date,
    Person.ethnicity,
    Person.phone,
    Person.register_address,
    Person.current_address,
    Person.education,
    Person.occupation,
    Person.employer,
    Person.political_status,
    Person.marital_status,
    Person.photo_url,
    Person.low_income,
    Person.away,
    Person.house_id,
    Person.no_house_reason,
    Person.details,
    Person.status,
    Person.status_reason,
    Person.status_changed_at,
    Person.version,
    Person.created_at,
    Person.updated_at,
    Person.created_by,
    Person.path,
)
_HOUSE_ADDRESS = House.address.label("house_address")
# Built once: statements are immutable, and building this one costs more than running it.
_SELECT: AnySelect = (
    select(*_PERSON, OrgUnit.code, _HOUSE_ADDRESS)
    .join(OrgUnit, OrgUnit.id == Person.grid_id)
    .outerjoin(House, House.id == Person.house_id)
)


def _named(person: dict[str, Any]) -> dict[str, Any]:
    """A selected row under the names the API gives its fields."""
    person["grid_code"] = person.pop("code")
    return person


def _row(row: Any) -> dict[str, Any]:
    return _named(dict(row._mapping))


@cache
def _by_id(everything: bool) -> Prepared:
    return Prepared(
        _SELECT.where(
            Person.id == bindparam("person_id", type_=Uuid()),
            in_scope_param(Person.path, everything=everything),
        )
    )


async def _fetch(ctx: Ctx, person_id: uuid.UUID) -> dict[str, Any]:
    person = await _by_id(ctx.principal.sees_everything).row(
        ctx.session, {"person_id": person_id, **scope_params(ctx.principal)}
    )
    if person is None:
        raise NotFound("person_not_found")
    return _named(person)


async def get_person(ctx: Ctx, person_id: uuid.UUID) -> dict[str, Any]:
    """One person in jurisdiction, masked for the caller (R-JUR-3)."""
    person = await _fetch(ctx, person_id)
    return await present_one(
        ctx, person, PERSON_MASKS, target_type=TARGET, unit_path=person["path"]
    )


@dataclass(frozen=True)
class PersonFilters:
    unit_id: uuid.UUID | None = None
    kind: Kind | None = None
    status: Status | None = None
    house_id: uuid.UUID | None = None
    q: str | None = None


def _search() -> ColumnElement[bool]:
    """Names match by substring: the index of their characters and pairs (migration 0038)
    finds the candidates and ILIKE keeps the exact matches — written first, so the cheap
    comparison rejects a candidate before its grams are recomputed. Identities match only
    whole — a resident ID (a 15-digit one as upgraded) or an overseas document number —
    since partial matches would let a masked caller uncover a number digit by digit."""
    # Spelled like the expression index on overseas document numbers, so the index serves it.
    document_number = Person.details.op("->>")(literal_column("'document_number'"))
    # The query's pairs (or its one character) are enough to find the candidates (0049).
    looked_up = func.name_query_grams(bindparam("q", type_=String()))
    return or_(
        and_(
            Person.name.icontains(bindparam("q_like", type_=String()), escape=_LIKE_ESCAPE),
            func.name_grams(Person.name).op("@>")(looked_up),
        ),
        Person.id_number == any_(bindparam("numbers", type_=ARRAY(String()))),
        and_(Person.kind == Kind.OVERSEAS, document_number == bindparam("number", type_=String())),
    )


_LIKE_ESCAPE = "/"


def _like_escaped(text: str) -> str:
    """`text` matched literally by LIKE … ESCAPE `_LIKE_ESCAPE` (SQLAlchemy's autoescape)."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def _search_params(q: str) -> dict[str, Any]:
    number = id_numbers.normalise(q)
    numbers = [number]
    if re.fullmatch(r"\d{15}", number):
        numbers.append(id_numbers.upgrade(number))
    return {"q": q, "q_like": _like_escaped(q), "numbers": numbers, "number": number}


@dataclass(frozen=True)
class _Shape:
    """Which filters a list applies, and whether the caller sees the whole tree: one
    compiled statement per shape, the filters' values bound."""

    everything: bool
    unit: bool
    kind: bool
    status: bool
    house: bool
    q: bool


_UNIT_PATH = bindparam("unit_path", type_=String())
_KIND = bindparam("kind", type_=String())
_STATUS = bindparam("status", type_=String())


def _placed(shape: _Shape, counted: type[Person] | type[PersonCount]) -> list[ColumnElement[bool]]:
    """Where the list's people are (jurisdiction and unit) and what kind and status they
    have: on the people themselves, or on their counts."""
    conditions = [in_scope_param(counted.path, everything=shape.everything)]
    if shape.unit:
        conditions.append(within_path(counted.path, _UNIT_PATH))
    return conditions + _kind_and_status(shape, counted)


def _kind_and_status(
    shape: _Shape, counted: type[Person] | type[PersonCount]
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if shape.kind:
        conditions.append(counted.kind == _KIND)
    if shape.status:
        conditions.append(counted.status == _STATUS)
    return conditions


def _conditions(shape: _Shape) -> list[ColumnElement[bool]]:
    """What a person of the list satisfies, on their own columns."""
    return _placed(shape, Person) + _found_by(shape)


def _attributes(shape: _Shape) -> list[ColumnElement[bool]]:
    """The filters on what a person is, not where."""
    return _kind_and_status(shape, Person) + _found_by(shape)


def _found_by(shape: _Shape) -> list[ColumnElement[bool]]:
    """The filters that only the people's own rows answer: their house, a search."""
    conditions: list[ColumnElement[bool]] = []
    if shape.house:
        conditions.append(Person.house_id == bindparam("house_id", type_=Uuid()))
    if shape.q:
        conditions.append(_search())
    return conditions


@cache
def _filtered(shape: _Shape) -> AnySelect:
    return _SELECT.where(*_conditions(shape))


def _grid_walk(shape: _Shape, *, following: bool) -> Prepared:
    """A page of the list, grid by grid in code order: the grids of the jurisdiction (and
    unit) from the cursor's code on, and for each, in a lateral subquery, its people by id.
    The lateral join makes each grid's people an index probe whatever the planner thinks
    of the scope's selectivity (it cannot estimate `path <@ $1`, takes it for a handful
    of rows, and would otherwise gather and sort every person of a district of millions
    for a page of fifty, at any depth). Where a person is, is their grid's path: the
    scope and the unit are tested on the grids, and a path test on the people — which the
    planner would serve from the path index, scanning the whole scope for every grid — is
    left to row-level security, whose test no index serves."""
    grids = select(OrgUnit.id, OrgUnit.code).where(
        OrgUnit.level == "grid", in_scope_param(OrgUnit.path, everything=shape.everything)
    )
    if shape.unit:
        grids = grids.where(within_path(OrgUnit.path, _UNIT_PATH))
    if following:
        grids = grids.where(OrgUnit.code >= AFTER_SORT)
    grid = grids.subquery("g")
    people_of = select(*_PERSON).where(Person.grid_id == grid.c.id, *_attributes(shape))
    if following:
        people_of = people_of.where(or_(grid.c.code > AFTER_SORT, Person.id > AFTER_ID))
    person = people_of.order_by(Person.id).limit(LIMIT).lateral("p")
    return Prepared(
        select(*person.c, grid.c.code, _HOUSE_ADDRESS)
        .select_from(grid.join(person, true()).outerjoin(House, House.id == person.c.house_id))
        .order_by(grid.c.code, person.c.id)
        .limit(LIMIT)
    )


@cache
def _pages(shape: _Shape) -> Keyset:
    """A search or a house's people are a few rows, found by their own indexes and sorted;
    any other list is walked grid by grid, and its total is the sum of its people's counts
    (a district's first page would otherwise count its millions one by one)."""
    key = (OrgUnit.code, Person.id)
    if shape.q or shape.house:
        return Keyset.of(_filtered(shape), key)
    total = func.coalesce(func.sum(PersonCount.n), 0).cast(BigInteger)
    return Keyset(
        key,
        total=Prepared(select(total).where(*_placed(shape, PersonCount))),
        first=_grid_walk(shape, following=False),
        following=_grid_walk(shape, following=True),
    )


async def _query(ctx: Ctx, filters: PersonFilters) -> tuple[_Shape, dict[str, Any]]:
    """The shape of the filtered list and the values it binds; `unit_id` may be any unit of
    the jurisdiction (404 otherwise): the people of its subtree."""
    params = scope_params(ctx.principal)
    if filters.unit_id is not None:
        params["unit_path"] = await unit_path(ctx, filters.unit_id)
    if filters.kind is not None:
        params["kind"] = filters.kind.value
    if filters.status is not None:
        params["status"] = filters.status.value
    if filters.house_id is not None:
        params["house_id"] = filters.house_id
    if filters.q:
        params.update(_search_params(filters.q))
    shape = _Shape(
        everything=ctx.principal.sees_everything,
        unit=filters.unit_id is not None,
        kind=filters.kind is not None,
        status=filters.status is not None,
        house=filters.house_id is not None,
        q=bool(filters.q),
    )
    return shape, params


async def people_query(ctx: Ctx, filters: PersonFilters) -> AnySelect:
    """People in jurisdiction matching the filters, as a statement (the list's export)."""
    shape, params = await _query(ctx, filters)
    return _filtered(shape).params(params)


async def list_people(
    ctx: Ctx, filters: PersonFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of people, masked for the caller. Cursors carry the sort key in clear
    and names are personal data (R-JUR-3), so the list runs grid by grid, not by name."""
    shape, params = await _query(ctx, filters)
    page = await _pages(shape).page(ctx.session, params, limit=limit, cursor=cursor, convert=_named)
    items = await present(ctx, page.items, PERSON_MASKS, target_type=TARGET)
    return Page(items=items, next_cursor=page.next_cursor, total=page.total)


def export_row(row: Any) -> dict[str, Any]:
    """A spreadsheet row: labels instead of codes, each detail in a column of its own."""
    data = _row(row)
    details = data.pop("details")
    data["kind"] = KIND_LABELS[Kind(data["kind"])]
    data["gender"] = GENDER_LABELS[Gender(data["gender"])] if data["gender"] else None
    return {**data, **details}


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _snapshot(person: Person) -> dict[str, Any]:
    return {name: _jsonable(getattr(person, name)) for name in _AUDITED}


async def _house_location(ctx: Ctx, house_id: uuid.UUID) -> Any:
    """The location of an active house in jurisdiction (R-POP-5)."""
    house = (
        await ctx.session.execute(
            select(House.location, House.status).where(
                House.id == house_id, in_scope(House.path, ctx.principal)
            )
        )
    ).one_or_none()
    if house is None:
        raise NotFound("house_not_found", errors=[FieldError("house_id", "house_not_found")])
    if house.status != Status.ACTIVE:
        raise Invalid("house_inactive", errors=[FieldError("house_id", "house_inactive")])
    return house.location


async def _apply(ctx: Ctx, person: Person, changes: Mapping[str, Any]) -> None:
    """Check the person as they will be after `changes` — details of their kind,
    dictionaries, identity (R-POP-2), residence (R-POP-5) — then write it onto them."""
    kind = Kind(person.kind)
    details = validate_details(kind, {**person.details, **changes.get("details", {})})
    if errors := dictionary_errors(changes):
        raise Invalid("validation_failed", errors=errors)
    resident = kind != Kind.OVERSEAS
    identity = establish_identity(
        kind,
        # An overseas identity comes from the details; a resident ID stays unless replaced.
        id_number=changes.get("id_number") or (person.id_number if resident else None),
        details=details,
        # Values sent are checked against a resident ID; values not sent are derived from it.
        birth_date=changes.get("birth_date", None if resident else person.birth_date),
        gender=changes.get(
            "gender", None if resident or person.gender is None else Gender(person.gender)
        ),
        today=ctx.today(),
    )
    house_id = changes.get("house_id", person.house_id)
    no_house_reason = changes.get("no_house_reason", person.no_house_reason)
    # Naming one side of the residence (a house, or a reason for having none) drops the other.
    if house_id and "house_id" in changes and "no_house_reason" not in changes:
        no_house_reason = None
    if no_house_reason and "no_house_reason" in changes and "house_id" not in changes:
        house_id = None
    check_residence(has_house=house_id is not None, no_house_reason=no_house_reason)
    if house_id is None:
        person.location = None
    elif house_id != person.house_id:
        person.location = await _house_location(ctx, house_id)

    for name in PLAIN_FIELDS:
        if name in changes:
            setattr(person, name, changes[name])
    person.id_number = identity.id_number
    person.birth_date = identity.birth_date
    person.gender = identity.gender
    person.details = details
    person.house_id = house_id
    person.no_house_reason = no_house_reason


async def create_person(
    ctx: Ctx, *, grid_id: uuid.UUID, kind: Kind, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Register a person in a grid; a second active record of the same identity in the grid,
    of any kind, is a 409 `duplicate_active_record` (R-POP-1)."""
    grid = await grid_for_record(ctx, grid_id)
    person = Person(grid_id=grid.id, kind=kind, details={})
    await _apply(ctx, person, values)
    stamp_new(ctx, person, grid.path)
    ctx.session.add(person)
    await flush_unique(ctx.session, id_number=person.id_number)
    await audit_change(
        ctx,
        person,
        action="person.create",
        target_type=TARGET,
        before=None,
        after=_snapshot(person),
        bump=False,
    )
    return await get_person(ctx, person.id)


async def _lock_active(ctx: Ctx, person_id: uuid.UUID, expected_version: int | None) -> Person:
    person = await lock_record(ctx, Person, person_id, not_found="person_not_found")
    check_version(expected_version, person.version)
    if person.status != Status.ACTIVE:
        raise Conflict("record_deregistered")
    return person


async def update_person(
    ctx: Ctx, person_id: uuid.UUID, changes: Mapping[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change an active person's fields (details merge into the current ones; a detail set
    to null is removed); the audit entry names what changed."""
    person = await _lock_active(ctx, person_id, expected_version)
    before = _snapshot(person)
    await _apply(ctx, person, changes)
    await flush_unique(ctx.session, id_number=person.id_number)
    after = _snapshot(person)
    changed = [name for name in _AUDITED if before[name] != after[name]]
    await audit_change(
        ctx,
        person,
        action="person.update",
        target_type=TARGET,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    return await get_person(ctx, person.id)


async def deregister_person(
    ctx: Ctx, person_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Deregister (注销) with a reason; the person leaves their household and family."""
    await change_status(
        ctx,
        Person,
        person_id,
        target_type=TARGET,
        from_status=Status.ACTIVE,
        to_status=Status.DEREGISTERED,
        reason=reason,
        expected_version=expected_version,
        not_found="person_not_found",
    )
    await households.detach_person(ctx, person_id, reason=reason)
    return await get_person(ctx, person_id)


async def restore_person(
    ctx: Ctx, person_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """Restore (恢复) a deregistered person, unless another active record of the same
    identity now exists in the grid (409 `duplicate_active_record`, decided by the index)."""
    await reactivate(
        ctx,
        Person,
        person_id,
        unique_index=DUPLICATE_INDEX,
        field="id_number",
        target_type=TARGET,
        from_status=Status.DEREGISTERED,
        to_status=Status.ACTIVE,
        reason=reason,
        expected_version=expected_version,
        not_found="person_not_found",
    )
    return await get_person(ctx, person_id)


async def settle_person(
    ctx: Ctx,
    person_id: uuid.UUID,
    *,
    settle_date: date | None,
    changes: Mapping[str, Any],
    expected_version: int | None,
) -> dict[str, Any]:
    """R-POP-4 落户: an active unsettled person becomes a new registered record (their fields
    carried over, `changes` applied, `details.settle_date` set) and the unsettled record is
    deregistered with reason 已落户 — in one transaction. Their family passes to the new
    record."""
    today = ctx.today()
    settled_on = settle_date or today
    if settled_on > today:
        raise Invalid("validation_failed", errors=[FieldError("settle_date", "date_in_future")])
    unsettled = await _lock_active(ctx, person_id, expected_version)
    if unsettled.kind != Kind.UNSETTLED:
        raise Conflict("settle_not_unsettled")
    carried = {
        name: getattr(unsettled, name) for name in (*PLAIN_FIELDS, "house_id", "no_house_reason")
    }
    # Deregistered first: the new record takes over the identity in the unique index.
    await change_status(
        ctx,
        Person,
        unsettled.id,
        target_type=TARGET,
        from_status=Status.ACTIVE,
        to_status=Status.DEREGISTERED,
        reason=SETTLED_REASON,
        not_found="person_not_found",
    )
    registered = Person(grid_id=unsettled.grid_id, kind=Kind.REGISTERED, details={})
    await _apply(
        ctx,
        registered,
        {
            **carried,
            "id_number": unsettled.id_number,
            "details": {"settle_date": settled_on},
            **changes,
        },
    )
    stamp_new(ctx, registered, unsettled.path)
    ctx.session.add(registered)
    await flush_unique(ctx.session, id_number=registered.id_number)
    await audit_change(
        ctx,
        registered,
        action="person.settle",
        target_type=TARGET,
        before=None,
        after={**_snapshot(registered), "settled_from": str(unsettled.id)},
        bump=False,
    )
    await households.transfer_memberships(ctx, unsettled.id, registered.id)
    return await get_person(ctx, registered.id)


async def reveal_person(ctx: Ctx, person_id: uuid.UUID, *, reason: str) -> dict[str, Any]:
    """One person unmasked for a holder of pii:reveal, the reason audited (R-JUR-3)."""
    person = await _fetch(ctx, person_id)
    return await reveal(ctx, person, target_type=TARGET, unit_path=person["path"], reason=reason)


async def person_history(ctx: Ctx, person_id: uuid.UUID) -> list[dict[str, Any]]:
    """The person's deregistrations and restorations with reason and time, oldest first."""
    await _fetch(ctx, person_id)
    return await status_history(ctx, TARGET, person_id)
