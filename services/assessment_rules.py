"""Assessment rule sets (考核细则, R-ASM-1): one year's items for one assessed kind, owned by
the unit that assesses; drafted, enabled (one per owner, year and kind), archived; a new
year copies last year's. Pricing a signal for a unit goes through the database's
`assessment_item()` (migration 0021), so the supervision sweep, manual cards, the accrual
and the reviews all read the same rules."""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from domain.assessment import DEFAULT_ITEMS, Item, Kind, Signal, check_items, defaults_document
from domain.errors import Conflict, NotFound
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import RuleItem, RuleSet
from services.pagination import AnySelect, Page, paginate
from services.registry import unit_for_record

# The shipped defaults as `assessment_item()` reads them (kind → signal → item).
DEFAULTS = orjson.dumps(defaults_document()).decode()

_PRICE = text(
    "SELECT kind, holder_path::text AS path, code, points, cap "
    "FROM assessment_item(:unit_id, :department_id, :period, :signal, CAST(:defaults AS jsonb))"
)

SET_COLUMNS = (
    RuleSet.id,
    RuleSet.owner_unit_id,
    RuleSet.year,
    RuleSet.kind,
    RuleSet.name,
    RuleSet.state,
    RuleSet.copied_from_id,
    RuleSet.version,
    RuleSet.created_at,
    RuleSet.updated_at,
)


@dataclass(frozen=True)
class Priced:
    """A signal's item for one holder: its kind and path, and the item's code and points."""

    kind: str
    path: str
    code: str
    points: Decimal
    cap: Decimal | None


async def price(
    ctx: Ctx,
    unit_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
    period: str,
    signal: str,
) -> Priced | None:
    """What `signal` is worth to the unit or department in `period` (YYYY-MM); None when the
    applicable rule set has no such item (then nothing is charged)."""
    row = (
        await ctx.session.execute(
            _PRICE,
            {
                "unit_id": unit_id,
                "department_id": department_id,
                "period": period,
                "signal": signal,
                "defaults": DEFAULTS,
            },
        )
    ).one_or_none()
    return Priced(**row._mapping) if row is not None else None


@dataclass(frozen=True)
class RuleSetFilter:
    year: int | None = None
    kind: Kind | None = None
    state: str | None = None
    owner_unit_id: uuid.UUID | None = None


def _visible(ctx: Ctx) -> Any:
    """Rule sets the caller manages (owned in its jurisdiction) or is assessed by (owned
    above it)."""
    if ctx.principal.sees_everything:
        return in_scope(RuleSet.owner_path, ctx.principal)
    above = RuleSet.owner_path.op("@>")(func.text2ltree(ctx.principal.scope))
    return or_(in_scope(RuleSet.owner_path, ctx.principal), above)


def _item_row(item: RuleItem) -> dict[str, Any]:
    return {
        "code": item.code,
        "text": item.text,
        "points": item.points,
        "signal": item.signal,
        "cap": item.cap,
        "automatic": item.signal is not None,
    }


def to_items(rows: list[dict[str, Any]]) -> list[Item]:
    """Items from their stored or submitted form."""
    return [
        Item(
            code=row["code"],
            text=row["text"],
            points=Decimal(str(row["points"])),
            signal=Signal(row["signal"]) if row.get("signal") else None,
            cap=Decimal(str(row["cap"])) if row.get("cap") is not None else None,
        )
        for row in rows
    ]


async def _items(ctx: Ctx, rule_set_id: uuid.UUID) -> list[RuleItem]:
    return list(
        await ctx.session.scalars(
            select(RuleItem).where(RuleItem.rule_set_id == rule_set_id).order_by(RuleItem.position)
        )
    )


