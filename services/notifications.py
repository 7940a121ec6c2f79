"""In-app notifications (站内信): written set-based to everyone concerned, read only by their
recipient (another user's notification does not exist for the caller: 404)."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    cast,
    exists,
    func,
    literal,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert

from domain.errors import BadRequest, NotFound
from domain.permissions import Role
from services import audit
from services.context import Ctx
from services.models import Notification, OrgUnit, User, UserRole
from services.pagination import AnySelect, decode_cursor, encode_cursor

# R-KEY-2: "the grid's staff".
GRID_STAFF_ROLES = (Role.GRID_WORKER, Role.GRID_LEADER, Role.COMMUNITY_STAFF)

COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.title,
    Notification.body,
    Notification.target_type,
    Notification.target_id,
    Notification.created_at,
    Notification.read_at,
)


async def notify_grid_staff(
    ctx: Ctx,
    source: AnySelect,
    *,
    kind: str,
    title: str,
    target_type: str,
    dedupe_prefix: str,
) -> int:
    """One notification per staff member for each row of `source` (columns `grid_id`, `path`,
    `target_id`, `body`): active users whose unit is the row's grid or that grid's community,
    holding a grid-staff role. Set-based, and idempotent per (user, prefix + target): a re-run
    inserts nothing. Returns how many notifications were written."""
    src = source.subquery("source")
    grids = select(src.c.grid_id).distinct()
    has_role = exists().where(
        UserRole.user_id == User.id,
        UserRole.role_code.in_([role.value for role in GRID_STAFF_ROLES]),
    )
    # (grid, staff member) pairs for the grids concerned, as two equi-joins: the recipients
    # are worked out once per grid, then matched to the rows by grid.
    staff = union_all(
        *(
            select(OrgUnit.id.label("grid_id"), User.id.label("user_id"))
            .join(User, User.unit_id == home)
            .where(OrgUnit.id.in_(grids), User.is_active, has_role)
            for home in (OrgUnit.id, OrgUnit.parent_id)
        )
    ).subquery("staff")
    rows = select(
        func.gen_random_uuid(),
        staff.c.user_id,
        src.c.path,
        literal(kind),
        literal(title),
        src.c.body,
        literal(target_type),
        src.c.target_id,
        literal(dedupe_prefix) + cast(src.c.target_id, String),
        literal(ctx.now(), DateTime(timezone=True)),
    ).join_from(src, staff, staff.c.grid_id == src.c.grid_id)
    stmt = (
        insert(Notification)
        .from_select(
            [
                "id",
                "user_id",
                "path",
                "kind",
                "title",
                "body",
                "target_type",
                "target_id",
                "dedupe_key",
                "created_at",
            ],
            rows,
        )
        .on_conflict_do_nothing(
            index_elements=[Notification.user_id, Notification.dedupe_key],
            index_where=Notification.dedupe_key.is_not(None),
        )
        .returning(Notification.id)
    )
    return len((await ctx.session.execute(stmt)).all())


def _own(ctx: Ctx) -> ColumnElement[bool]:
    return Notification.user_id == ctx.principal.user_id


def notifications_query(ctx: Ctx, *, unread: bool | None, q: str | None) -> AnySelect:
    """The caller's own notifications, filtered; newest first."""
    stmt = select(*COLUMNS).where(_own(ctx))
    if unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    if q:
        stmt = stmt.where(
            Notification.title.icontains(q, autoescape=True)
            | Notification.body.icontains(q, autoescape=True)
        )
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


@dataclass(frozen=True)
class NotificationPage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    total: int
    unread_count: int


async def list_notifications(
    ctx: Ctx, *, unread: bool | None, q: str | None, limit: int, cursor: str | None
) -> NotificationPage:
    """A keyset page of the caller's notifications, newest first, with the filtered total and
    the caller's unread count (for the badge)."""
    stmt = notifications_query(ctx, unread=unread, q=q)
    total = await ctx.session.scalar(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    )
    unread_count = await ctx.session.scalar(
        select(func.count()).where(_own(ctx), Notification.read_at.is_(None))
    )
    if cursor:
        last_at, last_id = decode_cursor(cursor, 2)
        try:
            key = (datetime.fromisoformat(str(last_at)), uuid.UUID(str(last_id)))
        except ValueError as exc:
            raise BadRequest("cursor_invalid") from exc
        stmt = stmt.where(tuple_(Notification.created_at, Notification.id) < key)
    rows = (await ctx.session.execute(stmt.limit(limit + 1))).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last["created_at"].isoformat(), str(last["id"])])
    return NotificationPage(
        items=items, next_cursor=next_cursor, total=total or 0, unread_count=unread_count or 0
    )


def _audit_path(ctx: Ctx) -> str | None:
    return None if ctx.principal.sees_everything else ctx.principal.scope


async def mark_read(ctx: Ctx, notification_id: uuid.UUID) -> dict[str, Any]:
    """Mark one of the caller's notifications read (already read: unchanged)."""
    row = (
        await ctx.session.execute(
            update(Notification)
            .where(Notification.id == notification_id, _own(ctx), Notification.read_at.is_(None))
            .values(read_at=ctx.now())
            .returning(*COLUMNS)
        )
    ).one_or_none()
    if row is None:
        row = (
            await ctx.session.execute(
                select(*COLUMNS).where(Notification.id == notification_id, _own(ctx))
            )
        ).one_or_none()
        if row is None:
            raise NotFound("notification_not_found")
        return dict(row._mapping)
    await audit.record(
        ctx,
        action="notification.read",
        target_type="notification",
        target_id=notification_id,
        unit_path=_audit_path(ctx),
    )
    return dict(row._mapping)


async def mark_all_read(ctx: Ctx) -> int:
    """Mark every unread notification of the caller read; how many changed."""
    changed = len(
        (
            await ctx.session.execute(
                update(Notification)
                .where(_own(ctx), Notification.read_at.is_(None))
                .values(read_at=ctx.now())
                .returning(Notification.id)
            )
        ).all()
    )
    if changed:
        await audit.record(
            ctx,
            action="notification.read_all",
            target_type="notification",
            target_id=None,
            unit_path=_audit_path(ctx),
            after={"count": changed},
        )
    return changed
