"""Routing rules (R-WF-3): maintained by the command centres for their subtree, and applied
when an event arrives at a community (reported), a street or a district (escalated).

A rule is readable by every reporter's request (the table's read policy is open; matching
must see the district's rules whoever reports), writable only inside the writer's
jurisdiction; the API shows a user the rules of the units they manage."""

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import any_, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import FieldError, Invalid, NotFound
from domain.events import Category, check_subtype
from domain.org import LEVEL_ORDER, Level
from domain.principal import within
from domain.routing import Candidate, check_level, choose, normalise_keywords
from domain.versioning import check_version
from services import audit, reference_data
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Department, Event, OrgUnit, RoutingRule
from services.pagination import AnySelect, Page, paginate
from services.registry import unit_for_record

COLUMNS = (
    RoutingRule.id,
    RoutingRule.owner_unit_id,
    RoutingRule.level,
    RoutingRule.category,
    RoutingRule.subtype,
    RoutingRule.keywords,
    RoutingRule.target_unit_id,
    RoutingRule.target_department_id,
    RoutingRule.priority,
    RoutingRule.enabled,
    RoutingRule.note,
    RoutingRule.version,
    RoutingRule.created_at,
    RoutingRule.updated_at,
    RoutingRule.created_by,
)
# What a rule says; the rest of its columns are bookkeeping.
_FIELDS = (
    "owner_unit_id",
    "level",
    "category",
    "subtype",
    "keywords",
    "target_unit_id",
    "target_department_id",
    "priority",
    "enabled",
    "note",
)


@dataclass(frozen=True)
class Route:
    """Where a rule sends an arriving event."""

    rule_id: uuid.UUID
    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    path: str


@dataclass(frozen=True)
class RuleFilter:
    owner_unit_id: uuid.UUID | None = None
    category: Category | None = None
    level: Level | None = None
    enabled: bool | None = None
    q: str | None = None


def _invalid(field: str, code: str) -> Invalid:
    return Invalid("routing_rule_invalid", errors=[FieldError(field, code)])


async def _owner(ctx: Ctx, owner_unit_id: uuid.UUID, level: Level) -> OrgUnit:
    """The owning unit: in the caller's jurisdiction (404 otherwise, R-JUR-1) and at or
    above the rule's level."""
    owner = await unit_for_record(ctx, owner_unit_id, "owner_unit_id")
    if LEVEL_ORDER.index(Level(owner.level)) > LEVEL_ORDER.index(level):
        raise _invalid("level", "routing_level_below_owner")
    return owner


async def _target_path(ctx: Ctx, values: dict[str, Any], owner: OrgUnit) -> str:
    """The target's path; exactly one target, inside the owner's subtree (a street cannot
    send its events to the district's departments over the district's head)."""
    unit_id, department_id = values.get("target_unit_id"), values.get("target_department_id")
    if (unit_id is None) == (department_id is None):
        raise _invalid("target_unit_id", "event_target_required")
    if unit_id is not None:
        path = await ctx.session.scalar(
            select(OrgUnit.path).where(OrgUnit.id == unit_id, OrgUnit.deleted_at.is_(None))
        )
        field = "target_unit_id"
    else:
        path = await ctx.session.scalar(
            select(Department.path).where(
                Department.id == department_id, Department.deleted_at.is_(None)
            )
        )
        field = "target_department_id"
    if path is None or not within(path, owner.path):
        raise _invalid(field, "event_target_invalid")
    return str(path)


async def _validated(ctx: Ctx, values: dict[str, Any]) -> tuple[dict[str, Any], OrgUnit, str]:
    level = check_level(values["level"])
    category = Category(values["category"])
    if values.get("subtype") is not None:
        check_subtype(category, values["subtype"])
    values = {**values, "keywords": normalise_keywords(values.get("keywords"))}
    owner = await _owner(ctx, values["owner_unit_id"], level)
    return values, owner, await _target_path(ctx, values, owner)


def _snapshot(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: str(value) if isinstance(value, uuid.UUID) else value
        for key, value in values.items()
        if key in _FIELDS
    }


