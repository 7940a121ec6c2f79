"""The Open311 GeoReport v2 facade (R-API-2): jurisdictions, service requests read from the
events, requests filed as events, and batch tokens.

Who sees which request: the public (no key) sees the requests filed through Open311 that
are published — never a public-security tip (blackbox), a dispute only once a handler took
it in. An agency's API key bounds everything to its scope; a key that may read events
(`event:read`) sees every event there, whatever its source.
"""

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from geoalchemy2.shape import to_shape
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import aliased

from domain import open311
from domain.addresses import normalise
from domain.errors import BadRequest, FieldError, NotFound
from domain.events import Category, Source
from domain.open311 import TAKEN_IN, Service, ServiceType, Status
from domain.permissions import Perm
from domain.principal import SYSTEM_SCOPE, Principal, within
from domain.workflow import State
from services import audit, events, grids
from services.context import Ctx, business_time
from services.db import set_scope
from services.jurisdiction import in_scope
from services.models import Address, Department, Event, EventStep, Open311Request, OrgUnit

Current = aliased(EventStep, name="current_step")
Handler = aliased(OrgUnit, name="handler_unit")


async def jurisdiction(ctx: Ctx, jurisdiction_id: str | None) -> str | None:
    """The path of the jurisdiction a call names: the code of a top unit of the tree (a city,
    or a district standing at the top). It may be left out while the tree has one top unit
    (400 otherwise); an unknown code is a 404. Top units are no secret, so they are read
    across the tree; the caller's own scope is restored afterwards."""
    await set_scope(ctx.session, SYSTEM_SCOPE)
    tops = select(OrgUnit.code, OrgUnit.path).where(
        OrgUnit.parent_id.is_(None), OrgUnit.deleted_at.is_(None)
    )
    if jurisdiction_id:
        path = (
            await ctx.session.execute(tops.where(OrgUnit.code == jurisdiction_id.strip()))
        ).one_or_none()
        if path is None:
            raise NotFound("open311_jurisdiction_not_found", params={"id": jurisdiction_id})
        found: str | None = path.path
    else:
        rows = (await ctx.session.execute(tops.limit(2))).all()
        if len(rows) > 1:
            raise BadRequest("open311_jurisdiction_required")
        found = None
    await set_scope(ctx.session, ctx.principal.scope)
    return found


def _published() -> ColumnElement[bool]:
    """Filed through Open311 and published by its service type: realtime at once, batch
    once taken in, blackbox never."""

    def of(kind: ServiceType) -> ColumnElement[bool]:
        return Event.category.in_([c.value for c in open311.categories_of(kind)])

    taken_in = Event.state.in_([state.value for state in TAKEN_IN])
    return and_(
        Event.source == Source.OPEN311.value,
        or_(of(ServiceType.REALTIME), and_(of(ServiceType.BATCH), taken_in)),
    )


def visible(key: Principal | None) -> ColumnElement[bool]:
    """The requests a caller may read: see the module docstring."""
    if key is None:
        return _published()
    bounded = events.visible(key)
    return bounded if key.can(Perm.EVENT_READ) else and_(bounded, _published())


_OPEN_STEP = and_(Event.state != State.CLOSED.value, Current.finished_at.is_(None))
# The current time limit (R-API-2 "expected_datetime is the current deadline"): the first
# card deadline of the open step's phase (LEAST skips the phase's empty columns).
_EXPECTED = case(
    (
        _OPEN_STEP,
        func.least(
            Current.accept_yellow_at,
            Current.accept_red_at,
            Current.handle_yellow_at,
            Current.handle_red_at,
        ),
    ),
    else_=None,
)

_COLUMNS = (
    Event.service_no,
    Event.category,
    Event.subtype,
    Event.state,
    Event.source,
    Event.description,
    Event.address,
    Event.created_at,
    Event.updated_at,
    func.ST_X(Event.location).label("lon"),
    func.ST_Y(Event.location).label("lat"),
    Open311Request.media_url,
    func.coalesce(Department.name, Handler.name).label("agency_responsible"),
    _EXPECTED.label("expected_at"),
)


def _query(key: Principal | None, scope: str | None) -> Any:
    stmt = (
        select(*_COLUMNS)
        .outerjoin(Open311Request, Open311Request.event_id == Event.id)
        .outerjoin(Current, Current.id == Event.current_step_id)
        .outerjoin(Handler, Handler.id == Current.unit_id)
        .outerjoin(Department, Department.id == Current.department_id)
        .where(visible(key))
    )
    if scope is not None:
        stmt = stmt.where(Event.path.op("<@")(func.text2ltree(scope)))
    return stmt