async def get_rule_set(ctx: Ctx, rule_set_id: uuid.UUID) -> dict[str, Any]:
    """A rule set with its items; 404 outside what the caller manages or is assessed by."""
    row = (
        await ctx.session.execute(
            select(*SET_COLUMNS).where(RuleSet.id == rule_set_id, _visible(ctx))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("rule_set_not_found")
    return {**row._mapping, "items": [_item_row(i) for i in await _items(ctx, rule_set_id)]}


def rule_sets_query(ctx: Ctx, flt: RuleSetFilter) -> AnySelect:
    stmt = select(*SET_COLUMNS).where(_visible(ctx))
    if flt.year is not None:
        stmt = stmt.where(RuleSet.year == flt.year)
    if flt.kind is not None:
        stmt = stmt.where(RuleSet.kind == flt.kind.value)
    if flt.state is not None:
        stmt = stmt.where(RuleSet.state == flt.state)
    if flt.owner_unit_id is not None:
        stmt = stmt.where(RuleSet.owner_unit_id == flt.owner_unit_id)
    return stmt


async def list_rule_sets(
    ctx: Ctx, flt: RuleSetFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    return await paginate(
        ctx.session,
        rule_sets_query(ctx, flt),
        key=(RuleSet.name, RuleSet.id),
        limit=limit,
        cursor=cursor,
    )


def _snapshot(rule_set: RuleSet, items: list[Item]) -> dict[str, Any]:
    return {
        "year": rule_set.year,
        "kind": rule_set.kind,
        "name": rule_set.name,
        "state": rule_set.state,
        "items": [
            {
                "code": i.code,
                "points": str(i.points),
                "signal": i.signal,
                "cap": str(i.cap) if i.cap is not None else None,
            }
            for i in items
        ],
    }


async def _store_items(ctx: Ctx, rule_set: RuleSet, items: list[Item]) -> None:
    check_items(items)
    await ctx.session.execute(delete(RuleItem).where(RuleItem.rule_set_id == rule_set.id))
    ctx.session.add_all(
        RuleItem(
            rule_set_id=rule_set.id,
            owner_path=rule_set.owner_path,
            position=n,
            code=item.code,
            text=item.text,
            points=item.points,
            signal=item.signal.value if item.signal else None,
            cap=item.cap,
        )
        for n, item in enumerate(items)
    )
    await ctx.session.flush()


async def create_rule_set(
    ctx: Ctx,
    *,
    owner_unit_id: uuid.UUID,
    year: int,
    kind: Kind,
    name: str,
    items: list[Item] | None,
    copied_from: uuid.UUID | None = None,
) -> dict[str, Any]:
    """A draft rule set of the owner (in the caller's jurisdiction, else 404); without items
    it starts from the shipped defaults of its kind. Audited."""
    owner = await unit_for_record(ctx, owner_unit_id, "owner_unit_id")
    chosen = list(DEFAULT_ITEMS[kind]) if items is None else items
    check_items(chosen)
    now = ctx.now()
    rule_set = RuleSet(
        owner_unit_id=owner.id,
        owner_path=owner.path,
        year=year,
        kind=kind.value,
        name=name,
        state="draft",
        copied_from_id=copied_from,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(rule_set)
    await ctx.session.flush()
    await _store_items(ctx, rule_set, chosen)
    await audit.record(
        ctx,
        action="assessment_rule_set.create",
        target_type="assessment_rule_set",
        target_id=rule_set.id,
        unit_path=owner.path,
        after=_snapshot(rule_set, chosen),
    )
    return await get_rule_set(ctx, rule_set.id)


async def _locked(ctx: Ctx, rule_set_id: uuid.UUID, expected_version: int | None) -> RuleSet:
    """The rule set for a write: owned inside the caller's jurisdiction (404 otherwise, also
    for the sets of units above it, which it may read but not change), current (412)."""
    rule_set = await ctx.session.scalar(
        select(RuleSet)
        .where(RuleSet.id == rule_set_id, in_scope(RuleSet.owner_path, ctx.principal))
        .with_for_update()
    )
    if rule_set is None:
        raise NotFound("rule_set_not_found")
    check_version(expected_version, rule_set.version)
    return rule_set


def _require_state(rule_set: RuleSet, *states: str, action: str) -> None:
    if rule_set.state not in states:
        raise Conflict("rule_set_state", params={"state": rule_set.state, "action": action})


async def _bump(ctx: Ctx, rule_set: RuleSet, values: dict[str, Any]) -> None:
    """A guarded change of the set's row: only from the version read."""
    done = await ctx.session.execute(
        update(RuleSet)
        .where(RuleSet.id == rule_set.id, RuleSet.version == rule_set.version)
        .values(**values, version=RuleSet.version + 1, updated_at=ctx.now())
        .returning(RuleSet.id)
        .execution_options(synchronize_session=False)
    )
    if done.one_or_none() is None:
        raise Conflict("rule_set_changed")


async def update_rule_set(
    ctx: Ctx,
    rule_set_id: uuid.UUID,
    *,
    name: str | None,
    items: list[Item] | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """Rename a draft or replace its items (validated as a whole); an enabled or archived
    set is fixed (409 `rule_set_state`). Audited with before and after."""
    rule_set = await _locked(ctx, rule_set_id, expected_version)
    _require_state(rule_set, "draft", action="edit")
    before = _snapshot(rule_set, to_items([_item_row(i) for i in await _items(ctx, rule_set.id)]))
    if items is not None:
        await _store_items(ctx, rule_set, items)
    await _bump(ctx, rule_set, {"name": name} if name is not None else {})
    after = await get_rule_set(ctx, rule_set.id)
    await audit.record(
        ctx,
        action="assessment_rule_set.update",
        target_type="assessment_rule_set",
        target_id=rule_set.id,
        unit_path=rule_set.owner_path,
        before=before,
        after={"name": after["name"], "items": len(after["items"])},
    )
    return after


async def set_state(
    ctx: Ctx, rule_set_id: uuid.UUID, target: str, *, expected_version: int | None
) -> dict[str, Any]:
    """Enable a draft (409 `rule_set_enabled_exists` while the owner has another enabled set
    of that year and kind) or archive a draft or enabled set. Audited."""
    rule_set = await _locked(ctx, rule_set_id, expected_version)
    if target == "enabled":
        _require_state(rule_set, "draft", action="enable")
    else:
        _require_state(rule_set, "draft", "enabled", action="archive")
    before = rule_set.state
    try:
        async with ctx.session.begin_nested():
            await _bump(ctx, rule_set, {"state": target})
    except IntegrityError as exc:
        raise Conflict("rule_set_enabled_exists") from exc
    await audit.record(
        ctx,
        action=f"assessment_rule_set.{'enable' if target == 'enabled' else 'archive'}",
        target_type="assessment_rule_set",
        target_id=rule_set.id,
        unit_path=rule_set.owner_path,
        before={"state": before},
        after={"state": target},
    )
    return await get_rule_set(ctx, rule_set.id)


async def copy_rule_set(ctx: Ctx, rule_set_id: uuid.UUID, *, year: int) -> dict[str, Any]:
    """A new year's draft with the items of this set (R-ASM-1 "a new year can copy last
    year's set"), owned by the same unit."""
    source = await get_rule_set(ctx, rule_set_id)
    return await create_rule_set(
        ctx,
        owner_unit_id=source["owner_unit_id"],
        year=year,
        kind=Kind(source["kind"]),
        name=source["name"].replace(str(source["year"]), str(year)),
        items=to_items(source["items"]),
        copied_from=source["id"],
    )


async def delete_rule_set(
    ctx: Ctx, rule_set_id: uuid.UUID, *, expected_version: int | None
) -> None:
    """Delete a draft (it never charged anything); enabled and archived sets stay."""
    rule_set = await _locked(ctx, rule_set_id, expected_version)
    _require_state(rule_set, "draft", action="delete")
    await ctx.session.execute(delete(RuleSet).where(RuleSet.id == rule_set.id))
    await audit.record(
        ctx,
        action="assessment_rule_set.delete",
        target_type="assessment_rule_set",
        target_id=rule_set.id,
        unit_path=rule_set.owner_path,
        before={"name": rule_set.name, "year": rule_set.year, "kind": rule_set.kind},
    )


async def applicable_items(ctx: Ctx, kind: Kind, path: str, year: int) -> list[Item]:
    """The items that assess a holder of `kind` at `path` in `year`: the enabled rule set
    above it, else the shipped defaults."""
    set_id = await ctx.session.scalar(
        select(func.assessment_rule_set(kind.value, func.text2ltree(path), year))
    )
    if set_id is None:
        return list(DEFAULT_ITEMS[kind])
    return to_items([_item_row(i) for i in await _items(ctx, set_id)])
