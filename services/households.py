"""Households (户籍家庭, R-HH-1) and families (广义家庭, R-HH-2): one implementation for both.

A group is kept in a grid like every registry record. Its members are active persons of the
same grid — registered persons only for a household, any kind for a family — and a person
is in one group of a kind at most: the link table is keyed by the person, so the database
has the last word (409 `already_in_household` / `already_in_family`). Member changes lock
the person before the group, the same order as a person's deregistration, so concurrent
writers queue instead of deadlocking; the group lock serialises membership, head and the
emptiness check of a deletion.
"""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal, select, update
from sqlalchemy.orm import InstrumentedAttribute, aliased

from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.masking import Mask
from domain.people import PERSON_MASKS, Relation, membership_problem
from domain.registry import Status
from domain.versioning import check_version
from services.constraints import flush_unique
from services.context import Ctx
from services.jurisdiction import in_scope, within_path
from services.masking import MaskSpec, present, present_one
from services.models import Family, FamilyMember, Household, HouseholdMember, Person
from services.pagination import AnySelect, Page, paginate
from services.registry import (
    audit_change,
    change_status,
    grid_for_record,
    lock_record,
    stamp_new,
    unit_path,
)

GROUP_MASKS: MaskSpec = {"address": Mask.ADDRESS, "head_name": Mask.NAME}


@dataclass(frozen=True)
class GroupKind:
    """What tells households and families apart."""

    target_type: str
    model: type[Household] | type[Family]
    member: type[HouseholdMember] | type[FamilyMember]
    # The API's and the unique index's name for the group's number.
    number_field: str
    registered_only: bool
    not_found: str
    not_empty: str


HOUSEHOLDS = GroupKind(
    target_type="household",
    model=Household,
    member=HouseholdMember,
    number_field="household_no",
    registered_only=True,
    not_found="household_not_found",
    not_empty="household_not_empty",
)
FAMILIES = GroupKind(
    target_type="family",
    model=Family,
    member=FamilyMember,
    number_field="family_no",
    registered_only=False,
    not_found="family_not_found",
    not_empty="family_not_empty",
)
KINDS = (HOUSEHOLDS, FAMILIES)


async def within_unit(
    ctx: Ctx, path: InstrumentedAttribute[str], unit_id: uuid.UUID
) -> ColumnElement[bool]:
    """Rows whose path lies in the subtree of a unit of the caller's jurisdiction (any level:
    a grid is a unit too); a unit outside it is unknown (404)."""
    return within_path(path, literal(await unit_path(ctx, unit_id)))


def _select(kind: GroupKind) -> AnySelect:
    group = kind.model
    head = aliased(Person)
    member_count = (
        select(func.count())
        .where(kind.member.group_id == group.id)
        .correlate(group)
        .scalar_subquery()
    )
    return select(
        group.id,
        group.grid_id,
        group.number.label("number"),
        group.head_person_id,
        head.name.label("head_name"),
        group.address,
        member_count.label("member_count"),
        group.status,
        group.status_reason,
        group.status_changed_at,
        group.version,
        group.created_at,
        group.updated_at,
        group.created_by,
        group.path,
    ).outerjoin(head, head.id == group.head_person_id)


@dataclass(frozen=True)
class GroupFilters:
    unit_id: uuid.UUID | None = None
    q: str | None = None
    status: Status | None = None


async def groups_query(ctx: Ctx, kind: GroupKind, filters: GroupFilters) -> AnySelect:
    """Groups in jurisdiction matching the filters (shared by the list and its export); `q`
    matches the number or the address."""
    group = kind.model
    stmt = _select(kind).where(in_scope(group.path, ctx.principal))
    if filters.unit_id is not None:
        stmt = stmt.where(await within_unit(ctx, group.path, filters.unit_id))
    if filters.q:
        stmt = stmt.where(
            group.number.icontains(filters.q, autoescape=True)
            | group.address.icontains(filters.q, autoescape=True)
        )
    if filters.status is not None:
        stmt = stmt.where(group.status == filters.status)
    return stmt