def _request(row: Any, *, extensions: bool) -> dict[str, Any]:
    """A selected row as a GeoReport service request (times in the business zone)."""
    category, state = Category(row.category), State(row.state)
    service = Service(category, row.subtype)
    request: dict[str, Any] = {
        "service_request_id": row.service_no,
        "status": open311.status_of(state).value,
        "state": state,
        "service_name": service.name,
        "service_code": service.code,
        "description": row.description,
        "agency_responsible": row.agency_responsible,
        "service_type": service.type,
        "requested_datetime": business_time(row.created_at),
        "updated_datetime": business_time(row.updated_at),
        "expected_datetime": business_time(row.expected_at) if row.expected_at else None,
        "address": row.address,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.media_url,
    }
    if extensions:
        request["extended_attributes"] = {
            "state": state.value,
            "category": category.value,
            "subtype": row.subtype,
            "channel": row.source,
        }
    return request


@dataclass(frozen=True)
class RequestFilter:
    """GET Service Requests: the spec's arguments and the paging/updated extensions."""

    service_request_ids: list[str] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start_date: datetime | None = None
    end_date: datetime | None = None
    statuses: list[Status] = field(default_factory=list)
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    page: int = 1
    page_size: int = open311.MAX_PAGE_SIZE
    extensions: bool = False


def _requested_window(flt: RequestFilter, now: datetime) -> tuple[datetime, datetime] | None:
    """start_date/end_date on requested_datetime: "may not span more than 90 days"; "when
    not specified, the range defaults to most recent 90 days" — unless the caller filters
    on the update time instead (the updated_after/before extension asks for changes)."""
    span = timedelta(days=open311.DEFAULT_SPAN_DAYS)
    if flt.start_date is None and flt.end_date is None:
        if flt.updated_after is not None or flt.updated_before is not None:
            return None
        return now - span, now
    if flt.start_date is not None:
        start = flt.start_date
        end = flt.end_date or start + span
    else:
        assert flt.end_date is not None
        start, end = flt.end_date - span, flt.end_date
    if end < start:
        raise BadRequest("open311_date_range_invalid")
    if end - start > span:
        raise BadRequest("open311_date_range_too_long")
    return start, end


def _argument_service(code: str | None) -> Service:
    """The service an argument names. An unknown code in an argument (not in the URL) is a
    request that "can not be fulfilled as expected" — 400, as issue 5 also asks of POST —
    while GET Service Definition answers 404 for the resource it cannot find."""
    try:
        return open311.find_service(code)
    except NotFound as exc:
        raise BadRequest("open311_service_code_invalid", params=exc.params) from exc


def _where(flt: RequestFilter, now: datetime) -> list[ColumnElement[bool]]:
    # "service_request_id … This overrides all other arguments."
    if flt.service_request_ids:
        return [Event.service_no.in_(flt.service_request_ids)]
    conditions: list[ColumnElement[bool]] = []
    if flt.service_codes:
        services = [_argument_service(code) for code in flt.service_codes]
        conditions.append(
            or_(
                *(
                    and_(Event.category == s.category.value, Event.subtype == s.subtype)
                    for s in services
                )
            )
        )
    window = _requested_window(flt, now)
    if window is not None:
        conditions += [Event.created_at >= window[0], Event.created_at <= window[1]]
    if flt.statuses:
        wanted = set(flt.statuses)
        if wanted == {Status.CLOSED}:
            conditions.append(Event.state == State.CLOSED.value)
        elif wanted == {Status.OPEN}:
            conditions.append(Event.state != State.CLOSED.value)
    if flt.updated_after is not None:
        conditions.append(Event.updated_at > flt.updated_after)
    if flt.updated_before is not None:
        conditions.append(Event.updated_at < flt.updated_before)
    return conditions


async def list_requests(
    ctx: Ctx, key: Principal | None, scope: str | None, flt: RequestFilter
) -> list[dict[str, Any]]:
    """GET Service Requests, newest first, one page (the `page`/`page_size` extension)."""
    stmt = (
        _query(key, scope)
        .where(*_where(flt, ctx.now()))
        .order_by(Event.created_at.desc(), Event.id.desc())
        .offset((flt.page - 1) * flt.page_size)
        .limit(flt.page_size)
    )
    rows = (await ctx.session.execute(stmt)).all()
    return [_request(row, extensions=flt.extensions) for row in rows]


async def get_request(
    ctx: Ctx, key: Principal | None, scope: str | None, service_request_id: str, *, extensions: bool
) -> dict[str, Any]:
    """GET Service Request: 404 for an id nobody may see here."""
    row = (
        await ctx.session.execute(_query(key, scope).where(Event.service_no == service_request_id))
    ).one_or_none()
    if row is None:
        raise NotFound("open311_request_not_found", params={"id": service_request_id})
    return _request(row, extensions=extensions)


