"""Writing and verifying the audit trail (R-AUD-1)."""

import uuid
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, func, insert, literal, select, text
from sqlalchemy.sql.expression import SelectBase

from domain.masking import Mask
from domain.principal import SYSTEM_SCOPE
from services.context import Ctx
from services.db import set_scope
from services.jurisdiction import in_scope
from services.models.audit import AuditEntry
from services.pagination import AnySelect, Page, decode_cursor, encode_cursor

# What a writer gives an entry: the triggers fill in its id, link and hash.
ENTRY_COLUMNS = tuple(
    column.key for column in AuditEntry.__table__.c if column.key not in {"id", "prev_hash", "hash"}
)


def entry_values(
    ctx: Ctx,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    unit_path: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """An entry's values, for a writer that inserts it in a statement of its own making (an
    event's filing)."""
    principal = ctx.principal
    return {
        "at": ctx.now(),
        "actor_id": principal.user_id or principal.api_key_id,
        "actor_name": principal.username,
        "actor_unit_id": principal.unit_id or principal.department_id,
        "unit_path": unit_path,
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id) if target_id is not None else None,
        "before": before,
        "after": after,
        "reason": reason,
        "request_id": ctx.request_id,
    }


# Built once: every change writes an entry, and building the statement each time costs more
# than sending it.
_INSERT = insert(cast(Table, AuditEntry.__table__))


async def record(
    ctx: Ctx,
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str | None,
    unit_path: str | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Append one entry in the caller's transaction; the triggers link it into the chain
    (migration 0040)."""
    values = entry_values(
        ctx,
        action=action,
        target_type=target_type,
        target_id=target_id,
        unit_path=unit_path,
        before=before,
        after=after,
        reason=reason,
    )
    # The session's pending changes go first, as an ORM statement would flush them.
    await ctx.session.flush()
    await ctx.session.execute(_INSERT, values)


@dataclass(frozen=True)
class Change:
    """One change of a batch recorded by `record_many`."""

    target_id: uuid.UUID | str | None
    unit_path: str | None
    after: dict[str, Any]


async def record_many(ctx: Ctx, *, action: str, target_type: str, changes: list[Change]) -> None:
    """One entry per change, as few INSERT statements as the driver allows: set-based work
    audits thousands of changes without a round trip each. The trigger still links every row
    into the chain, in insertion order."""
    if not changes:
        return
    rows = [
        entry_values(
            ctx,
            action=action,
            target_type=target_type,
            target_id=change.target_id,
            unit_path=change.unit_path,
            after=change.after,
        )
        for change in changes
    ]
    await ctx.session.execute(insert(AuditEntry), rows)


async def record_select(ctx: Ctx, *, action: str, target_type: str, rows: SelectBase) -> None:
    """One entry per row of `rows` (its `target_id`, `unit_path` and `after` columns, in its
    order), written by one INSERT … SELECT: set-based work (the supervision sweep) audits
    thousands of changes without carrying them through Python. The trigger links every row."""
    constant = entry_values(
        ctx, action=action, target_type=target_type, target_id=None, unit_path=None
    )
    per_row = ("target_id", "unit_path", "after")
    for name in per_row:
        del constant[name]
    source = rows.subquery()
    types = AuditEntry.__table__.c
    fixed = (literal(value, types[name].type).label(name) for name, value in constant.items())
    await ctx.session.execute(
        insert(AuditEntry).from_select(
            [*constant, *per_row], select(*fixed, *(source.c[name] for name in per_row))
        )
    )


async def take_turn(ctx: Ctx) -> None:
    """Take the chain's lock now rather than at commit (migration 0040): the entries written
    next link straight to the committed head and need no relinking at commit. The lock is
    held to commit and every audited commit waits for it, so this is for a batch of entries
    that is its transaction's last work (the supervision sweep)."""
    await ctx.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('audit_log_chain'))"))


@dataclass(frozen=True)
class ChainReport:
    """`first_broken_id` names the first entry whose hash or link breaks; `tail_missing`
    says the newest entries are gone (the chain head names `head_id`, which is absent)."""

    intact: bool
    entries: int
    first_broken_id: int | None
    tail_missing: bool
    head_id: int | None


