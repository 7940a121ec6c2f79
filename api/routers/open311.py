"""Open311 GeoReport v2 (R-API-2) under `/open311/v2/`: discovery, services, service
definitions, requests (GET and POST), a request by id, tokens — each in XML or JSON, chosen
by the extension. Reads are public as the spec says ("Requires API Key: No") and show the
published requests; with an agency's `api_key` (or `X-API-Key`) they show what the key may
see. Filing takes a key holding `event:report`, whose scope bounds where. Errors are the
spec's {code, description} arrays with 400, 403 or 404 (429 over a key's rate limit), never
problem+json."""

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import Response

from api import open311_format
from api.deps import API_KEY_HEADER, ClockDep, RedisDep, Requires, Session, key_principal
from api.errors import language
from domain import errors as e
from domain import open311
from domain.messages import render
from domain.open311 import Format
from domain.permissions import Perm
from domain.principal import PUBLIC, Principal
from services import open311 as service
from services import throttle
from services.context import Ctx

PREFIX = "/open311/v2"


def _status(exc: e.DomainError) -> int:
    """ "404 for resources that don't exist, 403 for errors because of wrong or missing
    api_key and basically 400 for any other error"."""
    if isinstance(exc, e.NotFound):
        return 404
    if isinstance(exc, e.PermissionDenied | e.Unauthenticated):
        return 403
    if isinstance(exc, e.RateLimited):
        return 429
    return 400


def _descriptions(exc: e.DomainError, lang: str) -> list[str]:
    first = render(exc.code, exc.params, lang)
    return [first] + [f"{fe.field}: {render(fe.code, fe.params, lang)}" for fe in exc.errors]


class Open311Route(APIRoute):
    """Renders every failure of an Open311 route as the spec's error document in the
    requested format (the transaction has been rolled back by then)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            fmt, lang = open311_format.format_of(request.url.path), language(request)
            try:
                return await handler(request)
            except e.DomainError as exc:
                response = open311_format.errors(fmt, _status(exc), _descriptions(exc, lang))
                response.headers.update(exc.extra.get("headers", {}))
                return response
            except RequestValidationError as exc:
                fields = [".".join(str(p) for p in err.get("loc", ())[1:]) for err in exc.errors()]
                invalid = render("open311_field_invalid", {"name": ", ".join(fields)}, lang)
                return open311_format.errors(fmt, 400, [invalid])

        return route


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}, "application/json": {}}},
    400: {"description": "The spec's error array"},
    403: {"description": "The spec's error array: a missing, invalid or not allowed key"},
    404: {"description": "The spec's error array"},
    429: {"description": "The spec's error array: over the key's rate limit"},
}


def response_format(format: str) -> Format:
    """The extension names the format; any other is a resource that does not exist."""
    try:
        return Format(format)
    except ValueError:
        raise e.NotFound("open311_format_unknown") from None


Fmt = Annotated[Format, Depends(response_format)]
JurisdictionId = Annotated[str | None, Query(max_length=64)]


async def _agency(
    request: Request, session: Session, clock: ClockDep, redis: RedisDep, raw: str
) -> Principal:
    """The agency of a presented key; any failure to be one is the spec's 403."""
    try:
        return await key_principal(request, session, redis, raw, clock)
    except e.Unauthenticated as exc:
        raise e.PermissionDenied("open311_api_key_invalid") from exc


# Public reads from one client address per hour (a key counts against its own limit).
PUBLIC_READS_PER_HOUR = 1200


async def reader_ctx(
    request: Request,
    session: Session,
    clock: ClockDep,
    redis: RedisDep,
    api_key: Annotated[str | None, Query(max_length=200)] = None,
) -> Ctx:
    """A read: public, throttled per client address, or the agency of the `api_key` given
    (the query argument or the X-API-Key header). The query itself limits what either sees."""
    raw = api_key or request.headers.get(API_KEY_HEADER)
    if raw:
        principal = await _agency(request, session, clock, redis, raw)
    else:
        await throttle.hit(
            redis,
            name="open311",
            subject=request.client.host if request.client else "unknown",
            limit=PUBLIC_READS_PER_HOUR,
            window_seconds=3600,
            now=clock.now(),
        )
        principal = PUBLIC
    return Ctx(
        session=session, principal=principal, clock=clock, request_id=request.state.request_id
    )


