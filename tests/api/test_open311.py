"""R-API-2 Open311 GeoReport v2, the reads: discovery, services, service definitions,
requests with every filter, a request by id and tokens, in XML and JSON, with the spec's
errors. Each test quotes the sentence of the GeoReport v2 specification it checks."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from api.routers import open311 as open311_router
from domain.events import SUBTYPES, Category
from domain.open311 import SERVICES
from domain.org import Level
from domain.principal import Principal
from domain.workflow import State
from services import open311
from services.clock import Clock
from services.context import Ctx
from services.db import set_scope
from services.models import Event
from tests.api.test_sweep import act
from tests.conftest import MovableClock
from tests.factories import World, auth, make_unit, make_user, square

V2 = "/open311/v2"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
# Inside grid G1 (75.90–75.95 E, 39.40–39.45 N).
INSIDE = {"lat": "39.42", "long": "75.92"}


@pytest.fixture(autouse=True)
async def fresh_throttle(app: FastAPI) -> None:
    """Each test starts with the public reads' allowance unspent (Redis outlives tests)."""
    keys = [key async for key in app.state.redis.scan_iter("throttle:open311:*")]
    if keys:
        await app.state.redis.delete(*keys)


def agency(world: World, *permissions: str) -> Principal:
    """An agency acting over the district, as its API key makes it act (R-API-1)."""
    return Principal(
        user_id=None,
        username="agency",
        full_name="市民热线",
        unit_id=None,
        department_id=None,
        scope=world.district.path,
        roles=(),
        permissions=frozenset(permissions or {"event:report"}),
    )


async def file(
    session: AsyncSession,
    clock: Clock,
    world: World,
    code: str = "city_component-street_light",
    attributes: dict[str, list[str]] | None = None,
    **fields: str,
) -> dict[str, Any]:
    """A request filed through the service layer by an agency; answers POST's answer."""
    principal = agency(world)
    await set_scope(session, principal.scope)
    ctx = Ctx(session=session, principal=principal, clock=clock)
    form = {"service_code": code, **INSIDE, "description": "三号楼前路灯不亮", **fields}
    return await open311.file_request(
        ctx, None, open311.Submission(fields=form, attributes=attributes or {})
    )


def xml(response: Response) -> ET.Element:
    assert response.headers["content-type"] == "text/xml; charset=utf-8", response.headers
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.content)


def json(response: Response) -> Any:
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    return response.json()


def assert_errors(response: Response, status: int, fmt: str = "json") -> list[str]:
    """ "errors: code … description"; "HTTP error codes are required"."""
    assert response.status_code == status, response.text
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors"
        found = [(e.findtext("code"), e.findtext("description")) for e in root]
        assert found and all(code == str(status) for code, _ in found)
        return [text or "" for _, text in found]
    body = json(response)
    assert isinstance(body, list) and body
    assert all(set(e) == {"code", "description"} and e["code"] == status for e in body)
    return [e["description"] for e in body]


async def test_r_api_2_discovery_in_both_formats(client: AsyncClient, world: World) -> None:
    """Service Discovery: "Format must be both: xml, json"; "All fields are required."
    (changeset, contact, key_service, endpoints with specification, url, changeset, type,
    formats)."""
    body = json(await client.get(f"{V2}/discovery.json"))
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://test/open311/v2" and endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    root = xml(await client.get(f"{V2}/discovery.xml"))
    assert root.tag == "discovery" and root.findtext("changeset") == body["changeset"]
    formats = root.findall("endpoints/endpoint/formats/format")
    assert [f.text for f in formats] == ["text/xml", "application/json"]


async def test_r_api_2_services_are_the_event_subtypes(client: AsyncClient, world: World) -> None:
    """GET Service List: "provide a list of acceptable 311 service request types and their
    associated service codes" with service_code, service_name, description, metadata, type,
    keywords, group."""
    listing = json(await client.get(f"{V2}/services.json"))
    assert len(listing) == sum(len(names) for names in SUBTYPES.values()) == len(SERVICES)
    by_code = {s["service_code"]: s for s in listing}
    light = by_code["city_component-street_light"]
    assert light == {
        "service_code": "city_component-street_light",
        "service_name": "路灯",
        "description": "城市部件：路灯",
        "metadata": True,
        "type": "realtime",
        "keywords": "street_light, city_component, 城市部件",
        "group": "城市部件",
    }
    assert by_code["dispute-neighbour"]["type"] == "batch"
    assert by_code["security_hazard-theft"]["type"] == "blackbox"
    root = xml(await client.get(f"{V2}/services.xml"))
    assert root.tag == "services" and len(root.findall("service")) == len(listing)
    first = root.find("service")
    assert first is not None and first.findtext("metadata") == "true"
    assert [child.tag for child in first] == list(listing[0])


