"""Service teams (服务团队, R-TEAM-1): teams of eight categories at any level, their members
(a person record, or a name and phone) holding posts, and service records given by members
of one team to business persons of one kind. Dissolving a team deregisters it and detaches
its members; its members and records stay readable."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_

from domain.errors import BadRequest, Conflict, FieldError, Invalid, NotFound
from domain.masking import Mask
from domain.places import (
    ServedPerson,
    ServingMember,
    TeamCategory,
    check_service_record,
    check_team,
)
from domain.registry import Status
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Person, PersonTag, ServiceRecord, Team, TeamMember
from services.pagination import AnySelect, Page, decode_cursor, encode_cursor
from services.places import (
    Registry,
    held_by,
    holder_of,
    holds,
    in_unit,
    name_matches,
    plain,
)
from services.registry import change_status, lock_record, unit_for_record

TEAMS: Registry[Team] = Registry(
    model=Team,
    target_type="team",
    not_found="team_not_found",
    columns=(
        Team.id,
        holder_of(Team),
        Team.grid_id,
        Team.path,
        Team.name,
        Team.category,
        Team.subcategory,
        Team.leader,
        Team.phone,
        Team.description,
        Team.established_on,
        Team.status,
        Team.status_reason,
        Team.status_changed_at,
        Team.version,
        Team.created_at,
        Team.updated_at,
        Team.created_by,
    ),
    sort=Team.name,
    mask={"phone": Mask.PHONE},
    geo=(),
)

MEMBERS: Registry[TeamMember] = Registry(
    model=TeamMember,
    target_type="team_member",
    not_found="team_member_not_found",
    columns=(
        TeamMember.id,
        TeamMember.team_id,
        TeamMember.path,
        TeamMember.person_id,
        TeamMember.name,
        TeamMember.phone,
        TeamMember.posts,
        TeamMember.joined_on,
        TeamMember.status,
        TeamMember.status_reason,
        TeamMember.status_changed_at,
        TeamMember.version,
        TeamMember.created_at,
        TeamMember.updated_at,
        TeamMember.created_by,
    ),
    sort=TeamMember.name,
    mask={"phone": Mask.PHONE},
    geo=(),
)


# --- teams ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamFilter:
    unit_id: uuid.UUID | None = None
    category: TeamCategory | None = None
    subcategory: str | None = None
    status: Status | None = None
    q: str | None = None


def teams_query(ctx: Ctx, f: TeamFilter) -> AnySelect:
    """Teams in jurisdiction matching the filters (the list and its export)."""
    stmt = TEAMS.query(ctx)
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(Team.path, f.unit_id))
    if f.category is not None:
        stmt = stmt.where(Team.category == f.category.value)
    if f.subcategory is not None:
        stmt = stmt.where(Team.subcategory == f.subcategory)
    if f.status is not None:
        stmt = stmt.where(Team.status == f.status.value)
    if f.q:
        stmt = stmt.where(name_matches(Team.name, f.q) | name_matches(Team.leader, f.q))
    return stmt


async def list_teams(
    ctx: Ctx, f: TeamFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of teams by name, masked for the caller."""
    return await TEAMS.page(ctx, teams_query(ctx, f), limit=limit, cursor=cursor)


async def create_team(
    ctx: Ctx, *, unit_id: uuid.UUID, category: TeamCategory, values: dict[str, Any]
) -> dict[str, Any]:
    """A team at any level of the caller's jurisdiction (任何层级都可以增加本级的服务团队)."""
    unit = await unit_for_record(ctx, unit_id)
    check_team(category, values.get("subcategory"))
    team = Team(category=category.value, **held_by(unit), **values)
    return await TEAMS.create(ctx, team, path=unit.path)


def _check_team(team: Team) -> None:
    check_team(TeamCategory(team.category), team.subcategory)


