"""Open311 GeoReport v2 (R-API-2) under `/open311/v2/`: discovery, services, service
definitions, requests (GET and POST), a request by id, tokens — each in XML or JSON, chosen
by the extension. Reads are public as the spec says ("Requires API Key: No"): they show the
published requests only. Errors are the spec's {code, description} arrays with 400, 403 or
404, never problem+json."""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import Response

from api import open311_format
from api.deps import ClockDep, Session
from api.errors import language
from domain import errors as e
from domain import open311
from domain.messages import render
from domain.open311 import Format
from domain.principal import PUBLIC, Principal
from services import open311 as service
from services.context import Ctx

PREFIX = "/open311/v2"


def _format_of(request: Request) -> Format:
    try:
        return Format(request.path_params.get("format", ""))
    except ValueError:
        return Format.XML  # the format every endpoint must support


def _status(exc: e.DomainError) -> int:
    """ "404 for resources that don't exist, 403 for errors because of wrong or missing
    api_key and basically 400 for any other error"."""
    if isinstance(exc, e.NotFound):
        return 404
    if isinstance(exc, e.PermissionDenied | e.Unauthenticated):
        return 403
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
            fmt, lang = _format_of(request), language(request)
            try:
                return await handler(request)
            except e.DomainError as exc:
                return open311_format.errors(fmt, _status(exc), _descriptions(exc, lang))
            except RequestValidationError as exc:
                fields = [".".join(str(p) for p in err.get("loc", ())[1:]) for err in exc.errors()]
                invalid = render("open311_field_invalid", {"name": ", ".join(fields)}, lang)
                return open311_format.errors(fmt, 400, [invalid])

        return route


router = APIRouter(prefix=PREFIX, tags=["open311"], route_class=Open311Route)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/xml": {}, "application/json": {}}},
    400: {"description": "The spec's error array"},
    404: {"description": "The spec's error array"},
}


def response_format(format: str) -> Format:
    """The extension names the format; any other is a resource that does not exist."""
    try:
        return Format(format)
    except ValueError:
        raise e.NotFound("open311_format_unknown") from None


Fmt = Annotated[Format, Depends(response_format)]
JurisdictionId = Annotated[str | None, Query(max_length=64)]


async def reader_ctx(request: Request, session: Session, clock: ClockDep) -> Ctx:
    """The context of a public read; the query itself limits what it shows."""
    return Ctx(session=session, principal=PUBLIC, clock=clock, request_id=request.state.request_id)


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
NO_KEY: Principal | None = None


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
    found = await service.list_requests(ctx, NO_KEY, scope, flt)
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
        ctx, NO_KEY, scope, service_request_id, extensions=extensions == "true"
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