async def resolve_token(ctx: Ctx, scope: str | None, token: str) -> dict[str, Any]:
    """GET service_request_id from a token: the id once the request has been taken in,
    none before; 404 for an unknown token (or one of another jurisdiction)."""
    row = (
        await ctx.session.execute(
            select(Event.service_no, Event.state, Event.path)
            .join(Open311Request, Open311Request.event_id == Event.id)
            .where(Open311Request.token == token)
        )
    ).one_or_none()
    if row is None or (scope is not None and not within(row.path, scope)):
        raise NotFound("open311_token_not_found", params={"token": token})
    taken_in = State(row.state) in TAKEN_IN
    return {"service_request_id": row.service_no if taken_in else None, "token": token}


@dataclass(frozen=True)
class Submission:
    """A POST Service Request's form: plain fields and the `attribute[code]` values."""

    fields: Mapping[str, str]
    attributes: Mapping[str, list[str]]


async def _place(ctx: Ctx, fields: Mapping[str, str]) -> tuple[OrgUnit, BaseGeometry | None, str]:
    """The grid, point and address of a request from "one of lat & long or address_string
    or address_id": a point is located in the key's grids; an address id or an address
    string must name one standard address there (R-MAP-3)."""
    address_string = (fields.get("address_string") or "").strip()[:300]
    point = open311.parse_point(fields.get("lat"), fields.get("long"))
    if point is not None:
        shape = ShapelyPoint(point.lon, point.lat)
        try:
            located = await grids.locate(ctx, shape)
        except NotFound as exc:
            raise BadRequest(
                "open311_location_outside", errors=[FieldError("lat", "open311_location_outside")]
            ) from exc
        grid = await ctx.session.get_one(OrgUnit, uuid.UUID(str(located["grid"]["id"])))
        return grid, shape, address_string
    address_id = (fields.get("address_id") or "").strip()
    if not address_id and not address_string:
        raise BadRequest("open311_location_missing")
    try:
        match = (
            Address.id == uuid.UUID(address_id)
            if address_id
            else Address.full_text == normalise(address_string)
        )
    except ValueError:
        match = None
    addresses = []
    if match is not None:
        found = select(Address).where(
            match, Address.status == "active", in_scope(Address.path, ctx.principal)
        )
        addresses = list((await ctx.session.scalars(found.limit(2))).all())
    if len(addresses) != 1:
        name = "address_id" if address_id else "address_string"
        raise BadRequest(
            "open311_address_not_found", errors=[FieldError(name, "open311_address_not_found")]
        )
    address = addresses[0]
    grid = await ctx.session.get_one(OrgUnit, address.grid_id)
    location = to_shape(address.location) if address.location is not None else None
    return grid, location, address_string or address.full_text


async def file_request(ctx: Ctx, scope: str | None, submission: Submission) -> dict[str, Any]:
    """POST Service Request: checked whole before anything is written (400 with one error
    per bad field or an unknown service code), then reported as an event with source
    `open311` into the normal workflow (R-WF-3) and recorded beside it. Answers what the
    service type promises: the id (realtime), a token (batch) or neither (blackbox)."""
    fields = submission.fields
    service = _argument_service(fields.get("service_code"))
    contact = open311.check_contact(fields)
    description = open311.check_description(fields.get("description"))
    values = open311.parse_attributes(service, submission.attributes)
    grid, point, address = await _place(ctx, fields)
    if scope is not None and not within(grid.path, scope):
        raise BadRequest(
            "open311_location_outside", errors=[FieldError("lat", "open311_location_outside")]
        )
    event = await events.report_event(
        ctx,
        {
            "title": values.pop("title", service.name),
            "category": service.category.value,
            "subtype": service.subtype,
            "grid_id": grid.id,
            "occurred_at": values.pop("occurred_at", ctx.now()),
            "description": description or service.name,
            "location": point,
            "address": address or None,
            "source": Source.OPEN311.value,
            **values,
        },
        resolve_on_spot=False,
        result=None,
    )
    token = secrets.token_hex(8) if service.type == ServiceType.BATCH else None
    ctx.session.add(
        Open311Request(
            event_id=event["id"],
            path=grid.path,
            service_code=service.code,
            token=token,
            api_key_id=ctx.principal.api_key_id,
            address_string=fields.get("address_string") or None,
            attributes={code: list(v) for code, v in submission.attributes.items()},
            created_at=ctx.now(),
            **contact,
        )
    )
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="open311.request",
        target_type="event",
        target_id=event["id"],
        unit_path=grid.path,
        after={"service_code": service.code, "service_no": event["service_no"]},
    )
    answer: dict[str, Any] = {"service_type": service.type, "account_id": contact.get("account_id")}
    if service.type == ServiceType.REALTIME:
        answer["service_request_id"] = event["service_no"]
    elif token is not None:
        answer["token"] = token
    return answer
