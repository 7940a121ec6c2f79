"""Webhooks (R-API-3): an agency's key subscribes a URL to the changes of the events in the
key's jurisdiction; each change goes out signed, from the outbox, retried with backoff, and
every attempt is logged for the key's administrators.

The change feed is the source (`services.changes`, ordered so that no late commit slips
behind a reader). The fan-out locks a subscription, reads the feed after the
subscription's `last_serial` as the key itself would (same jurisdiction, same RLS), queues
one outbox message per wanted change and moves `last_serial` on, all in one transaction:
each change is queued exactly once, even with several workers. The outbox then delivers at
least once; receivers deduplicate by the `X-Grid-Delivery` id, which retries keep."""

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from sqlalchemy import ColumnElement, any_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.api_keys import KeyState, state
from domain.errors import FieldError, Invalid, NotFound
from domain.permissions import Perm
from domain.principal import SYSTEM_SCOPE
from domain.versioning import check_version
from domain.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    IPNetwork,
    check_filters,
    new_secret,
    sign,
    wants,
)
from services import api_keys, audit, changes, outbox, ssrf
from services.clock import Clock
from services.context import Ctx, business_time
from services.db import set_scope, system_session
from services.jurisdiction import in_scope
from services.models import ApiKey, EventAction, WebhookAttempt, WebhookSubscription
from services.outbox import DeliveryFailed
from services.pagination import Page, decode_cursor, encode_cursor, paginate

KIND = "webhook"
FEED_BATCH = 200

COLUMNS = (
    WebhookSubscription.id,
    WebhookSubscription.api_key_id,
    WebhookSubscription.url,
    WebhookSubscription.actions,
    WebhookSubscription.categories,
    WebhookSubscription.enabled,
    WebhookSubscription.version,
    WebhookSubscription.created_at,
    WebhookSubscription.updated_at,
    WebhookSubscription.created_by,
)
_FIELDS = ("url", "actions", "categories", "enabled")
ATTEMPT_COLUMNS = (
    WebhookAttempt.id,
    WebhookAttempt.delivery_id,
    WebhookAttempt.event_id,
    WebhookAttempt.action,
    WebhookAttempt.attempt,
    WebhookAttempt.at,
    WebhookAttempt.status_code,
    WebhookAttempt.ok,
    WebhookAttempt.error,
    WebhookAttempt.duration_ms,
)


_REFUSALS = {
    ssrf.Forbidden: "webhook_url_forbidden",
    ssrf.Unresolved: "webhook_url_unresolved",
}


def _refusal(exc: ssrf.Refused) -> str:
    """Why a target URL is refused, as a message code (subscription errors, delivery log)."""
    return _REFUSALS.get(type(exc), "webhook_url_invalid")


def _invalid(field: str, code: str) -> Invalid:
    return Invalid("webhook_invalid", errors=[FieldError(field, code)])


async def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """Known filters, and a URL that may be called now (it is checked again at each try)."""
    actions, categories = check_filters(values.get("actions"), values.get("categories"))
    try:
        await ssrf.resolve(values["url"], ssrf.configured_allowlist())
    except ssrf.Refused as exc:
        raise _invalid("url", _refusal(exc)) from exc
    return {**values, "actions": actions, "categories": categories}


def _managed(ctx: Ctx) -> ColumnElement[bool]:
    return in_scope(WebhookSubscription.path, ctx.principal)


async def create_subscription(
    ctx: Ctx, key_id: uuid.UUID, fields: dict[str, Any]
) -> dict[str, Any]:
    """Subscribe a URL to the changes a key may read, from now on. The answer carries the
    signing secret, the only time it is shown. Audited (without the secret)."""
    key = await api_keys.managed_key(ctx, key_id)
    api_keys.require_active(ctx, key)
    if Perm.EVENT_READ.value not in key.operations:
        raise _invalid("api_key_id", "webhook_key_cannot_read_events")
    values = await _checked({"enabled": True, **fields})
    now = ctx.now()
    # The admin sees at least what the key sees, so nothing the key may read is older.
    start = await ctx.session.scalar(select(func.coalesce(func.max(EventAction.serial), 0)))
    secret = new_secret()
    subscription = WebhookSubscription(
        api_key_id=key.id,
        path=key.path,
        secret=secret,
        last_serial=start,
        created_at=now,
        updated_at=now,
        created_by=ctx.principal.user_id,
        **{name: values[name] for name in _FIELDS},
    )
    ctx.session.add(subscription)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="webhook.create",
        target_type="webhook_subscription",
        target_id=subscription.id,
        unit_path=key.path,
        after={name: values[name] for name in _FIELDS} | {"api_key_id": str(key.id)},
    )
    return {**await get_subscription(ctx, subscription.id), "secret": secret}


