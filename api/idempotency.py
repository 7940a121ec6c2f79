"""`Idempotency-Key` on POST (API.md): the same key with the same body replays the stored
response; the same key with another body is a 422; a key still in flight is a 409.

Keys belong to the caller (token subject or API key), so one caller cannot replay another's.
Responses of 5xx are not stored, so a retry after a server fault runs again.
"""

import hashlib
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from services.clock import Clock
from services.models import IdempotencyRecord
from services.tokens import unverified_subject

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        owner = _owner(headers)
        if not key or owner is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        if len(key) > MAX_KEY_LENGTH:
            await problem(request, 400, "bad_request")(scope, receive, send)
            return
        body = await request.body()
        fingerprint = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        state = scope["app"].state
        maker: async_sessionmaker[AsyncSession] = state.sessionmaker
        clock: Clock = state.clock

        claimed = await _claim(maker, owner, key, scope, fingerprint, clock.now())
        if not claimed:
            stored = await _stored(maker, owner, key)
            if stored is None or stored.body_hash != fingerprint:
                await problem(request, 422, "idempotency_key_reused")(scope, receive, send)
            elif stored.status_code is None:
                await problem(request, 409, "idempotency_in_progress")(scope, receive, send)
            else:
                await _replay(stored, send)
            return

        captured: dict[str, object] = {"status": 500, "type": None, "body": bytearray()}

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["type"] = Headers(raw=message["headers"]).get("content-type")
            elif message["type"] == "http.response.body":
                buffer = captured["body"]
                assert isinstance(buffer, bytearray)
                buffer.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await _settle(maker, owner, key, captured)


def _owner(headers: Headers) -> str | None:
    api_key = headers.get("x-api-key")
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        subject = unverified_subject(authorization[7:].strip())
        return f"user:{subject}" if subject else None
    return None


async def _claim(
    maker: async_sessionmaker[AsyncSession],
    owner: str,
    key: str,
    scope: Scope,
    fingerprint: str,
    now: datetime,
) -> bool:
    async with maker() as session, session.begin():
        inserted = await session.execute(
            insert(IdempotencyRecord)
            .values(
                owner=owner,
                key=key,
                method=scope["method"],
                path=scope["path"][:512],
                body_hash=fingerprint,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecord.key)
        )
        return inserted.first() is not None


async def _stored(
    maker: async_sessionmaker[AsyncSession], owner: str, key: str
) -> IdempotencyRecord | None:
    async with maker() as session:
        return (
            await session.execute(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.owner == owner, IdempotencyRecord.key == key
                )
            )
        ).scalar_one_or_none()


async def _settle(
    maker: async_sessionmaker[AsyncSession], owner: str, key: str, captured: dict[str, object]
) -> None:
    status = captured["status"]
    assert isinstance(status, int)
    where = (IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    async with maker() as session, session.begin():
        if status >= 500:
            await session.execute(delete(IdempotencyRecord).where(*where))
            return
        body = captured["body"]
        assert isinstance(body, bytearray)
        await session.execute(
            update(IdempotencyRecord)
            .where(*where)
            .values(
                status_code=status,
                content_type=captured["type"],
                response_body=bytes(body),
            )
        )


async def _replay(stored: IdempotencyRecord, send: Send) -> None:
    headers = [(b"idempotent-replayed", b"true")]
    if stored.content_type:
        headers.append((b"content-type", stored.content_type.encode()))
    body = stored.response_body or b""
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