async def list_groups(
    ctx: Ctx, kind: GroupKind, filters: GroupFilters, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of groups ordered by number, masked for the caller (R-JUR-3)."""
    page = await paginate(
        ctx.session,
        await groups_query(ctx, kind, filters),
        key=(kind.model.number, kind.model.id),
        limit=limit,
        cursor=cursor,
    )
    items = await present(ctx, page.items, GROUP_MASKS, target_type=kind.target_type)
    return Page(items=items, next_cursor=page.next_cursor, total=page.total)


async def get_group(ctx: Ctx, kind: GroupKind, group_id: uuid.UUID) -> dict[str, Any]:
    """One group with its members (head first), both masked for the caller."""
    row = (
        await ctx.session.execute(
            _select(kind).where(kind.model.id == group_id, in_scope(kind.model.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound(kind.not_found)
    group = dict(row._mapping)
    shown = await present_one(
        ctx, group, GROUP_MASKS, target_type=kind.target_type, unit_path=group["path"]
    )
    member = kind.member
    members = await ctx.session.execute(
        select(
            Person.id,
            member.person_id,
            Person.name,
            Person.id_number,
            Person.kind,
            member.relation,
            member.joined_at,
        )
        .join(Person, Person.id == member.person_id)
        .where(member.group_id == group_id)
        .order_by(member.relation != Relation.HEAD, member.joined_at, member.person_id)
    )
    shown["members"] = await present(
        ctx,
        [dict(m._mapping) for m in members],
        PERSON_MASKS,
        target_type="person",
        unit_path=group["path"],
    )
    return shown


def _snapshot(kind: GroupKind, group: Household | Family) -> dict[str, Any]:
    return {
        kind.number_field: group.number,
        "head_person_id": str(group.head_person_id) if group.head_person_id else None,
        "address": group.address,
    }


async def _lock_active(
    ctx: Ctx, kind: GroupKind, group_id: uuid.UUID, expected_version: int | None
) -> Household | Family:
    group = await lock_record(ctx, kind.model, group_id, not_found=kind.not_found)
    check_version(expected_version, group.version)
    if group.status != Status.ACTIVE:
        raise Conflict("record_deregistered")
    return group


async def _member_ids(ctx: Ctx, kind: GroupKind, group_id: uuid.UUID) -> list[uuid.UUID]:
    member = kind.member
    return list(
        await ctx.session.scalars(select(member.person_id).where(member.group_id == group_id))
    )


async def _candidate(ctx: Ctx, kind: GroupKind, person_id: uuid.UUID, grid_id: uuid.UUID) -> Person:
    """The person locked, if they may join a group of this kind in this grid."""
    person = await lock_record(ctx, Person, person_id, not_found="person_not_found")
    problem = membership_problem(
        registered_only=kind.registered_only,
        kind=person.kind,
        status=person.status,
        same_grid=person.grid_id == grid_id,
    )
    if problem:
        raise Invalid(problem, errors=[FieldError("person_id", problem)])
    return person


async def _join(
    ctx: Ctx, kind: GroupKind, group: Household | Family, person_id: uuid.UUID, relation: Relation
) -> None:
    ctx.session.add(
        kind.member(
            group_id=group.id,
            person_id=person_id,
            path=group.path,
            relation=relation,
            joined_at=ctx.now(),
        )
    )
    await flush_unique(ctx.session, person_id=str(person_id))


async def create_group(
    ctx: Ctx,
    kind: GroupKind,
    *,
    grid_id: uuid.UUID,
    number: str,
    head_person_id: uuid.UUID | None,
    address: str | None,
) -> dict[str, Any]:
    """A new group in a grid; a head given becomes its first member."""
    grid = await grid_for_record(ctx, grid_id)
    head = await _candidate(ctx, kind, head_person_id, grid.id) if head_person_id else None
    group = kind.model(grid_id=grid.id, number=number, address=address)
    stamp_new(ctx, group, grid.path)
    ctx.session.add(group)
    await flush_unique(ctx.session, **{kind.number_field: number})
    if head is not None:
        await _join(ctx, kind, group, head.id, Relation.HEAD)
        group.head_person_id = head.id
    await audit_change(
        ctx,
        group,
        action=f"{kind.target_type}.create",
        target_type=kind.target_type,
        before=None,
        after=_snapshot(kind, group),
        bump=False,
    )
    return await get_group(ctx, kind, group.id)


def _no_head_relation(relation: Relation, field: str) -> None:
    # The head's relation follows the head: it is set by naming a head, never by hand.
    if relation == Relation.HEAD:
        raise Invalid(
            "relation_head_reserved", errors=[FieldError(field, "relation_head_reserved")]
        )


async def add_member(
    ctx: Ctx,
    kind: GroupKind,
    group_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    relation: Relation,
    expected_version: int | None,
) -> dict[str, Any]:
    """Add an eligible person (R-HH-1 / R-HH-2) with their relation to the head."""
    _no_head_relation(relation, "relation")
    person = await lock_record(ctx, Person, person_id, not_found="person_not_found")
    group = await _lock_active(ctx, kind, group_id, expected_version)
    await _candidate(ctx, kind, person.id, group.grid_id)
    await _join(ctx, kind, group, person.id, relation)
    await audit_change(
        ctx,
        group,
        action=f"{kind.target_type}.member_add",
        target_type=kind.target_type,
        before=None,
        after={"person_id": str(person.id), "relation": relation.value},
    )
    return await get_group(ctx, kind, group.id)


async def _leave(
    ctx: Ctx,
    kind: GroupKind,
    group: Household | Family,
    person_id: uuid.UUID,
    *,
    reason: str | None,
) -> None:
    """Take a person out of the group and audit it. A head leaves a group with other members
    only when the person is deregistered (`reason` given); otherwise the head changes first."""
    if group.head_person_id == person_id:
        others = set(await _member_ids(ctx, kind, group.id)) - {person_id}
        if others and reason is None:
            raise Conflict("head_must_change_first")
        group.head_person_id = None
    removed = (
        await ctx.session.execute(
            delete(kind.member)
            .where(kind.member.group_id == group.id, kind.member.person_id == person_id)
            .returning(kind.member.relation)
        )
    ).scalar_one_or_none()
    if removed is None:
        raise NotFound("member_not_found", errors=[FieldError("person_id", "member_not_found")])
    await audit_change(
        ctx,
        group,
        action=f"{kind.target_type}.member_remove",
        target_type=kind.target_type,
        before={"person_id": str(person_id), "relation": removed},
        after=None,
        reason=reason,
    )


async def remove_member(
    ctx: Ctx,
    kind: GroupKind,
    group_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    expected_version: int | None,
) -> dict[str, Any]:
    """Remove a member; the head only as the last member (change the head first)."""
    group = await _lock_active(ctx, kind, group_id, expected_version)
    await _leave(ctx, kind, group, person_id, reason=None)
    return await get_group(ctx, kind, group.id)


async def change_head(
    ctx: Ctx,
    kind: GroupKind,
    group_id: uuid.UUID,
    *,
    person_id: uuid.UUID,
    former_head_relation: Relation,
    expected_version: int | None,
) -> dict[str, Any]:
    """Make a member the head; the former head stays a member with the relation given."""
    _no_head_relation(former_head_relation, "former_head_relation")
    group = await _lock_active(ctx, kind, group_id, expected_version)
    if person_id not in await _member_ids(ctx, kind, group.id):
        raise Invalid("head_not_member", errors=[FieldError("person_id", "head_not_member")])
    former = group.head_person_id
    if former == person_id:
        return await get_group(ctx, kind, group.id)
    member = kind.member
    if former is not None:
        await ctx.session.execute(
            update(member)
            .where(member.group_id == group.id, member.person_id == former)
            .values(relation=former_head_relation)
        )
    await ctx.session.execute(
        update(member)
        .where(member.group_id == group.id, member.person_id == person_id)
        .values(relation=Relation.HEAD)
    )
    group.head_person_id = person_id
    await audit_change(
        ctx,
        group,
        action=f"{kind.target_type}.head_change",
        target_type=kind.target_type,
        before={"head_person_id": str(former) if former else None},
        after={"head_person_id": str(person_id)},
    )
    return await get_group(ctx, kind, group.id)


async def renumber(
    ctx: Ctx, kind: GroupKind, group_id: uuid.UUID, *, number: str, expected_version: int | None
) -> dict[str, Any]:
    """Reset the group's number; it stays unique among active groups of the kind."""
    group = await _lock_active(ctx, kind, group_id, expected_version)
    before = group.number
    group.number = number
    await flush_unique(ctx.session, **{kind.number_field: number})
    await audit_change(
        ctx,
        group,
        action=f"{kind.target_type}.renumber",
        target_type=kind.target_type,
        before={kind.number_field: before},
        after={kind.number_field: number},
    )
    return await get_group(ctx, kind, group.id)


async def delete_group(
    ctx: Ctx,
    kind: GroupKind,
    group_id: uuid.UUID,
    *,
    expected_version: int | None,
    reason: str | None,
) -> None:
    """Deregister an empty group (its number becomes free); one with members is refused."""
    group = await _lock_active(ctx, kind, group_id, expected_version)
    if await _member_ids(ctx, kind, group.id):
        raise Conflict(kind.not_empty)
    await change_status(
        ctx,
        kind.model,
        group.id,
        target_type=kind.target_type,
        from_status=Status.ACTIVE,
        to_status=Status.DEREGISTERED,
        reason=reason,
        not_found=kind.not_found,
    )


async def _group_of(ctx: Ctx, kind: GroupKind, person_id: uuid.UUID) -> Household | Family | None:
    group_id = await ctx.session.scalar(
        select(kind.member.group_id).where(kind.member.person_id == person_id)
    )
    if group_id is None:
        return None
    return await lock_record(ctx, kind.model, group_id, not_found=kind.not_found)


async def detach_person(ctx: Ctx, person_id: uuid.UUID, *, reason: str) -> None:
    """A deregistered person leaves their household and family (members are active
    persons); a head leaves the head's place empty."""
    for kind in KINDS:
        group = await _group_of(ctx, kind, person_id)
        if group is not None:
            await _leave(ctx, kind, group, person_id, reason=reason)


async def transfer_memberships(ctx: Ctx, old_id: uuid.UUID, new_id: uuid.UUID) -> None:
    """The groups of a record pass to the record that replaces it (R-POP-4: the settled
    person keeps their family, head included)."""
    for kind in KINDS:
        group = await _group_of(ctx, kind, old_id)
        if group is None:
            continue
        await ctx.session.execute(
            update(kind.member).where(kind.member.person_id == old_id).values(person_id=new_id)
        )
        if group.head_person_id == old_id:
            group.head_person_id = new_id
        await audit_change(
            ctx,
            group,
            action=f"{kind.target_type}.member_transfer",
            target_type=kind.target_type,
            before={"person_id": str(old_id)},
            after={"person_id": str(new_id)},
        )
