"""R-KEY-2: the daily life cycle of business tags, run by the worker's cron job and by
`gridctl lifecycle --as-of DATE`.

Each rule is a handful of set-based statements (it must cope with hundreds of thousands of
people): one conditional UPDATE or INSERT … SELECT decides what changes, then the history,
the audit entries (one per grid) and the staff notifications are written for exactly those
rows. The rules themselves (limits, cut-off dates) are pure functions in `domain.tags`.

Idempotent: only followed tags past their limit are unfollowed and only people without a
followed elderly tag are tagged, so a second run finds nothing; notifications carry a
dedupe key. Concurrent runs are safe: row locks make the losing UPDATE skip rows that are no
longer followed, and the partial unique index arbitrates the elderly INSERT.
"""

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    String,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from domain.principal import SYSTEM
from domain.registry import FollowStatus, Status
from domain.tags import (
    BIRTH_DATE,
    ELDERLY_COUNTER,
    ELDERLY_REASON,
    EXPIRY_RULES,
    KINDS,
    ExpiryRule,
    TagKind,
    elderly_birth_cutoff,
)
from services import notifications
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.models import AuditEntry, Person, PersonTag, StatusChange
from services.tags import TARGET

NOTIFICATION_KIND = "tag_lifecycle"
UNFOLLOWED_TITLE = "业务人员自动取消关注"
ELDERLY_TITLE = "自动标记老年人"
COUNTERS = (*(rule.counter for rule in EXPIRY_RULES), ELDERLY_COUNTER, "notifications")