# One statement, so the entries and the chain head are read from the same snapshot; the head
# is the caller's own last entry when its transaction has written some (`audit_chain_tip`).
_VERIFY = text(
    """
    WITH chain AS (
        SELECT id, hash, prev_hash, audit_hash(a) AS recomputed,
               lag(hash) OVER (ORDER BY id) AS previous
        FROM audit_log a
    ),
    newest AS (SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1)
    SELECT
        (SELECT count(*) FROM chain) AS entries,
        (SELECT min(id) FROM chain
          WHERE hash <> recomputed OR prev_hash <> coalesce(previous, repeat('0', 64))
        ) AS first_broken,
        head.last_id AS head_id,
        head.last_id IS DISTINCT FROM (SELECT id FROM newest)
          OR head.last_hash <> coalesce((SELECT hash FROM newest), repeat('0', 64))
          AS tail_missing
    FROM audit_chain_tip() head
    """
)


def chain_report(row: Any) -> ChainReport:
    """The verification query's row as a report."""
    return ChainReport(
        intact=row.first_broken is None and not row.tail_missing,
        entries=row.entries,
        first_broken_id=row.first_broken,
        tail_missing=row.tail_missing,
        head_id=row.head_id,
    )


async def verify_chain(ctx: Ctx) -> ChainReport:
    """Recompute every hash and link and match the newest entry against the chain head;
    report the first entry whose hash or link breaks, or a missing tail.

    The chain spans every jurisdiction, so the check reads the whole table (system scope) and
    then restores the caller's scope; it reveals only counts and entry ids.
    """
    await set_scope(ctx.session, SYSTEM_SCOPE)
    try:
        row = (await ctx.session.execute(_VERIFY)).one()
    finally:
        await set_scope(ctx.session, ctx.principal.scope)
    return chain_report(row)


TARGET = "audit_entry"
# What an entry may quote of a record: its diff holds the fields as they were, the reason is
# the actor's own words.
ENTRY_MASK = {"before": Mask.EMBEDDED, "after": Mask.EMBEDDED, "reason": Mask.EMBEDDED}

_ENTRY_COLUMNS = (
    AuditEntry.id,
    AuditEntry.at,
    AuditEntry.actor_id,
    AuditEntry.actor_name,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.before,
    AuditEntry.after,
    AuditEntry.reason,
    AuditEntry.request_id,
    AuditEntry.hash,
)


def entries_query(
    ctx: Ctx,
    *,
    target_type: str | None,
    target_id: str | None,
    action: str | None,
    actor_id: uuid.UUID | None = None,
) -> AnySelect:
    """Entries in the caller's jurisdiction matching the filters (the list and its export)."""
    stmt = select(*_ENTRY_COLUMNS).where(in_scope(AuditEntry.unit_path, ctx.principal))
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    return stmt


def export_row(row: Any) -> dict[str, Any]:
    """An entry for a spreadsheet: the before and after states as JSON text."""
    data = dict(row._mapping)
    for key in ("before", "after"):
        if data[key] is not None:
            data[key] = orjson.dumps(data[key], option=orjson.OPT_SORT_KEYS).decode()
    return data


async def list_entries(
    ctx: Ctx,
    *,
    limit: int,
    cursor: str | None,
    target_type: str | None,
    target_id: str | None,
    action: str | None,
    actor_id: uuid.UUID | None = None,
) -> Page[dict[str, Any]]:
    """Entries in the caller's jurisdiction, newest first, keyset-paged by id."""
    stmt = entries_query(
        ctx, target_type=target_type, target_id=target_id, action=action, actor_id=actor_id
    )
    total = (
        await ctx.session.execute(select(func.count()).select_from(stmt.subquery()))
    ).scalar_one()
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        stmt = stmt.where(AuditEntry.id < int(last_id))
    rows = (await ctx.session.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit + 1))).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1]["id"]]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, total=total)