async def create_rule(ctx: Ctx, fields: dict[str, Any]) -> dict[str, Any]:
    """A new rule, validated: level where events arrive (not below its owner), sub-type of
    the category, keywords, one target inside the owner's subtree. Audited."""
    values, owner, target_path = await _validated(ctx, fields)
    now = ctx.now()
    rule = RoutingRule(
        **{key: values.get(key) for key in _FIELDS if values.get(key) is not None},
        owner_path=owner.path,
        target_path=target_path,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(rule)
    await ctx.session.flush()
    reference_data.changed(ctx.session, reference_data.ROUTING)
    await audit.record(
        ctx,
        action="routing_rule.create",
        target_type="routing_rule",
        target_id=rule.id,
        unit_path=owner.path,
        after=_snapshot(values),
    )
    return await get_rule(ctx, rule.id)


def _managed(ctx: Ctx) -> Any:
    return in_scope(RoutingRule.owner_path, ctx.principal)


async def get_rule(ctx: Ctx, rule_id: uuid.UUID) -> dict[str, Any]:
    """A rule of a unit the caller manages; 404 otherwise."""
    row = (
        await ctx.session.execute(select(*COLUMNS).where(RoutingRule.id == rule_id, _managed(ctx)))
    ).one_or_none()
    if row is None:
        raise NotFound("routing_rule_not_found")
    return dict(row._mapping)


def rules_query(ctx: Ctx, flt: RuleFilter) -> AnySelect:
    """Rules of the units the caller manages, filtered (the list and its export)."""
    stmt = select(*COLUMNS).where(_managed(ctx))
    if flt.owner_unit_id is not None:
        stmt = stmt.where(RoutingRule.owner_unit_id == flt.owner_unit_id)
    if flt.category is not None:
        stmt = stmt.where(RoutingRule.category == flt.category.value)
    if flt.level is not None:
        stmt = stmt.where(RoutingRule.level == flt.level.value)
    if flt.enabled is not None:
        stmt = stmt.where(RoutingRule.enabled.is_(flt.enabled))
    if flt.q:
        word = flt.q.strip().lower()
        stmt = stmt.where(
            RoutingRule.note.icontains(flt.q, autoescape=True)
            | (literal(word) == any_(RoutingRule.keywords))
            | (RoutingRule.subtype == word)
        )
    return stmt


async def list_rules(
    ctx: Ctx, flt: RuleFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    return await paginate(
        ctx.session,
        rules_query(ctx, flt),
        key=(RoutingRule.category, RoutingRule.id),
        limit=limit,
        cursor=cursor,
    )


async def _lock(ctx: Ctx, rule_id: uuid.UUID) -> RoutingRule:
    rule = (
        await ctx.session.execute(
            select(RoutingRule).where(RoutingRule.id == rule_id, _managed(ctx)).with_for_update()
        )
    ).scalar_one_or_none()
    if rule is None:
        raise NotFound("routing_rule_not_found")
    return rule


async def update_rule(
    ctx: Ctx, rule_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change a rule (the whole rule is validated again); If-Match guards lost updates."""
    rule = await _lock(ctx, rule_id)
    check_version(expected_version, rule.version)
    before = _snapshot({key: getattr(rule, key) for key in _FIELDS})
    merged = {**{key: getattr(rule, key) for key in _FIELDS}, **changes}
    if "target_unit_id" in changes or "target_department_id" in changes:
        # Naming a new target replaces the old one, of either kind.
        merged["target_unit_id"] = changes.get("target_unit_id")
        merged["target_department_id"] = changes.get("target_department_id")
    values, owner, target_path = await _validated(ctx, merged)
    for key in _FIELDS:
        setattr(rule, key, values.get(key))
    rule.owner_path, rule.target_path = owner.path, target_path
    rule.version += 1
    rule.updated_at = ctx.now()
    await ctx.session.flush()
    reference_data.changed(ctx.session, reference_data.ROUTING)
    await audit.record(
        ctx,
        action="routing_rule.update",
        target_type="routing_rule",
        target_id=rule.id,
        unit_path=owner.path,
        before=before,
        after=_snapshot(values),
    )
    return await get_rule(ctx, rule.id)


async def delete_rule(ctx: Ctx, rule_id: uuid.UUID, *, expected_version: int | None) -> None:
    """Remove a rule; steps it routed keep their history (their reference is cleared)."""
    rule = await _lock(ctx, rule_id)
    check_version(expected_version, rule.version)
    before = _snapshot({key: getattr(rule, key) for key in _FIELDS})
    await ctx.session.delete(rule)
    await ctx.session.flush()
    reference_data.changed(ctx.session, reference_data.ROUTING)
    await audit.record(
        ctx,
        action="routing_rule.delete",
        target_type="routing_rule",
        target_id=rule_id,
        unit_path=rule.owner_path,
        before=before,
    )


@dataclass(frozen=True)
class _Enabled:
    """An enabled rule as the process holds it."""

    candidate: Candidate
    owner_path: str
    route: Route


_ENABLED = text("""
SELECT id, owner_path::text AS owner_path, level, category, subtype, keywords, priority,
       created_at, target_unit_id, target_department_id, target_path::text AS target_path
FROM routing_rules
WHERE enabled
""")


async def _load(session: AsyncSession) -> dict[tuple[str, str], list[_Enabled]]:
    """The enabled rules by category and arrival level (every reporter's request may read
    every rule: the table's read policy is open)."""
    book: dict[tuple[str, str], list[_Enabled]] = {}
    for row in await session.execute(_ENABLED):
        candidate = Candidate(
            id=row.id,
            owner_depth=row.owner_path.count(".") + 1,
            subtype=row.subtype,
            keywords=tuple(row.keywords) if row.keywords else None,
            priority=row.priority,
            created_at=row.created_at,
        )
        route = Route(row.id, row.target_unit_id, row.target_department_id, row.target_path)
        book.setdefault((row.category, row.level), []).append(
            _Enabled(candidate, row.owner_path, route)
        )
    return book


# Every report and escalation is routed; rules change now and then: held per process.
_HELD = reference_data.Held(reference_data.ROUTING, _load)


async def route(ctx: Ctx, event: Event, arrival: OrgUnit) -> Route | None:
    """Where the rules send `event` as it arrives at `arrival`, or None (manual dispatch):
    the enabled rules for the arrival unit's level, owned by it or a unit above it, whose
    target covers the event's grid (so the target's users see the event)."""
    if arrival.level not in {Level.COMMUNITY, Level.STREET, Level.DISTRICT}:
        return None
    rules = (await _HELD.get(ctx.session)).get((event.category, arrival.level), [])
    applicable = {
        rule.candidate.id: rule
        for rule in rules
        if within(arrival.path, rule.owner_path) and within(event.path, rule.route.path)
    }
    chosen = choose(
        [rule.candidate for rule in applicable.values()],
        subtype=event.subtype,
        title=event.title,
        description=event.description,
    )
    return None if chosen is None else applicable[chosen.id].route