def _key(ctx: Ctx) -> Principal | None:
    return ctx.principal if ctx.principal.api_key_id is not None else None


ReaderCtx = Annotated[Ctx, Depends(reader_ctx)]


@router.get("/discovery.{format}", response_class=Response, responses=_RESPONSES)
async def discovery(request: Request, fmt: Fmt) -> Response:
    """Service Discovery: where the GeoReport v2 endpoint is, its formats, how to get a key."""
    url = str(request.base_url).rstrip("/") + PREFIX
    return open311_format.respond(fmt, "discovery", open311.discovery(url, language(request)))


@router.get("/services.{format}", response_class=Response, responses=_RESPONSES)
async def services(ctx: ReaderCtx, fmt: Fmt, jurisdiction_id: JurisdictionId = None) -> Response:
    """GET Service List: one service per event sub-type, grouped by category."""
    await service.jurisdiction(ctx, jurisdiction_id)
    listing = [s.listing() for s in open311.SERVICES]
    return open311_format.respond(fmt, "services", listing)


@router.get("/services/{service_code}.{format}", response_class=Response, responses=_RESPONSES)
async def service_definition(
    ctx: ReaderCtx, service_code: str, fmt: Fmt, jurisdiction_id: JurisdictionId = None
) -> Response:
    """GET Service Definition: the attributes a request of the service takes."""
    await service.jurisdiction(ctx, jurisdiction_id)
    definition = open311.definition(open311.find_service(service_code))
    return open311_format.respond(fmt, "service_definition", definition)


def _datetime(name: str, value: str | None) -> Any:
    return open311.parse_datetime(name, value) if value else None


def request_filter(
    service_request_id: Annotated[str | None, Query(max_length=4000)] = None,
    service_code: Annotated[str | None, Query(max_length=4000)] = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    updated_after: str | None = None,
    updated_before: str | None = None,
    page: Annotated[str | None, Query(max_length=9)] = None,
    page_size: Annotated[str | None, Query(max_length=9)] = None,
    extensions: str | None = None,
) -> service.RequestFilter:
    """The spec's arguments (comma-delimited lists, w3 datetimes) and the common extensions
    `updated_after`/`updated_before`, `page`/`page_size` and `extensions=true`."""
    try:
        number, size = int(page or 1), int(page_size or open311.MAX_PAGE_SIZE)
    except ValueError:
        number = size = 0
    if number < 1 or not 1 <= size <= open311.MAX_PAGE_SIZE:
        raise e.BadRequest("open311_page_invalid")
    return service.RequestFilter(
        service_request_ids=open311.split_list(service_request_id),
        service_codes=open311.split_list(service_code),
        start_date=_datetime("start_date", start_date),
        end_date=_datetime("end_date", end_date),
        statuses=open311.parse_statuses(status),
        updated_after=_datetime("updated_after", updated_after),
        updated_before=_datetime("updated_before", updated_before),
        page=number,
        page_size=size,
        extensions=extensions == "true",
    )


Filter = Annotated[service.RequestFilter, Depends(request_filter)]


@router.get("/requests.{format}", response_class=Response, responses=_RESPONSES)
async def list_requests(
    request: Request,
    ctx: ReaderCtx,
    fmt: Fmt,
    flt: Filter,
    jurisdiction_id: JurisdictionId = None,
) -> Response:
    """GET Service Requests: the published requests, newest first, a page at a time."""
    scope = await service.jurisdiction(ctx, jurisdiction_id)
    found = await service.list_requests(ctx, _key(ctx), scope, flt)
    lang = language(request)
    shown = [open311.present_request(item, lang) for item in found]
    return open311_format.respond(fmt, "service_requests", shown)