async def test_r_api_2_service_definitions_with_attributes(
    client: AsyncClient, world: World
) -> None:
    """GET Service Definition: "Define attributes associated with a service code" — each with
    variable, code, datatype, required, datatype_description, order, description and, for
    lists, values of key and name; "1 is shown first in the list"."""
    body = json(await client.get(f"{V2}/services/dispute-neighbour.json"))
    assert body["service_code"] == "dispute-neighbour"
    codes = [a["code"] for a in body["attributes"]]
    assert codes == ["title", "occurred_at", "involved_count", "is_urgent", "parties"]
    assert [a["order"] for a in body["attributes"]] == [1, 2, 3, 4, 5]
    parties = body["attributes"][-1]
    assert parties["datatype"] == "text" and parties["required"] is True
    urgent = body["attributes"][3]
    assert urgent["datatype"] == "singlevaluelist"
    assert urgent["values"] == [{"key": "true", "name": "是"}, {"key": "false", "name": "否"}]
    # "false means the attribute is only used to present information to the user".
    tip = json(await client.get(f"{V2}/services/security_hazard-theft.json"))["attributes"][-1]
    assert tip["code"] == "emergency_notice" and tip["variable"] is False
    root = xml(await client.get(f"{V2}/services/dispute-neighbour.xml"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "dispute-neighbour"
    values = root.findall("attributes/attribute/values/value")
    assert [(v.findtext("key"), v.findtext("name")) for v in values] == [
        ("true", "是"),
        ("false", "否"),
    ]
    assert root.findtext("attributes/attribute/datatype_description") == ""


async def test_r_api_2_unknown_service_code_and_format(client: AsyncClient, world: World) -> None:
    """GET Service Definition errors: "404 - service_code or jurisdiction_id provided were not
    found (specify in error response)"; "The HTTP error codes should always be 404 for
    resources that don't exist"."""
    [text] = assert_errors(await client.get(f"{V2}/services/dispute-nope.json"), 404)
    assert "dispute-nope" in text
    assert_errors(await client.get(f"{V2}/services/dispute-nope.xml"), 404, "xml")
    # A format the endpoint does not offer is a resource that does not exist (in XML,
    # "XML is a required format").
    assert_errors(await client.get(f"{V2}/services.html"), 404, "xml")
    assert_errors(await client.get(f"{V2}/potholes.json"), 404)
    assert_errors(await client.get(f"{V2}/services/x/y.xml"), 404, "xml")
    assert_errors(await client.delete(f"{V2}/requests.json"), 400)
    english = await client.get(f"{V2}/services/x.json", headers={"Accept-Language": "en"})
    assert assert_errors(english, 404) == ["Service code x not found"]


async def test_r_api_2_jurisdiction_id(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """jurisdiction_id: "Implementations can ignore this parameter … if the implementation
    only serves one jurisdiction"; "404 - jurisdiction_id provided was not found"; "400 -
    jurisdiction_id was not provided" once the endpoint serves several."""
    assert (await client.get(f"{V2}/services.json")).status_code == 200
    ok = await client.get(f"{V2}/services.json", params={"jurisdiction_id": "653101000000"})
    assert ok.status_code == 200
    unknown = await client.get(f"{V2}/requests.xml", params={"jurisdiction_id": "sfgov.org"})
    assert "sfgov.org" in assert_errors(unknown, 404, "xml")[0]
    await make_unit(
        session,
        clock,
        code="653102000000",
        level=Level.DISTRICT,
        parent=None,
        geometry=square(76.20, 39.40, 76.40, 39.60),
    )
    for path in ("services.json", "services/other-other.json", "requests.json", "tokens/x.json"):
        assert_errors(await client.get(f"{V2}/{path}"), 400)
    named = await client.get(f"{V2}/requests.json", params={"jurisdiction_id": "653102000000"})
    assert json(named) == []


async def test_r_api_2_a_request_reads_in_both_formats(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """GET Service Request: service_request_id, status ("open: it has been reported"),
    status_notes, service_name, service_code, description, agency_responsible,
    service_notice, requested_datetime, updated_datetime, expected_datetime ("when the
    service request can be expected to be fulfilled"), address, lat, long, media_url; "All
    date/time fields must be formatted in a common subset of ISO 8601" with the timezone."""
    answer = await file(
        session,
        clock,
        world,
        address_string="三号楼前",
        media_url="https://img.example.org/1.jpg",
    )
    request_id = answer["service_request_id"]
    [shown] = json(await client.get(f"{V2}/requests/{request_id}.json"))
    assert shown == {
        "service_request_id": request_id,
        "status": "open",
        "status_notes": "已受理，待分派承办单位",
        "service_name": "路灯",
        "service_code": "city_component-street_light",
        "description": "三号楼前路灯不亮",
        "agency_responsible": world.c1.name,
        "service_notice": shown["service_notice"],
        "requested_datetime": "2026-11-23T10:00:00+08:00",
        "updated_datetime": "2026-11-23T10:00:00+08:00",
        "expected_datetime": "2026-11-24T10:00:00+08:00",
        "address": "三号楼前",
        "lat": 39.42,
        "long": 75.92,
        "media_url": "https://img.example.org/1.jpg",
    }
    assert "24" in shown["service_notice"]
    assert isinstance(request_id, str) and request_id.startswith("SJ20261123")
    root = xml(await client.get(f"{V2}/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    [element] = root.findall("request")
    assert {child.tag: child.text or "" for child in element} == {
        key: "" if value is None else str(value) for key, value in shown.items()
    }
    # The fine state with `extensions=true` (R-API-2: extended_attributes).
    [extended] = json(
        await client.get(f"{V2}/requests/{request_id}.json", params={"extensions": "true"})
    )
    assert extended["extended_attributes"] == {
        "state": "dispatch",
        "category": "city_component",
        "subtype": "street_light",
        "channel": "open311",
    }


async def test_r_api_2_unknown_or_unpublished_requests_do_not_exist(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """GET Service Request: a request nobody may see here is a resource that doesn't exist
    ("404 for resources that don't exist"): an unknown id, a public-security tip (blackbox:
    "No service request ID will be returned"), an event not filed through Open311."""
    assert_errors(await client.get(f"{V2}/requests/SJ0.json"), 404)
    tip = await file(session, clock, world, "security_hazard-gambling")
    assert set(tip) == {"service_type", "account_id"}
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    reported = await client.post(
        "/api/v1/events",
        json={
            "title": "路灯",
            "category": "city_component",
            "subtype": "street_light",
            "grid_id": str(world.g1.id),
            "occurred_at": clock.now().isoformat(),
            "description": "内部上报",
        },
        headers=auth(staff, clock),
    )
    assert reported.status_code == 201, reported.text
    service_no = reported.json()["service_no"]
    assert_errors(await client.get(f"{V2}/requests/{service_no}.xml"), 404, "xml")
    assert json(await client.get(f"{V2}/requests.json")) == []


async def test_r_api_2_request_filters(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """GET Service Requests: "service_request_id … comma delimited. This overrides all other
    arguments."; "service_code … can be declared multiple times, comma delimited"; "status …
    Options: open, closed"; start_date/end_date match requested_datetime; updated_after /
    updated_before (the common extension) match updated_datetime."""
    light = (await file(session, clock, world))["service_request_id"]
    clock.advance(timedelta(hours=1))
    cover = (await file(session, clock, world, "city_component-manhole_cover"))[
        "service_request_id"
    ]
    clock.advance(timedelta(hours=1))
    health = (await file(session, clock, world, "livelihood-health"))["service_request_id"]
    await session.execute(
        update(Event)
        .where(Event.service_no == cover)
        .values(state=State.CLOSED.value, updated_at=clock.now())
    )

    async def ids(**params: str) -> list[str]:
        found = json(await client.get(f"{V2}/requests.json", params=params))
        return [r["service_request_id"] for r in found]

    assert await ids() == [health, cover, light]
    listed = xml(await client.get(f"{V2}/requests.xml", params={"status": "open"}))
    assert [r.findtext("service_request_id") for r in listed] == [health, light]
    assert await ids(service_request_id=f"{light},{health}", status="closed") == [health, light]
    assert await ids(service_code="city_component-street_light,livelihood-health") == [
        health,
        light,
    ]
    assert await ids(status="closed") == [cover]
    assert await ids(status="open") == [health, light]
    assert await ids(status="open,closed") == [health, cover, light]
    assert await ids(start_date="2026-11-23T02:30:00Z") == [health, cover]
    assert await ids(end_date="2026-11-23T11:30:00+08:00") == [cover, light]
    assert await ids(start_date="2026-11-23T02:30:00Z", end_date="2026-11-23T03:30:00Z") == [cover]
    assert await ids(updated_after="2026-11-23T03:30:00Z") == [health, cover]
    assert await ids(updated_before="2026-11-23T03:30:00Z") == [light]
    # The paging extension: `page_size` requests a page, `page` counts from 1.
    assert await ids(page_size="2") == [health, cover]
    assert await ids(page_size="2", page="2") == [light]
    [closed] = json(await client.get(f"{V2}/requests.json", params={"status": "closed"}))
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["updated_datetime"] == "2026-11-23T12:00:00+08:00"


async def test_r_api_2_the_default_window_is_ninety_days(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "When not specified, the range defaults to most recent 90 days"; "may not span more
    than 90 days"; "Must use w3 format, eg 2010-01-01T00:00:00Z"."""
    old = (await file(session, clock, world))["service_request_id"]
    clock.advance(timedelta(days=91))
    assert json(await client.get(f"{V2}/requests.json")) == []
    [found] = json(await client.get(f"{V2}/requests.json", params={"service_request_id": old}))
    assert found["service_request_id"] == old
    start = datetime(2026, 11, 1, tzinfo=UTC)
    window = {"start_date": start.isoformat(), "end_date": (start + timedelta(days=60)).isoformat()}
    assert len(json(await client.get(f"{V2}/requests.json", params=window))) == 1
    too_long = {**window, "end_date": (start + timedelta(days=91)).isoformat()}
    assert_errors(await client.get(f"{V2}/requests.json", params=too_long), 400)
    backwards = {"start_date": "2026-11-02T00:00:00Z", "end_date": "2026-11-01T00:00:00Z"}
    assert_errors(await client.get(f"{V2}/requests.xml", params=backwards), 400, "xml")


async def test_r_api_2_malformed_arguments_are_400(client: AsyncClient, world: World) -> None:
    """ "basically 400 for any other error where the request can not be fulfilled as
    expected": a datetime without its time zone ("Timezone information … must be
    included"), a status other than open/closed, a page that is not one."""
    for params in (
        {"start_date": "2026-11-01T00:00:00"},
        {"updated_after": "yesterday"},
        {"status": "pending"},
        {"page": "0"},
        {"page_size": "1001"},
        {"page": "x"},
        {"service_code": "dispute-nope"},
        {"jurisdiction_id": "x" * 65},
    ):
        assert_errors(await client.get(f"{V2}/requests.json", params=params), 400)
    [text] = assert_errors(
        await client.get(
            f"{V2}/requests.json",
            params={"start_date": "2026-11-01"},
            headers={"Accept-Language": "en"},
        ),
        400,
    )
    assert "start_date" in text


async def test_r_api_2_token_flow(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """POST answers "token: If returned, use this to call GET service_request_id from a
    token" and "service_request_id … should not be returned if token is returned"; the
    token call answers service_request_id and token. A dispute is batch: its id appears
    once a handler took it in."""
    answer = await file(
        session, clock, world, "dispute-neighbour", attributes={"parties": ["张三与李四"]}
    )
    token = answer["token"]
    assert "service_request_id" not in answer
    assert json(await client.get(f"{V2}/tokens/{token}.json")) == [
        {"service_request_id": None, "token": token}
    ]
    assert json(await client.get(f"{V2}/requests.json")) == []
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    listed = await client.get(
        "/api/v1/events", params={"category": Category.DISPUTE.value}, headers=auth(staff, clock)
    )
    [event] = listed.json()["items"]
    await act(client, staff, clock, event["id"], "accept", ACCEPT)
    [resolved] = json(await client.get(f"{V2}/tokens/{token}.json"))
    assert resolved == {"service_request_id": event["service_no"], "token": token}
    root = xml(await client.get(f"{V2}/tokens/{token}.xml"))
    assert root.findtext("request/service_request_id") == event["service_no"]
    assert root.findtext("request/token") == token
    [shown] = json(await client.get(f"{V2}/requests/{event['service_no']}.json"))
    assert (
        shown["status_notes"] == "承办单位办理中" and shown["agency_responsible"] == world.c1.name
    )
    # "404 - jurisdiction_id or token not found".
    assert_errors(await client.get(f"{V2}/tokens/nope.json"), 404)
    assert_errors(await client.get(f"{V2}/tokens/nope.xml"), 404, "xml")


async def test_r_api_2_public_reads_are_throttled_per_address(
    client: AsyncClient, world: World, clock: MovableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads need no key, so one client address gets a bounded allowance an hour (as the
    public form, R-CIT-1); over it, 429 in the spec's error format with Retry-After."""
    monkeypatch.setattr(open311_router, "PUBLIC_READS_PER_HOUR", 3)
    clock.current = clock.current.replace(minute=0, second=0)
    for _ in range(3):
        assert (await client.get(f"{V2}/services.json")).status_code == 200
    refused = await client.get(f"{V2}/services.xml")
    assert_errors(refused, 429, "xml")
    assert refused.headers["Retry-After"] == "3600"
    clock.advance(timedelta(hours=1))
    assert (await client.get(f"{V2}/services.json")).status_code == 200