async def get_subscription(ctx: Ctx, subscription_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            select(*COLUMNS).where(WebhookSubscription.id == subscription_id, _managed(ctx))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("webhook_not_found")
    return dict(row._mapping)


async def list_subscriptions(
    ctx: Ctx, key_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The subscriptions of a key of the caller's jurisdiction, by URL."""
    await api_keys.managed_key(ctx, key_id)
    return await paginate(
        ctx.session,
        select(*COLUMNS).where(WebhookSubscription.api_key_id == key_id, _managed(ctx)),
        key=(WebhookSubscription.url, WebhookSubscription.id),
        limit=limit,
        cursor=cursor,
    )


async def update_subscription(
    ctx: Ctx, subscription_id: uuid.UUID, changes_: dict[str, Any], *, expected_version: int | None
) -> dict[str, Any]:
    """Change the URL (checked again), the filters, or pause / resume. Audited."""
    subscription = (
        await ctx.session.execute(
            select(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id, _managed(ctx))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if subscription is None:
        raise NotFound("webhook_not_found")
    check_version(expected_version, subscription.version)
    before = {name: getattr(subscription, name) for name in _FIELDS}
    values = await _checked({**before, **changes_})
    for name in _FIELDS:
        setattr(subscription, name, values[name])
    subscription.version += 1
    subscription.updated_at = ctx.now()
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="webhook.update",
        target_type="webhook_subscription",
        target_id=subscription.id,
        unit_path=subscription.path,
        before=before,
        after={name: values[name] for name in _FIELDS},
    )
    return await get_subscription(ctx, subscription.id)


async def list_attempts(
    ctx: Ctx, subscription_id: uuid.UUID, *, ok: bool | None, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """The delivery log of a subscription, newest first."""
    await get_subscription(ctx, subscription_id)
    filters = [WebhookAttempt.subscription_id == subscription_id]
    if ok is not None:
        filters.append(WebhookAttempt.ok.is_(ok))
    total = (await ctx.session.execute(select(func.count()).where(*filters))).scalar_one()
    stmt = select(*ATTEMPT_COLUMNS).where(*filters)
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        stmt = stmt.where(WebhookAttempt.id < int(last_id))
    rows = (
        await ctx.session.execute(stmt.order_by(WebhookAttempt.id.desc()).limit(limit + 1))
    ).all()
    items = [dict(row._mapping) for row in rows[:limit]]
    next_cursor = encode_cursor([items[-1]["id"]]) if len(rows) > limit else None
    return Page(items=items, next_cursor=next_cursor, total=total)


def _message(subscription: WebhookSubscription, change: dict[str, Any]) -> dict[str, Any]:
    delivery_id = uuid.uuid4()
    body = {
        "id": delivery_id,
        "type": f"event.{change['action']}",
        "subscription_id": subscription.id,
        "data": {**change, "at": business_time(change["at"])},
    }
    return orjson.loads(
        orjson.dumps(
            {
                "subscription_id": subscription.id,
                "delivery_id": delivery_id,
                "event_id": change["event_id"],
                "action": change["action"],
                "body": body,
            },
            # Ids straight from the driver are its own UUID type: written as text.
            default=str,
        )
    )


async def fan_out(session: AsyncSession, clock: Clock) -> int:
    """Queue the new changes of every live subscription (enabled, its key active and allowed
    to read events); returns how many messages were queued. The caller commits."""
    now = clock.now()
    await set_scope(session, SYSTEM_SCOPE)
    rows = (
        await session.execute(
            select(WebhookSubscription, ApiKey)
            .join(ApiKey, ApiKey.id == WebhookSubscription.api_key_id)
            .where(
                WebhookSubscription.enabled,
                ApiKey.revoked_at.is_(None),
                ApiKey.expires_at > now,
                literal(Perm.EVENT_READ.value) == any_(ApiKey.operations),
            )
            .order_by(WebhookSubscription.id)
            .with_for_update(of=WebhookSubscription, skip_locked=True)
        )
    ).all()
    queued = 0
    for subscription, key in rows:
        # Read the feed as the key: its jurisdiction, under row-level security.
        ctx = Ctx(session=session, principal=api_keys.principal_of(key, "webhook"), clock=clock)
        await set_scope(session, key.path)
        while True:
            feed = await changes.changes(
                ctx, since=encode_cursor([subscription.last_serial]), limit=FEED_BATCH
            )
            for change in feed["items"]:
                if wants(subscription.actions, subscription.categories, change):
                    outbox.queue(
                        session, kind=KIND, payload=_message(subscription, change), now=now
                    )
                    queued += 1
            (subscription.last_serial,) = decode_cursor(feed["next_cursor"], 1)
            if len(feed["items"]) < FEED_BATCH:
                break
        await set_scope(session, SYSTEM_SCOPE)
    await session.flush()
    return queued


async def fan_out_as_system(
    maker: async_sessionmaker[AsyncSession], clock: Clock
) -> dict[str, int]:
    async with system_session(maker) as session:
        return {"queued": await fan_out(session, clock)}


@dataclass
class WebhookSender:
    """Delivers the outbox's `webhook` messages: signs the body with the subscription's
    secret, posts it through the SSRF guard and logs the attempt (in a transaction of its
    own, so the log keeps failures too). A subscription paused or a key revoked since the
    change was queued drops the message (logged, not retried)."""

    sessions: Callable[[], AsyncSession]
    clock: Clock
    allowlist: tuple[IPNetwork, ...] | None = None
    limits: ssrf.Limits = field(default_factory=ssrf.Limits)

    async def deliver(self, payload: Mapping[str, Any]) -> None:
        async with self.sessions() as session:
            await set_scope(session, SYSTEM_SCOPE)
            error = await self._attempt(session, payload)
            await session.commit()
        if error is not None:
            raise DeliveryFailed(error)

    async def _attempt(self, session: AsyncSession, payload: Mapping[str, Any]) -> str | None:
        """One try, logged; the error when it should be tried again."""
        now = self.clock.now()
        delivery_id = uuid.UUID(payload["delivery_id"])
        row = (
            await session.execute(
                select(WebhookSubscription, ApiKey)
                .join(ApiKey, ApiKey.id == WebhookSubscription.api_key_id)
                .where(WebhookSubscription.id == uuid.UUID(payload["subscription_id"]))
            )
        ).one_or_none()
        if row is None:
            return None
        subscription, key = row
        attempt = 1 + (
            await session.scalar(
                select(func.count()).where(WebhookAttempt.delivery_id == delivery_id)
            )
            or 0
        )
        log = WebhookAttempt(
            subscription_id=subscription.id,
            path=subscription.path,
            delivery_id=delivery_id,
            event_id=uuid.UUID(payload["event_id"]),
            action=payload["action"],
            attempt=attempt,
            at=now,
            ok=False,
            duration_ms=0,
        )
        session.add(log)
        live = state(expires_at=key.expires_at, revoked_at=key.revoked_at, now=now)
        if not subscription.enabled or live is not KeyState.ACTIVE:
            log.error = "dropped: subscription paused or key no longer active"
            return None
        body = orjson.dumps(payload["body"])
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "grid-webhooks/1",
            SIGNATURE_HEADER: sign(subscription.secret, int(now.timestamp()), body),
            DELIVERY_HEADER: str(delivery_id),
            EVENT_HEADER: payload["body"]["type"],
        }
        started = time.monotonic()
        error = await self._post(subscription.url, body, headers, log)
        log.duration_ms = int((time.monotonic() - started) * 1000)
        log.ok, log.error = error is None, error
        return error

    async def _post(
        self, url: str, body: bytes, headers: dict[str, str], log: WebhookAttempt
    ) -> str | None:
        allowlist = ssrf.configured_allowlist() if self.allowlist is None else self.allowlist
        try:
            target = await ssrf.resolve(url, allowlist)
            reply = await ssrf.post(target, body, headers, self.limits)
        except ssrf.Refused as exc:
            return _refusal(exc)
        except (httpx.HTTPError, TimeoutError, ssrf.ResponseTooLarge) as exc:
            return f"{type(exc).__name__}: {exc}"[:1000]
        log.status_code = reply.status_code
        if 200 <= reply.status_code < 300:
            return None
        excerpt = reply.excerpt.decode("utf-8", "replace")[:200]
        return f"HTTP {reply.status_code}: {excerpt}"
