"""`Idempotency-Key` on POST (API.md): the same key with the same body replays the stored
response (status, body and the headers a client acts on); the same key with another body is
a 422; a key still in flight is a 409. What is stored and for how long: `services.idempotency`.

Keys belong to the caller (token subject or API key), so one caller cannot replay another's.
An API key counts whether it comes as the X-API-Key header or, Open311 style (R-API-2), as
the `api_key` query or form argument.
"""

import hashlib
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem
from services import idempotency
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
        if not key:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()

        async def replay_body() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        owner = _owner(scope, headers, body)
        if owner is None:
            await self.app(scope, replay_body, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            await problem(request, 400, "bad_request")(scope, receive, send)
            return
        fingerprint = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()
        claim = idempotency.Request(owner, key, scope["method"], scope["path"], fingerprint)
        state = scope["app"].state
        maker = state.sessionmaker
        clock: Clock = state.clock

        if not await idempotency.claim(maker, claim, clock.now()):
            stored = await idempotency.stored(maker, claim)
            if stored is None or stored.body_hash != fingerprint:
                await problem(request, 422, "idempotency_key_reused")(scope, receive, send)
            elif stored.status_code is None:
                await problem(request, 409, "idempotency_in_progress")(scope, receive, send)
            else:
                await _replay(stored, send)
            return

        status = 500
        response_headers: dict[str, str] = {}
        response_body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = dict(Headers(raw=message["headers"]).items())
            elif message["type"] == "http.response.body":
                response_body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await idempotency.settle(
                maker,
                claim,
                status=status,
                headers=response_headers,
                body=bytes(response_body),
            )


def _owner(scope: Scope, headers: Headers, body: bytes) -> str | None:
    api_key = headers.get("x-api-key") or _argument_key(scope, headers, body)
    if api_key:
        return "key:" + hashlib.sha256(api_key.encode()).hexdigest()[:32]
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        subject = unverified_subject(authorization[7:].strip())
        return f"user:{subject}" if subject else None
    return None


def _argument_key(scope: Scope, headers: Headers, body: bytes) -> str | None:
    """The `api_key` argument of the query string or of a URL-encoded form body."""
    found = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("api_key")
    if not found and headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        found = parse_qs(body.decode("utf-8", "replace")).get("api_key")
    return found[0] if found else None


async def _replay(stored: IdempotencyRecord, send: Send) -> None:
    body = stored.response_body or b""
    headers = [(name.encode(), value.encode()) for name, value in stored.response_headers.items()]
    headers.append((b"idempotent-replayed", b"true"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
