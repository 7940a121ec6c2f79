"""The Open311 GeoReport v2 facade (R-API-2) as pure rules: sub-types are services, events are
service requests. Which service codes exist, what each asks for (its attributes), how a
request's form values become event fields, how a state reads as `open`/`closed`, and how the
service type decides whether a new request answers its id, a token or nothing.

Service codes are `<category>-<subtype>` (neither part holds a hyphen), e.g. `dispute-neighbour`.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.errors import BadRequest, FieldError, NotFound
from domain.events import CATEGORY_NAMES, SUBTYPES, Category
from domain.messages import render
from domain.workflow import State

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Sortable stamp of the last change to the service list or definitions (Service Discovery).
CHANGESET = "2026-12-02 00:00"
# "Default query limit is a span of 90 days or first 1000 requests returned".
DEFAULT_SPAN_DAYS = 90
MAX_PAGE_SIZE = 1000
DESCRIPTION_LIMIT = 4000


class Format(StrEnum):
    XML = "xml"
    JSON = "json"


MEDIA_TYPES = {Format.XML: "text/xml", Format.JSON: "application/json"}


class ServiceType(StrEnum):
    REALTIME = "realtime"  # the service_request_id is answered at once
    BATCH = "batch"  # a token is answered; it resolves to the id once the event is taken in
    BLACKBOX = "blackbox"  # nothing is answered, the request is never published


# Disputes are taken in by the community before they are published; tips on public-security
# hazards protect the reporter and the investigation, so they are never published back.
SERVICE_TYPES: dict[Category, ServiceType] = {
    Category.DISPUTE: ServiceType.BATCH,
    Category.SECURITY_HAZARD: ServiceType.BLACKBOX,
    Category.LIVELIHOOD: ServiceType.REALTIME,
    Category.CITY_COMPONENT: ServiceType.REALTIME,
    Category.OTHER: ServiceType.REALTIME,
}
# A batch request is published (and its token resolves) once a handler accepted it.
TAKEN_IN = frozenset({State.HANDLING, State.PENDING_VERIFY, State.CLOSED})


def categories_of(kind: ServiceType) -> list[Category]:
    return [category for category, its in SERVICE_TYPES.items() if its == kind]


class Status(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


def status_of(state: State) -> Status:
    return Status.CLOSED if state == State.CLOSED else Status.OPEN


def service_code(category: Category, subtype: str) -> str:
    return f"{category.value}-{subtype}"


@dataclass(frozen=True)
class Service:
    category: Category
    subtype: str

    @property
    def code(self) -> str:
        return service_code(self.category, self.subtype)

    @property
    def name(self) -> str:
        return SUBTYPES[self.category][self.subtype]

    @property
    def type(self) -> ServiceType:
        return SERVICE_TYPES[self.category]

    def listing(self) -> dict[str, Any]:
        """The service as GET Service List shows it; every service has a definition."""
        group = CATEGORY_NAMES[self.category]
        return {
            "service_code": self.code,
            "service_name": self.name,
            "description": f"{group}：{self.name}",
            "metadata": True,
            "type": self.type.value,
            "keywords": ", ".join((self.subtype, self.category.value, group)),
            "group": group,
        }


SERVICES = [Service(category, subtype) for category, names in SUBTYPES.items() for subtype in names]
_BY_CODE = {service.code: service for service in SERVICES}


def find_service(code: str | None) -> Service:
    """The service of a code: 400 when none was given, 404 when no service has it."""
    if not code:
        raise BadRequest("open311_service_code_missing")
    service = _BY_CODE.get(code)
    if service is None:
        raise NotFound("open311_service_not_found", params={"service_code": code})
    return service


class Datatype(StrEnum):
    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


@dataclass(frozen=True)
class Attribute:
    """One attribute of a service definition; `field` is the event field it fills."""

    code: str
    datatype: Datatype
    required: bool
    description: str
    field: str | None
    variable: bool = True
    datatype_description: str | None = None
    values: tuple[tuple[str, str], ...] = ()

    def definition(self, order: int) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "code": self.code,
            "datatype": self.datatype.value,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": order,
            "description": self.description,
            "values": [{"key": key, "name": name} for key, name in self.values],
        }


_YES_NO = (("true", "是"), ("false", "否"))
# The event fields' own bounds (api/schemas/events.py EventCreate): title, parties, people.
MAX_STRING, MAX_TEXT, MAX_NUMBER = 200, 1000, 100_000
# The event's own fields beyond what the base request carries (R-EVT-1).
_COMMON = (
    Attribute("title", Datatype.STRING, False, "事件标题（不填时用服务名称）", "title"),
    Attribute(
        "occurred_at",
        Datatype.DATETIME,
        False,
        "发生时间（不填时为提交时间）",
        "occurred_at",
        datatype_description="ISO 8601，须带时区，如 2026-11-23T10:00:00+08:00",
    ),
    Attribute("involved_count", Datatype.NUMBER, False, "涉及人数", "involved_count"),
    Attribute(
        "is_urgent", Datatype.SINGLEVALUELIST, False, "是否紧急", "is_urgent", values=_YES_NO
    ),
)
_BY_CATEGORY: dict[Category, tuple[Attribute, ...]] = {
    Category.DISPUTE: (
        Attribute("parties", Datatype.TEXT, True, "纠纷当事人及其基本情况", "parties"),
    ),
    Category.SECURITY_HAZARD: (
        Attribute(
            "emergency_notice",
            Datatype.STRING,
            False,
            "正在发生的违法犯罪请立即拨打 110 报警，本渠道不受理紧急警情",
            None,
            variable=False,
        ),
    ),
}


def attributes_of(service: Service) -> tuple[Attribute, ...]:
    return _COMMON + _BY_CATEGORY.get(service.category, ())


def definition(service: Service) -> dict[str, Any]:
    """GET Service Definition: the attributes in the order they are presented."""
    return {
        "service_code": service.code,
        "attributes": [
            attribute.definition(order)
            for order, attribute in enumerate(attributes_of(service), start=1)
        ],
    }


def parse_datetime(name: str, value: str) -> datetime:
    """A w3 datetime; the time zone must be given (Z or an offset), else 400."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadRequest("open311_datetime_invalid", params={"name": name})
    return parsed


