"""Stored responses behind `Idempotency-Key` (API.md): claim a key, settle it with the
response, read it back for a replay, and purge the keys that have expired.

A key lives for 24 hours: after that the same key runs the request afresh, and the worker's
hourly purge removes it. Only responses a retry could not change are kept: a refusal for
authentication (401), permission (403) or rate (429), or a server fault (5xx), may succeed
on the next attempt, so the key is released instead.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.clock import Clock
from services.models import IdempotencyRecord

TTL = timedelta(hours=24)
# The response headers a replay repeats: what a client acts on after a create.
REPLAYED_HEADERS = ("content-type", "etag", "location")
_RETRYABLE = frozenset({401, 403, 429})


def keeps(status: int) -> bool:
    """Whether a response with this status is stored for replays."""
    return status < 500 and status not in _RETRYABLE


@dataclass(frozen=True)
class Request:
    owner: str
    key: str
    method: str
    path: str
    fingerprint: str


def _same_key(request: Request) -> ColumnElement[bool]:
    return and_(IdempotencyRecord.owner == request.owner, IdempotencyRecord.key == request.key)


async def claim(maker: async_sessionmaker[AsyncSession], request: Request, now: datetime) -> bool:
    """Take the key for this request; False when it is already taken and not yet expired.
    An expired record of the key gives way to the new request."""
    async with maker() as session, session.begin():
        await session.execute(
            delete(IdempotencyRecord).where(
                _same_key(request), IdempotencyRecord.created_at <= now - TTL
            )
        )
        inserted = await session.execute(
            insert(IdempotencyRecord)
            .values(
                owner=request.owner,
                key=request.key,
                method=request.method,
                path=request.path[:512],
                body_hash=request.fingerprint,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        return inserted.first() is not None


async def stored(
    maker: async_sessionmaker[AsyncSession], request: Request
) -> IdempotencyRecord | None:
    async with maker() as session:
        return (
            await session.execute(select(IdempotencyRecord).where(_same_key(request)))
        ).scalar_one_or_none()


async def settle(
    maker: async_sessionmaker[AsyncSession],
    request: Request,
    *,
    status: int,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Store the response for replays, or release the key when a retry might succeed."""
    async with maker() as session, session.begin():
        if not keeps(status):
            await session.execute(delete(IdempotencyRecord).where(_same_key(request)))
            return
        await session.execute(
            update(IdempotencyRecord)
            .where(_same_key(request))
            .values(
                status_code=status,
                response_headers={k: v for k, v in headers.items() if k in REPLAYED_HEADERS},
                response_body=body,
            )
        )


async def purge_expired(maker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    """Delete every key older than the TTL; how many went."""
    async with maker() as session, session.begin():
        gone = await session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at <= clock.now() - TTL)
            .returning(IdempotencyRecord.key)
        )
        return len(gone.all())
