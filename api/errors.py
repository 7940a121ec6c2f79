"""The one error-mapping table: domain error classes → HTTP status, rendered as problem+json
(RFC 9457) with a stable `code` and a message in the caller's language."""

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import (
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api import open311_format
from domain import errors as e
from domain.masking import scrub
from domain.messages import render

log = logging.getLogger(__name__)

STATUS: dict[type[e.DomainError], int] = {
    e.BadRequest: 400,
    e.Unauthenticated: 401,
    e.PermissionDenied: 403,
    e.NotFound: 404,
    e.Conflict: 409,
    e.PreconditionFailed: 412,
    e.TooLarge: 413,
    e.Invalid: 422,
    e.RateLimited: 429,
}

PROBLEM_JSON = "application/problem+json"


def language(request: Request) -> str:
    accept = request.headers.get("accept-language", "").strip().lower()
    return "en" if accept.startswith("en") else "zh"


def problem(
    request: Request,
    status: int,
    code: str,
    *,
    params: dict[str, Any] | None = None,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    title_code: str | None = None,
) -> Response:
    lang = language(request)
    body: dict[str, Any] = {
        "type": f"urn:grid:problem:{code}",
        "title": render(title_code or code, {}, lang),
        "status": status,
        "detail": render(code, params or {}, lang),
        "code": code,
        "errors": errors or [],
    }
    body.update(extra or {})
    # An error body is seen by whoever sent the request but is also logged and stored by
    # clients and proxies: a full ID or phone number it quotes (a file's header row, a
    # username taken) goes out masked, whoever asks (R-JUR-3).
    return Response(
        orjson.dumps(scrub(body)), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


def _status_of(exc: e.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.DomainError)
    lang = language(request)
    field_errors = [
        {"field": fe.field, "message": render(fe.code, fe.params, lang)} for fe in exc.errors
    ]
    return problem(
        request,
        _status_of(exc),
        exc.code,
        params=exc.params,
        errors=field_errors,
        extra={k: v for k, v in exc.extra.items() if k != "headers"},
        headers=exc.extra.get("headers"),
        title_code=type(exc).default_code,
    )


_PYDANTIC_CODES = {"missing": "field_required", "extra_forbidden": "field_forbidden"}


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = language(request)
    raw = exc.errors()
    if any(err.get("type") == "json_invalid" for err in raw):
        return problem(request, 400, "bad_request")
    field_errors = []
    for err in raw:
        location = [str(part) for part in err.get("loc", ()) if part not in ("body",)]
        code = _PYDANTIC_CODES.get(err.get("type", ""), "field_invalid")
        field_errors.append(
            {
                "field": ".".join(location),
                "message": render(code, {"detail": err.get("msg", "")}, lang),
            }
        )
    return problem(request, 422, "validation_failed", errors=field_errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "route_not_found", 405: "method_not_allowed"}.get(exc.status_code, "error")
    path = request.url.path
    if path.startswith(open311_format.PATH_PREFIX):
        # R-API-2: under the Open311 endpoint even an unknown path answers in the spec's
        # error format ("404 for resources that don't exist … 400 for any other error").
        status = 404 if exc.status_code == 404 else 400
        message = render(code, {}, language(request))
        return open311_format.errors(open311_format.format_of(path), status, [message])
    return problem(request, exc.status_code, code, headers=getattr(exc, "headers", None))


# SQLSTATE class 22, "data exception": the database refuses a value it was handed (a NUL
# character in text, a number or date beyond its type). Whatever slipped past the schemas,
# it is the caller's data, so a 422; the request's transaction is rolled back.
_DATA_EXCEPTION = "22"
# The server is out of reach, going down or starting up, or out of connections: class 08
# "connection exception", 57P01-57P03 (admin or crash shutdown, cannot connect now) and
# 53300 "too many connections".
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")
# How long a client should wait before trying again: the pool tests each connection before
# handing it out (`pool_pre_ping`), so the first request after the server is back succeeds.
RETRY_AFTER_SECONDS = 5


def _sqlstate(exc: DBAPIError) -> str:
    orig = exc.orig
    code = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    return str(code or "")


def database_unreachable(exc: BaseException) -> bool:
    """PostgreSQL could not be reached or dropped the connection, or the pool had none to
    give in time: nothing the request did, so a 503 to retry, not a 500."""
    if isinstance(exc, PoolTimeout | OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or _sqlstate(exc).startswith(_UNREACHABLE_STATES)
    )


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SQLAlchemyError)
    if isinstance(exc, DBAPIError) and _sqlstate(exc).startswith(_DATA_EXCEPTION):
        return problem(request, 422, "value_unstorable")
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # Also the last resort for what the middlewares raise (an idempotent POST reads its key
    # from the database before any route runs), so the outage is told apart here.
    if database_unreachable(exc):
        log.warning("database unavailable: %s", getattr(exc, "orig", None) or exc)
        return problem(
            request,
            503,
            "database_unavailable",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            title_code="service_unavailable",
        )
    log.exception("unhandled error", exc_info=exc)
    return problem(request, 500, "internal_error")


def _problem_documents(document: dict[str, Any]) -> dict[str, Any]:
    """Error responses are declared as what they are: application/problem+json carrying the
    Problem schema (FastAPI files a response model under application/json)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and PROBLEM_JSON in content and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return document


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_documents(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    app.add_exception_handler(e.DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(SQLAlchemyError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