def _attribute_value(attribute: Attribute, values: list[str]) -> Any:
    if attribute.datatype == Datatype.MULTIVALUELIST:
        keys = {key for key, _ in attribute.values}
        if not set(values) <= keys:
            raise ValueError
        return values
    if len(values) != 1:
        raise ValueError
    value = values[0].strip()
    if attribute.datatype == Datatype.NUMBER:
        number = float(value)
        if not math.isfinite(number) or not 0 <= number <= MAX_NUMBER or number != int(number):
            raise ValueError
        return int(number)
    if attribute.datatype == Datatype.DATETIME:
        return parse_datetime(f"attribute[{attribute.code}]", value)
    if attribute.datatype == Datatype.SINGLEVALUELIST:
        if value not in {key for key, _ in attribute.values}:
            raise ValueError
        return value == "true" if attribute.values == _YES_NO else value
    if attribute.datatype == Datatype.STRING and ("\n" in value or len(value) > MAX_STRING):
        raise ValueError
    if attribute.datatype == Datatype.TEXT and len(value) > MAX_TEXT:
        raise ValueError
    return value


def parse_attributes(service: Service, given: Mapping[str, list[str]]) -> dict[str, Any]:
    """The event fields the request's `attribute[code]` values fill. Unknown codes,
    values of the wrong type or outside the list, and missing required ones are refused
    with one error each (400)."""
    known = {attribute.code: attribute for attribute in attributes_of(service)}
    errors = [
        FieldError(f"attribute[{code}]", "open311_attribute_unknown", {"code": code})
        for code in sorted(set(given) - set(known))
    ]
    fields: dict[str, Any] = {}
    for code, attribute in known.items():
        values = [v for v in given.get(code, []) if v.strip()]
        if not values:
            if attribute.required:
                errors.append(
                    FieldError(f"attribute[{code}]", "open311_attribute_required", {"code": code})
                )
            continue
        if attribute.field is None:
            errors.append(
                FieldError(f"attribute[{code}]", "open311_attribute_unknown", {"code": code})
            )
            continue
        try:
            fields[attribute.field] = _attribute_value(attribute, values)
        except (ValueError, BadRequest):
            errors.append(
                FieldError(f"attribute[{code}]", "open311_attribute_invalid", {"code": code})
            )
    if errors:
        raise BadRequest("open311_request_invalid", errors=errors)
    return fields


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")
_URL = re.compile(r"^https?://[^\s]+$")
# Each optional contact field: (longest accepted length, shape or None).
CONTACT_FIELDS: dict[str, tuple[int, re.Pattern[str] | None]] = {
    "email": (254, _EMAIL),
    "device_id": (100, None),
    "account_id": (100, None),
    "first_name": (50, None),
    "last_name": (50, None),
    "phone": (20, _PHONE),
    "media_url": (500, _URL),
}