async def update_team(
    ctx: Ctx, team_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the given fields; the sub-category stays in its category's dictionary."""
    return await TEAMS.update(
        ctx, team_id, changes, expected_version=expected_version, check=_check_team
    )


async def dissolve_team(
    ctx: Ctx, team_id: uuid.UUID, *, reason: str, expected_version: int | None
) -> dict[str, Any]:
    """Deregister the team and detach its members (each membership deregistered with the
    reason, history kept); members and service records stay readable (R-TEAM-1)."""
    dissolved = await TEAMS.deregister(
        ctx, team_id, reason=reason, expected_version=expected_version
    )
    members = (
        await ctx.session.scalars(
            select(TeamMember.id)
            .where(TeamMember.team_id == team_id, TeamMember.status == Status.ACTIVE.value)
            .order_by(TeamMember.id)
        )
    ).all()
    for member_id in members:
        await change_status(
            ctx,
            TeamMember,
            member_id,
            target_type="team_member",
            from_status=Status.ACTIVE,
            to_status=Status.DEREGISTERED,
            reason=f"团队解散：{reason}",
            not_found="team_member_not_found",
        )
    return dissolved


async def _active_team(ctx: Ctx, team_id: uuid.UUID) -> Team:
    """The team locked against a concurrent dissolution; a dissolved team is a 409."""
    team = await lock_record(ctx, Team, team_id, not_found="team_not_found")
    if team.status != Status.ACTIVE:
        raise Conflict("team_dissolved")
    return team


# --- members --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberFilter:
    status: Status | None = None
    post: str | None = None
    q: str | None = None


def members_query(ctx: Ctx, team_id: uuid.UUID, f: MemberFilter) -> AnySelect:
    """A team's members matching the filters (the list and its export)."""
    stmt = MEMBERS.query(ctx).where(TeamMember.team_id == team_id)
    if f.status is not None:
        stmt = stmt.where(TeamMember.status == f.status.value)
    if f.post is not None:
        stmt = stmt.where(holds(TeamMember.posts, f.post))
    if f.q:
        stmt = stmt.where(name_matches(TeamMember.name, f.q))
    return stmt


async def list_members(
    ctx: Ctx, team_id: uuid.UUID, f: MemberFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The team's members, past ones included (a dissolved team's stay readable)."""
    await TEAMS.ensure_visible(ctx, team_id)
    return await MEMBERS.page(ctx, members_query(ctx, team_id, f), limit=limit, cursor=cursor)


async def add_member(
    ctx: Ctx,
    team_id: uuid.UUID,
    *,
    person_id: uuid.UUID | None,
    name: str | None,
    phone: str | None,
    posts: list[str],
    joined_on: date | None,
) -> dict[str, Any]:
    """A member of the team holding one or more posts: an actual person (name and phone
    default to the person's) or a name and phone. A person is an active member of a team
    once; the same person may serve in several teams."""
    team = await _active_team(ctx, team_id)
    if person_id is not None:
        person = (
            await ctx.session.execute(
                select(Person.name, Person.phone).where(
                    Person.id == person_id,
                    Person.status == Status.ACTIVE.value,
                    in_scope(Person.path, ctx.principal),
                )
            )
        ).one_or_none()
        if person is None:
            raise NotFound("person_not_found", errors=[FieldError("person_id", "person_not_found")])
        name = name or person.name
        phone = phone or person.phone
    if not name:
        raise Invalid(
            "member_identity_required", errors=[FieldError("name", "member_identity_required")]
        )
    member = TeamMember(
        team_id=team.id,
        person_id=person_id,
        name=name,
        phone=phone,
        posts=posts,
        joined_on=joined_on,
    )
    return await MEMBERS.create(
        ctx, member, path=team.path, unique={"person_id": str(person_id or "")}
    )


async def update_member(
    ctx: Ctx, member_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change a member's name, phone, posts or joining date."""
    return await MEMBERS.update(ctx, member_id, changes, expected_version=expected_version)


async def restore_member(
    ctx: Ctx, member_id: uuid.UUID, *, reason: str | None, expected_version: int | None
) -> dict[str, Any]:
    """Back in the team, which must be active (409 once dissolved)."""
    member = await MEMBERS.fetch(ctx, member_id)
    await _active_team(ctx, member["team_id"])
    return await MEMBERS.restore(ctx, member_id, reason=reason, expected_version=expected_version)


async def delete_member(
    ctx: Ctx, member_id: uuid.UUID, *, expected_version: int | None, reason: str | None
) -> None:
    """Delete a member who is on no service record; one who is must be deregistered (409).
    The member row is locked first, so a record being written for them either commits
    before (and is seen here) or waits and then finds the member gone."""
    member = await lock_record(ctx, TeamMember, member_id, not_found="team_member_not_found")
    check_version(expected_version, member.version)
    on_records = await ctx.session.scalar(
        select(ServiceRecord.id).where(holds(ServiceRecord.member_ids, member.id)).limit(1)
    )
    if on_records is not None:
        raise Conflict("member_has_records")
    before = {
        "team_id": str(member.team_id),
        "person_id": plain(member.person_id),
        "name": member.name,
        "posts": member.posts,
        "status": member.status,
    }
    await ctx.session.execute(delete(TeamMember).where(TeamMember.id == member.id))
    await audit.record(
        ctx,
        action="team_member.delete",
        target_type="team_member",
        target_id=member.id,
        unit_path=member.path,
        before=before,
        reason=reason,
    )


# --- service records ------------------------------------------------------------------------

RECORD_COLUMNS = (
    ServiceRecord.id,
    ServiceRecord.team_id,
    Team.name.label("team_name"),
    ServiceRecord.path,
    ServiceRecord.business_kind,
    ServiceRecord.member_ids,
    ServiceRecord.tag_ids,
    func.cardinality(ServiceRecord.member_ids).label("member_count"),
    func.cardinality(ServiceRecord.tag_ids).label("tag_count"),
    ServiceRecord.served_at,
    ServiceRecord.title,
    ServiceRecord.content,
    ServiceRecord.created_at,
    ServiceRecord.created_by,
)


# Newest first; the keyset of the list follows it.
RECORD_ORDER = (ServiceRecord.served_at.desc(), ServiceRecord.id.desc())


@dataclass(frozen=True)
class RecordFilter:
    unit_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    member_id: uuid.UUID | None = None
    tag_id: uuid.UUID | None = None
    business_kind: str | None = None
    served_from: datetime | None = None
    served_to: datetime | None = None
    q: str | None = None


def records_query(ctx: Ctx, f: RecordFilter) -> AnySelect:
    """Service records in jurisdiction matching the filters (the list and its export)."""
    stmt = (
        select(*RECORD_COLUMNS)
        .join(Team, Team.id == ServiceRecord.team_id)
        .where(in_scope(ServiceRecord.path, ctx.principal))
    )
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(ServiceRecord.path, f.unit_id))
    if f.team_id is not None:
        stmt = stmt.where(ServiceRecord.team_id == f.team_id)
    if f.member_id is not None:
        stmt = stmt.where(holds(ServiceRecord.member_ids, f.member_id))
    if f.tag_id is not None:
        stmt = stmt.where(holds(ServiceRecord.tag_ids, f.tag_id))
    if f.business_kind is not None:
        stmt = stmt.where(ServiceRecord.business_kind == f.business_kind)
    if f.served_from is not None:
        stmt = stmt.where(ServiceRecord.served_at >= f.served_from)
    if f.served_to is not None:
        stmt = stmt.where(ServiceRecord.served_at < f.served_to)
    if f.q:
        stmt = stmt.where(
            name_matches(ServiceRecord.title, f.q) | name_matches(ServiceRecord.content, f.q)
        )
    return stmt


async def list_records(
    ctx: Ctx, f: RecordFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """Newest first, keyset-paginated over (served_at, id) descending."""
    stmt = records_query(ctx, f)
    total = await ctx.session.scalar(select(func.count()).select_from(stmt.subquery()))
    if cursor:
        served_at, last_id = decode_cursor(cursor, 2)
        try:
            key = (datetime.fromisoformat(str(served_at)), uuid.UUID(str(last_id)))
        except ValueError as exc:
            raise BadRequest("cursor_invalid") from exc
        stmt = stmt.where(tuple_(ServiceRecord.served_at, ServiceRecord.id) < tuple_(*key))
    rows = (await ctx.session.execute(stmt.order_by(*RECORD_ORDER).limit(limit + 1))).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last["served_at"].isoformat(), str(last["id"])])
    return Page(items=items, next_cursor=next_cursor, total=int(total or 0))


