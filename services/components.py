"""City components (城市部件, R-CMP-1): public and civil facilities with location, condition
and code. A component binds to one standard address at most (仅且允许绑定一次): binding a bound
component is a 409 until it is explicitly unbound. One address may carry several
components (a building has its manhole covers, hydrant and poles)."""

import uuid
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import update

from domain.errors import Conflict
from domain.places import (
    ComponentCategory,
    ComponentCondition,
    check_component_kind,
)
from domain.registry import Status
from domain.versioning import check_version
from services import audit
from services.context import Ctx
from services.jurisdiction import in_scope
from services.models import Component
from services.pagination import AnySelect
from services.places import (
    BBox,
    Registry,
    address_for_record,
    geojson_of,
    in_bbox,
    in_unit,
    name_matches,
    stored,
)
from services.registry import audit_change, grid_for_record, lock_record

COMPONENTS: Registry[Component] = Registry(
    model=Component,
    target_type="component",
    not_found="component_not_found",
    columns=(
        Component.id,
        Component.grid_id,
        Component.path,
        Component.code,
        Component.name,
        Component.category,
        Component.kind,
        Component.condition,
        Component.owner,
        geojson_of(Component.location),
        Component.address_id,
        Component.bound_at,
        Component.status,
        Component.status_reason,
        Component.status_changed_at,
        Component.version,
        Component.created_at,
        Component.updated_at,
        Component.created_by,
    ),
    sort=Component.name,
)


@dataclass(frozen=True)
class ComponentFilter:
    unit_id: uuid.UUID | None = None
    category: ComponentCategory | None = None
    kind: str | None = None
    condition: ComponentCondition | None = None
    bound: bool | None = None
    address_id: uuid.UUID | None = None
    status: Status | None = None
    q: str | None = None


def components_query(ctx: Ctx, f: ComponentFilter, bbox: BBox | None = None) -> AnySelect:
    """Components in jurisdiction matching the filters (the list, its export, the map)."""
    stmt = COMPONENTS.query(ctx)
    if f.unit_id is not None:
        stmt = stmt.where(in_unit(Component.path, f.unit_id))
    if f.category is not None:
        stmt = stmt.where(Component.category == f.category.value)
    if f.kind is not None:
        stmt = stmt.where(Component.kind == f.kind)
    if f.condition is not None:
        stmt = stmt.where(Component.condition == f.condition.value)
    if f.bound is not None:
        stmt = stmt.where(
            Component.address_id.is_not(None) if f.bound else Component.address_id.is_(None)
        )
    if f.address_id is not None:
        stmt = stmt.where(Component.address_id == f.address_id)
    if f.status is not None:
        stmt = stmt.where(Component.status == f.status.value)
    if f.q:
        stmt = stmt.where(name_matches(Component.name, f.q) | (Component.code == f.q.strip()))
    if bbox is not None:
        stmt = stmt.where(in_bbox(Component.location, bbox))
    return stmt


async def create_component(
    ctx: Ctx,
    *,
    grid_id: uuid.UUID,
    category: ComponentCategory,
    kind: str,
    values: dict[str, Any],
) -> dict[str, Any]:
    """A component in a grid; its code is unique among active components (409)."""
    grid = await grid_for_record(ctx, grid_id)
    check_component_kind(category, kind)
    component = Component(grid_id=grid.id, category=category.value, kind=kind, **stored(values))
    return await COMPONENTS.create(ctx, component, path=grid.path, unique={"code": values["code"]})


def _check(component: Component) -> None:
    check_component_kind(ComponentCategory(component.category), component.kind)


async def update_component(
    ctx: Ctx, component_id: uuid.UUID, changes: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the given fields; the kind stays within the category; codes stay unique."""
    return await COMPONENTS.update(
        ctx,
        component_id,
        changes,
        expected_version=expected_version,
        check=_check,
        unique={"code": changes.get("code") or ""},
    )


async def bind_component(
    ctx: Ctx, component_id: uuid.UUID, address_id: uuid.UUID, *, expected_version: int | None
) -> dict[str, Any]:
    """Bind an unbound active component to a standard address. One conditional update
    decides it (`address_id IS NULL`): of two racing binds the second finds the component
    bound when the first commits and gets 409 `component_already_bound`."""
    address = await address_for_record(ctx, address_id)
    now = ctx.now()
    stmt = (
        update(Component)
        .where(
            Component.id == component_id,
            in_scope(Component.path, ctx.principal),
            Component.status == Status.ACTIVE.value,
            Component.address_id.is_(None),
        )
        .values(
            address_id=address.id,
            bound_at=now,
            version=Component.version + 1,
            updated_at=now,
        )
        .returning(Component.path)
        .execution_options(synchronize_session=False)
    )
    if expected_version is not None:
        stmt = stmt.where(Component.version == expected_version)
    bound = (await ctx.session.execute(stmt)).one_or_none()
    if bound is None:
        await _refuse(ctx, component_id, expected_version)
    await audit.record(
        ctx,
        action="component.bind",
        target_type="component",
        target_id=component_id,
        unit_path=bound.path,
        before={"address_id": None},
        after={"address_id": str(address.id)},
    )
    return await COMPONENTS.get(ctx, component_id)


async def _refuse(ctx: Ctx, component_id: uuid.UUID, expected_version: int | None) -> NoReturn:
    """Why a bind matched no row: unknown (404), stale (412), deregistered or bound (409)."""
    component = await lock_record(ctx, Component, component_id, not_found="component_not_found")
    await ctx.session.refresh(component)
    check_version(expected_version, component.version)
    if component.status != Status.ACTIVE:
        raise Conflict("component_deregistered")
    raise Conflict("component_already_bound")


async def unbind_component(
    ctx: Ctx,
    component_id: uuid.UUID,
    *,
    reason: str | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """Explicitly release the component's address (409 when it has none)."""
    component = await lock_record(ctx, Component, component_id, not_found="component_not_found")
    check_version(expected_version, component.version)
    if component.address_id is None:
        raise Conflict("component_not_bound")
    before = {"address_id": str(component.address_id)}
    component.address_id = None
    component.bound_at = None
    await audit_change(
        ctx,
        component,
        action="component.unbind",
        target_type="component",
        before=before,
        after={"address_id": None},
        reason=reason,
    )
    return await COMPONENTS.get(ctx, component_id)