@router.get(
    "/requests/{service_request_id}.{format}", response_class=Response, responses=_RESPONSES
)
async def get_request(
    request: Request,
    ctx: ReaderCtx,
    service_request_id: str,
    fmt: Fmt,
    jurisdiction_id: JurisdictionId = None,
    extensions: str | None = None,
) -> Response:
    """GET Service Request: one request, as a list of one (the spec's shape)."""
    scope = await service.jurisdiction(ctx, jurisdiction_id)
    found = await service.get_request(
        ctx, _key(ctx), scope, service_request_id, extensions=extensions == "true"
    )
    shown = [open311.present_request(found, language(request))]
    return open311_format.respond(fmt, "service_requests", shown)


@router.get("/tokens/{token}.{format}", response_class=Response, responses=_RESPONSES)
async def token(
    ctx: ReaderCtx, token: str, fmt: Fmt, jurisdiction_id: JurisdictionId = None
) -> Response:
    """GET service_request_id from a token: the id once the request was taken in."""
    scope = await service.jurisdiction(ctx, jurisdiction_id)
    resolved = await service.resolve_token(ctx, scope, token)
    return open311_format.respond(fmt, "service_requests", [resolved])


# The form's own fields (POST Service Request); `attribute[code]` and `attribute[code][]`
# carry the service definition's answers.
_FORM_FIELDS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
    }
)
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")


async def _submission(request: Request) -> service.Submission:
    """The form as fields and attributes; an unknown argument, a repeated field or a file
    is refused (400)."""
    fields: dict[str, str] = {}
    attributes: dict[str, list[str]] = {}
    errors = []
    for name, value in (await request.form()).multi_items():
        attribute = _ATTRIBUTE.match(name)
        if not isinstance(value, str) or not (attribute or name in _FORM_FIELDS):
            errors.append(e.FieldError(name[:64], "open311_field_unknown", {"name": name[:64]}))
        elif attribute:
            attributes.setdefault(attribute.group(1), []).append(value)
        elif name in fields:
            errors.append(e.FieldError(name, "open311_field_invalid", {"name": name}))
        else:
            fields[name] = value
    if errors:
        raise e.BadRequest("open311_request_invalid", errors=errors)
    return service.Submission(fields=fields, attributes=attributes)


class KeyRequires(Requires):
    """The permission gate of POST Service Request: the agency's `api_key` (form field, query
    argument, or the X-API-Key header) must be valid and hold the permission — "403 -
    Missing or Invalid API Key" otherwise."""

    async def __call__(  # type: ignore[override]
        self, request: Request, session: Session, clock: ClockDep, redis: RedisDep
    ) -> Ctx:
        form = await request.form()
        raw = (
            form.get("api_key")
            or request.query_params.get("api_key")
            or request.headers.get(API_KEY_HEADER)
        )
        if not isinstance(raw, str) or not raw:
            raise e.PermissionDenied("open311_api_key_missing")
        principal = await _agency(request, session, clock, redis, raw)
        if not principal.can(self.permission):
            raise e.PermissionDenied("open311_api_key_not_allowed")
        return Ctx(
            session=session, principal=principal, clock=clock, request_id=request.state.request_id
        )


@router.post("/requests.{format}", status_code=201, response_class=Response, responses=_RESPONSES)
async def post_request(
    request: Request,
    ctx: Annotated[Ctx, Depends(KeyRequires(Perm.EVENT_REPORT))],
    fmt: Fmt,
) -> Response:
    """POST Service Request (form-encoded): filed as an event in the normal workflow;
    answers the id, a token or neither, as the service's type says."""
    submission = await _submission(request)
    scope = await service.jurisdiction(ctx, submission.fields.get("jurisdiction_id"))
    answer = await service.file_request(ctx, scope, submission)
    shown = [open311.present_answer(answer, language(request))]
    return open311_format.respond(fmt, "service_requests", shown, status=201)