async def get_record(ctx: Ctx, record_id: uuid.UUID) -> dict[str, Any]:
    """One service record in jurisdiction; 404 otherwise."""
    row = (
        await ctx.session.execute(
            records_query(ctx, RecordFilter()).where(ServiceRecord.id == record_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("service_record_not_found")
    return dict(row._mapping)


def _missing(wanted: list[uuid.UUID], found: set[uuid.UUID], field: str, code: str) -> None:
    if set(wanted) - found:
        raise NotFound(code, errors=[FieldError(field, code)])


async def create_record(
    ctx: Ctx,
    *,
    team_id: uuid.UUID,
    member_ids: list[uuid.UUID],
    tag_ids: list[uuid.UUID],
    served_at: datetime,
    title: str,
    content: str | None,
) -> dict[str, Any]:
    """A service given by active members of the team to business persons of one kind
    (R-TEAM-1); the members are share-locked so none is deleted or deregistered meanwhile."""
    team = await _active_team(ctx, team_id)
    members = (
        await ctx.session.execute(
            select(TeamMember.id, TeamMember.team_id, TeamMember.status)
            .where(TeamMember.id.in_(member_ids), in_scope(TeamMember.path, ctx.principal))
            .with_for_update(read=True)
        )
    ).all()
    _missing(member_ids, {m.id for m in members}, "member_ids", "team_member_not_found")
    tags = (
        await ctx.session.execute(
            select(PersonTag.id, PersonTag.kind).where(
                PersonTag.id.in_(tag_ids), in_scope(PersonTag.path, ctx.principal)
            )
        )
    ).all()
    _missing(tag_ids, {t.id for t in tags}, "tag_ids", "tag_not_found")
    kind = check_service_record(
        team.id,
        [ServingMember(m.id, m.team_id, m.status == Status.ACTIVE) for m in members],
        [ServedPerson(t.id, t.kind) for t in tags],
    )
    record = ServiceRecord(
        team_id=team.id,
        path=team.path,
        business_kind=kind,
        member_ids=list(dict.fromkeys(member_ids)),
        tag_ids=list(dict.fromkeys(tag_ids)),
        served_at=served_at,
        title=title,
        content=content,
        created_at=ctx.now(),
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(record)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="service_record.create",
        target_type="service_record",
        target_id=record.id,
        unit_path=record.path,
        after={
            "team_id": str(team.id),
            "business_kind": kind,
            "member_ids": plain(record.member_ids),
            "tag_ids": plain(record.tag_ids),
            "served_at": served_at.isoformat(),
            "title": title,
        },
    )
    return await get_record(ctx, record.id)
