"""Request bodies are bounded before any route reads them: a body that is not a multipart
upload is refused past `MAX_BODY` (the Content-Length is trusted to refuse early, the stream
is counted because it may lie or be absent), and a JSON body nested deeper than `MAX_DEPTH`
or holding more than `MAX_CONTAINERS` arrays and objects is refused before a parser
recurses into it or spends seconds on it. Multipart uploads carry files and are capped by
their own routes (attachments, imports)."""

import re
from itertools import accumulate

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import problem

MIB = 1024 * 1024
MAX_BODY = 10 * MIB
# The deepest legitimate body is a MultiPolygon inside a request (about eight levels).
MAX_DEPTH = 32
# Arrays and objects in one body: a polygon at the vertex limit (domain/geo.py) fits twice
# over; beyond that parsing alone takes seconds, and bulk data comes as an import file.
MAX_CONTAINERS = 200_000

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_shape(body: bytes) -> tuple[int, int]:
    """The number of arrays and objects in a JSON text and its nesting depth, counted on its
    brackets outside strings (no parse, so no recursion however deep the text is)."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKET)
    containers = brackets.count(b"[") + brackets.count(b"{")
    if containers > MAX_CONTAINERS:
        return containers, 0  # refused on the count; the depth is not worth the time
    return containers, max(accumulate(_STEP[b] for b in brackets), default=0)


def _is_json(content_type: str) -> bool:
    """A body that says it is JSON. One that says nothing may be raw bytes (an upload chunk),
    whose brackets mean nothing, and FastAPI does not read it as JSON either."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class BodyGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "")
        if content_type.lower().startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        too_large = problem(
            request,
            413,
            "body_too_large",
            params={"limit_mb": MAX_BODY // MIB},
            title_code="too_large",
        )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            await too_large(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                await too_large(scope, receive, send)
                return
        if _is_json(content_type):
            containers, depth = json_shape(bytes(body))
            refusal = (
                _bad(request, "json_too_complex", MAX_CONTAINERS)
                if containers > MAX_CONTAINERS
                else _bad(request, "json_too_deep", MAX_DEPTH)
                if depth > MAX_DEPTH
                else None
            )
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, _replay(bytes(body), receive), send)


def _bad(request: Request, code: str, limit: int) -> Response:
    return problem(request, 400, code, params={"max": limit}, title_code="bad_request")


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body read here, then the client's own channel (so a disconnect still arrives)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
