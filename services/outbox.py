"""The outbox (R-WF-5): messages written in the transaction that caused them and delivered
by the worker afterwards, so a message is never lost when the worker or Redis is down and
never sent for a change that rolled back.

Delivery is at least once: a batch is claimed with `FOR UPDATE SKIP LOCKED` (workers in
parallel take different rows), each message is marked sent or rescheduled with backoff, and a
message that keeps failing is set aside as failed, never deleted."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.delivery import gives_up, retry_delay
from services.clock import Clock
from services.db import system_session
from services.models import OutboxMessage

BATCH = 100


class DeliveryFailed(Exception):
    """The receiver did not take the message; the outbox tries again later."""


class Sender(Protocol):
    """Delivers one kind of outbox message (an SMS gateway, a webhook poster …)."""

    async def deliver(self, payload: Mapping[str, Any]) -> None: ...


def queue(session: AsyncSession, *, kind: str, payload: dict[str, Any], now: datetime) -> None:
    """Add a message to deliver after the caller's transaction commits (never before)."""
    session.add(OutboxMessage(kind=kind, payload=payload, created_at=now, available_at=now))


async def _deliver(senders: Mapping[str, Sender], message: OutboxMessage) -> None:
    sender = senders.get(message.kind)
    if sender is None:
        raise DeliveryFailed(f"no sender for {message.kind!r}")
    await sender.deliver(message.payload)


def _failed(message: OutboxMessage, error: str, now: datetime) -> None:
    message.attempts += 1
    message.last_error = error[:1000]
    if gives_up(message.attempts):
        message.failed_at = now
    else:
        message.available_at = now + retry_delay(message.attempts)


async def drain_once(
    session: AsyncSession, senders: Mapping[str, Sender], now: datetime, *, batch: int
) -> dict[str, int]:
    """Deliver one batch of due messages; the caller commits."""
    messages = (
        await session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.sent_at.is_(None),
                OutboxMessage.failed_at.is_(None),
                OutboxMessage.available_at <= now,
            )
            .order_by(OutboxMessage.available_at, OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    counts = {"sent": 0, "retried": 0, "failed": 0}
    for message in messages:
        try:
            await _deliver(senders, message)
        except DeliveryFailed as exc:
            _failed(message, str(exc), now)
            counts["failed" if message.failed_at else "retried"] += 1
        else:
            message.sent_at = now
            counts["sent"] += 1
    await session.flush()
    return counts


async def drain(
    maker: async_sessionmaker[AsyncSession],
    senders: Mapping[str, Sender],
    clock: Clock,
    *,
    batch: int = BATCH,
) -> dict[str, int]:
    """Deliver due messages batch by batch (each batch its own transaction) until none is
    left or a batch delivered nothing; returns the totals."""
    totals = {"sent": 0, "retried": 0, "failed": 0}
    while True:
        async with system_session(maker) as session:
            counts = await drain_once(session, senders, clock.now(), batch=batch)
        for key, value in counts.items():
            totals[key] += value
        if sum(counts.values()) < batch or counts["sent"] == 0:
            return totals