def _among(ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    # One array parameter however many rows changed (bind parameters are limited), read as a
    # set: `IN (SELECT unnest(...))` is a hashed semi-join, where `= ANY(array)` would scan
    # the whole array for every row it is checked against.
    changed = bindparam("changed_ids", list(ids), type_=ARRAY(Uuid()))
    return PersonTag.id.in_(select(func.unnest(changed)))


def _anchor(rule: ExpiryRule) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
    if rule.anchor == BIRTH_DATE:
        return PersonTag.birth_date
    return cast(PersonTag.details[rule.anchor].astext, Date)


async def _unfollow_due(ctx: Ctx, rule: ExpiryRule, as_of: date) -> list[uuid.UUID]:
    """Unfollow every followed tag of the rule's kind whose limit is reached on `as_of`, with
    the rule's reason, keeping the history; the ids of the tags changed."""
    now = ctx.now()
    ids = list(
        (
            await ctx.session.execute(
                update(PersonTag)
                .where(
                    PersonTag.kind == rule.kind.value,
                    PersonTag.status == FollowStatus.FOLLOWED.value,
                    _anchor(rule) <= rule.cutoff(as_of),
                )
                .values(
                    status=FollowStatus.UNFOLLOWED.value,
                    status_reason=rule.reason,
                    status_changed_at=now,
                    version=PersonTag.version + 1,
                    updated_at=now,
                )
                .returning(PersonTag.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if ids:
        await ctx.session.execute(
            insert(StatusChange).from_select(
                [
                    "id",
                    "target_type",
                    "target_id",
                    "path",
                    "from_status",
                    "to_status",
                    "reason",
                    "at",
                    "actor_id",
                ],
                select(
                    func.gen_random_uuid(),
                    literal(TARGET),
                    PersonTag.id,
                    PersonTag.path,
                    literal(FollowStatus.FOLLOWED.value),
                    literal(FollowStatus.UNFOLLOWED.value),
                    literal(rule.reason),
                    literal(now, DateTime(timezone=True)),
                    literal(ctx.principal.user_id, Uuid()),
                ).where(_among(ids)),
            )
        )
    return ids


async def _tag_elderly(ctx: Ctx, as_of: date) -> list[uuid.UUID]:
    """R-KEY-2: every active person aged 60 or more on `as_of` without a followed elderly
    tag in their grid gets one, marked automatic; the ids of the new tags.

    "Without one" is left to the partial unique index (grid, kind, ID) among followed tags:
    each candidate costs one index probe, whatever the planner knows about the tables."""
    now = literal(ctx.now(), DateTime(timezone=True))
    elderly = TagKind.ELDERLY.value
    candidates = select(
        func.gen_random_uuid(),
        Person.grid_id,
        Person.path,
        Person.id,
        literal(elderly),
        Person.id_number,
        Person.name,
        Person.birth_date,
        literal({}, JSONB),
        true(),
        literal(FollowStatus.FOLLOWED.value),
        literal(1),
        now,
        now,
        literal(ctx.principal.user_id, Uuid()),
    ).where(
        Person.status == Status.ACTIVE.value,
        Person.id_number.is_not(None),
        Person.birth_date <= elderly_birth_cutoff(as_of),
    )
    stmt = (
        pg_insert(PersonTag)
        .from_select(
            [
                "id",
                "grid_id",
                "path",
                "person_id",
                "kind",
                "id_number",
                "name",
                "birth_date",
                "details",
                "automatic",
                "status",
                "version",
                "created_at",
                "updated_at",
                "created_by",
            ],
            candidates,
        )
        .on_conflict_do_nothing(
            index_elements=[PersonTag.grid_id, PersonTag.kind, PersonTag.id_number],
            # Inline, not a parameter: only a literal predicate matches the partial index.
            index_where=text(f"status = '{FollowStatus.FOLLOWED.value}'"),
        )
        .returning(PersonTag.id)
    )
    return list((await ctx.session.execute(stmt)).scalars())


async def _audit_per_grid(
    ctx: Ctx,
    ids: Sequence[uuid.UUID],
    *,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    reason: str,
) -> None:
    """R-AUD-1 for a rule's changes: one entry per grid naming its changed tags (`after.ids`,
    the target itself when alone), filed under the grid so its jurisdiction sees it; each
    tag's own change is also in its status history. Written in one statement — the
    set-based counterpart of `audit.record`. Per grid, not per tag: every audit row takes
    the chain's lock and reads its predecessor, which a city-wide first run must not
    multiply by hundreds of thousands."""
    principal = ctx.principal
    tag_id = cast(PersonTag.id, String)
    changed = func.jsonb_build_object(
        "ids", func.jsonb_agg(aggregate_order_by(tag_id, tag_id)), "count", func.count()
    )
    await ctx.session.execute(
        insert(AuditEntry).from_select(
            [
                "at",
                "actor_id",
                "actor_name",
                "actor_unit_id",
                "unit_path",
                "action",
                "target_type",
                "target_id",
                "before",
                "after",
                "reason",
                "request_id",
            ],
            select(
                literal(ctx.now(), DateTime(timezone=True)),
                literal(principal.user_id, Uuid()),
                literal(principal.username),
                literal(principal.unit_id, Uuid()),
                PersonTag.path,
                literal(action),
                literal(TARGET),
                case((func.count() == 1, func.min(tag_id)), else_=null()),
                literal(before, JSONB) if before is not None else null(),
                literal(after, JSONB).op("||")(changed),
                literal(reason),
                literal(ctx.request_id, String()),
            )
            .where(_among(ids))
            .group_by(PersonTag.path)
            .order_by(PersonTag.path),
        )
    )


async def _notify(
    ctx: Ctx, ids: Sequence[uuid.UUID], kind: TagKind, *, title: str, text: str, dedupe: str
) -> int:
    """Tell the staff of each changed tag's grid, e.g. "刑释人员「张*」：刑满释放已满5年…".
    Grid staff hold no `pii:read`, so the name is masked as everywhere else (R-JUR-3)."""
    masked_name = func.concat(
        func.left(PersonTag.name, 1),
        func.repeat("*", func.greatest(func.char_length(PersonTag.name) - 1, 1)),
    )
    body = literal(f"{KINDS[kind].label}「") + masked_name + literal(f"」：{text}")
    source = select(
        PersonTag.grid_id, PersonTag.path, PersonTag.id.label("target_id"), body.label("body")
    ).where(_among(ids))
    return await notifications.notify_grid_staff(
        ctx,
        source,
        kind=NOTIFICATION_KIND,
        title=title,
        target_type=TARGET,
        dedupe_prefix=dedupe,
    )


async def run_lifecycle(ctx: Ctx, as_of: date) -> dict[str, int]:
    """Apply every R-KEY-2 rule as of a business date; counts of changes per rule and of the
    notifications written. Runs in the caller's transaction (system scope)."""
    counts: dict[str, int] = {}
    notified = 0
    for rule in EXPIRY_RULES:
        ids = await _unfollow_due(ctx, rule, as_of)
        counts[rule.counter] = len(ids)
        if ids:
            await _audit_per_grid(
                ctx,
                ids,
                action=f"{TARGET}.{FollowStatus.UNFOLLOWED.value}",
                before={"status": FollowStatus.FOLLOWED.value},
                after={"status": FollowStatus.UNFOLLOWED.value},
                reason=rule.reason,
            )
            notified += await _notify(
                ctx,
                ids,
                rule.kind,
                title=UNFOLLOWED_TITLE,
                text=rule.reason,
                dedupe=f"{rule.counter}:{as_of.isoformat()}:",
            )
    ids = await _tag_elderly(ctx, as_of)
    counts[ELDERLY_COUNTER] = len(ids)
    if ids:
        await _audit_per_grid(
            ctx,
            ids,
            action=f"{TARGET}.create",
            before=None,
            after={"kind": TagKind.ELDERLY.value, "automatic": True},
            reason=ELDERLY_REASON,
        )
        notified += await _notify(
            ctx,
            ids,
            TagKind.ELDERLY,
            title=ELDERLY_TITLE,
            text=ELDERLY_REASON,
            dedupe=f"{ELDERLY_COUNTER}:",
        )
    counts["notifications"] = notified
    return counts


async def run_as_system(
    maker: async_sessionmaker[AsyncSession], clock: Clock, as_of: date | None = None
) -> dict[str, int]:
    """One run in a system session of its own, committed on success (worker and CLI); `as_of`
    defaults to today in the business time zone."""
    async with system_session(maker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        return await run_lifecycle(ctx, as_of or ctx.today())