def check_contact(values: Mapping[str, str]) -> dict[str, str]:
    """The optional submitter and media fields, trimmed; 400 for one too long or malformed."""
    errors, clean = [], {}
    for name, (longest, shape) in CONTACT_FIELDS.items():
        value = (values.get(name) or "").strip()
        if not value:
            continue
        if len(value) > longest or (shape is not None and not shape.match(value)):
            errors.append(FieldError(name, "open311_field_invalid", {"name": name}))
        clean[name] = value
    if errors:
        raise BadRequest("open311_request_invalid", errors=errors)
    return clean


@dataclass(frozen=True)
class Point:
    lon: float
    lat: float


def parse_point(lat: str | None, long: str | None) -> Point | None:
    """`lat` & `long` (WGS-84) go together; neither means no point; 400 for one alone or a
    value that is not a coordinate."""
    if not lat and not long:
        return None
    try:
        point = Point(lon=float(long or ""), lat=float(lat or ""))
    except ValueError:
        point = None
    if point is None or not (-90 <= point.lat <= 90 and -180 <= point.lon <= 180):
        raise BadRequest(
            "open311_location_invalid",
            errors=[FieldError("lat", "open311_location_invalid")],
        )
    return point


def check_description(value: str | None) -> str | None:
    """ "Free form text limited to 4,000 characters"."""
    text = (value or "").strip()
    if len(text) > DESCRIPTION_LIMIT:
        raise BadRequest(
            "open311_request_invalid",
            errors=[FieldError("description", "open311_description_too_long")],
        )
    return text or None


def split_list(value: str | None) -> list[str]:
    """A comma-delimited argument ("can be declared multiple times, comma delimited")."""
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_statuses(value: str | None) -> list[Status]:
    try:
        return [Status(part) for part in split_list(value)]
    except ValueError as exc:
        raise BadRequest("open311_status_invalid") from exc


# What `status_notes` says of each workflow state, and `service_notice` of each type.
_STATE_NOTES: dict[State, str] = {
    State.DISPATCH: "open311_state_dispatch",
    State.PENDING_ACCEPT: "open311_state_pending_accept",
    State.HANDLING: "open311_state_handling",
    State.PENDING_VERIFY: "open311_state_pending_verify",
    State.CLOSED: "open311_state_closed",
}
_NOTICES: dict[ServiceType, str] = {
    ServiceType.REALTIME: "open311_notice_realtime",
    ServiceType.BATCH: "open311_notice_batch",
    ServiceType.BLACKBOX: "open311_notice_blackbox",
}


def _notice(kind: ServiceType, lang: str) -> str:
    return render(_NOTICES.get(kind, "open311_notice_realtime"), {}, lang)


def present_request(request: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """A service request in the spec's field order: the fine state as `status_notes`
    (R-API-2) and what the service promises as `service_notice`, in the caller's language."""
    shown = {key: value for key, value in request.items() if key not in ("state", "service_type")}
    shown["status_notes"] = render(
        _STATE_NOTES.get(request["state"], "open311_state_closed"), {}, lang
    )
    shown["service_notice"] = _notice(request["service_type"], lang)
    order = (
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "lat", "long", "media_url",
        "extended_attributes",
    )  # fmt: skip
    return {key: shown[key] for key in order if key in shown}


def present_answer(answer: Mapping[str, Any], lang: str) -> dict[str, Any]:
    """POST Service Request's answer: the id or the token (never both), the notice and the
    submitter's account id."""
    shown = {key: answer[key] for key in ("service_request_id", "token") if key in answer}
    shown["service_notice"] = _notice(answer["service_type"], lang)
    shown["account_id"] = answer.get("account_id")
    return shown


def discovery(endpoint_url: str, lang: str) -> dict[str, Any]:
    """The Service Discovery document: one production GeoReport v2 endpoint, both formats."""
    return {
        "changeset": CHANGESET,
        "contact": render("open311_contact", {}, lang),
        "key_service": render("open311_key_service", {}, lang),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": [MEDIA_TYPES[Format.XML], MEDIA_TYPES[Format.JSON]],
            }
        ],
    }
