"""Notices and announcements (R-NOTE-1: 公告, 个人通知, 短信管理): a unit tells everyone in its
subtree, or named persons in it, in the app and optionally by SMS.

Delivery is one statement: the recipients are selected, their notifications inserted and
their texts queued in the outbox in the same transaction (so neither is lost if the worker
or Redis is down). Each notification is filed under its recipient's own path."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    String,
    Uuid,
    bindparam,
    func,
    select,
    text,
    tuple_,
)

from domain.errors import BadRequest, FieldError, Invalid, NotFound
from services import audit
from services.context import Ctx
from services.event_notices import SMS_SIGNATURE
from services.jurisdiction import in_scope
from services.models import Notice
from services.pagination import AnySelect, decode_cursor, encode_cursor
from services.registry import unit_for_record

# Every active user at or below the unit, or the named ones among them; never the author.
_SEND = text("""
WITH r AS (
    SELECT u.id AS user_id, u.phone, coalesce(u.path, CAST(:unit_path AS ltree)) AS path
    FROM users u
    WHERE u.is_active AND u.path <@ CAST(:unit_path AS ltree)
      AND (CAST(:persons AS uuid[]) IS NULL OR u.id = ANY(:persons))
      AND u.id IS DISTINCT FROM :author
),
notes AS (
    INSERT INTO notifications (id, user_id, path, kind, title, body, target_type, target_id,
                               created_at)
    SELECT gen_random_uuid(), user_id, path, 'notice', :title, :body, 'notice', :notice, :now
    FROM r
    RETURNING user_id
),
-- The recipient by id, not number: the number is read as the text goes out (services.sms).
sms AS (
    INSERT INTO outbox (kind, payload, created_at, available_at)
    SELECT 'sms', jsonb_build_object('text', :signature || :title,
                                     'user_id', user_id, 'notice_id', :notice),
           :now, :now
    FROM r
    WHERE :sms AND coalesce(phone, '') <> ''
    RETURNING id
)
SELECT (SELECT count(*) FROM notes) AS notified, (SELECT count(*) FROM sms) AS texted,
       (SELECT array_agg(user_id) FROM notes) AS reached
""").bindparams(
    bindparam("persons", type_=ARRAY(Uuid)),
    bindparam("author", type_=Uuid),
    bindparam("notice", type_=Uuid),
    bindparam("sms", type_=Boolean),
    bindparam("title", type_=String),
    bindparam("body", type_=String),
    bindparam("now", type_=DateTime(timezone=True)),
)

_COLUMNS = (
    Notice.id,
    Notice.unit_id,
    Notice.audience,
    Notice.title,
    Notice.body,
    Notice.sms,
    Notice.recipients,
    Notice.texted,
    Notice.author_id,
    Notice.created_at,
)


async def send_notice(
    ctx: Ctx,
    *,
    unit_id: uuid.UUID,
    title: str,
    body: str,
    user_ids: list[uuid.UUID] | None,
    sms: bool,
) -> dict[str, Any]:
    """Issue a notice from a unit in jurisdiction to its subtree (no `user_ids`) or to the
    named persons, who must all be active users at or below the unit."""
    unit = await unit_for_record(ctx, unit_id)
    notice = Notice(
        unit_id=unit.id,
        path=unit.path,
        audience="subtree" if user_ids is None else "persons",
        title=title,
        body=body,
        sms=sms,
        recipients=0,
        texted=0,
        author_id=ctx.principal.user_id,
        created_at=ctx.now(),
    )
    ctx.session.add(notice)
    await ctx.session.flush()
    persons = sorted(set(user_ids)) if user_ids is not None else None
    row = (
        await ctx.session.execute(
            _SEND,
            {
                "unit_path": unit.path,
                "persons": persons,
                "author": ctx.principal.user_id,
                "notice": notice.id,
                "sms": sms,
                "title": title,
                "body": body,
                "now": ctx.now(),
                "signature": SMS_SIGNATURE,
            },
        )
    ).one()
    if persons is not None:
        missing = set(persons) - set(row.reached or []) - {ctx.principal.user_id}
        if missing or not persons:
            # Rolled back with the request: nobody is told anything.
            raise Invalid(
                "notice_recipient_invalid",
                errors=[FieldError("user_ids", "notice_recipient_invalid")],
            )
    notice.recipients, notice.texted = int(row.notified), int(row.texted)
    await audit.record(
        ctx,
        action="notice.send",
        target_type="notice",
        target_id=notice.id,
        unit_path=unit.path,
        after={"title": title, "audience": notice.audience, "recipients": notice.recipients},
    )
    return await get_notice(ctx, notice.id)


async def get_notice(ctx: Ctx, notice_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*_COLUMNS).where(Notice.id == notice_id, in_scope(Notice.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("notice_not_found")
    return dict(row._mapping)


def notices_query(ctx: Ctx) -> AnySelect:
    """Notices issued in jurisdiction (the list and its export)."""
    return select(*_COLUMNS).where(in_scope(Notice.path, ctx.principal))


async def list_notices(
    ctx: Ctx, *, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None, int]:
    """Notices issued in jurisdiction, newest first (keyset on time and id), and the total."""
    stmt = notices_query(ctx)
    total = await ctx.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if cursor:
        last_at, last_id = decode_cursor(cursor, 2)
        try:
            key = (datetime.fromisoformat(str(last_at)), uuid.UUID(str(last_id)))
        except ValueError as exc:
            raise BadRequest("cursor_invalid") from exc
        stmt = stmt.where(tuple_(Notice.created_at, Notice.id) < key)
    rows = (
        await ctx.session.execute(
            stmt.order_by(Notice.created_at.desc(), Notice.id.desc()).limit(limit + 1)
        )
    ).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    following = None
    if len(rows) > limit:
        following = encode_cursor([items[-1]["created_at"].isoformat(), str(items[-1]["id"])])
    return items, following, total
