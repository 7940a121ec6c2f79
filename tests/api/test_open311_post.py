"""R-API-2 Open311 GeoReport v2, filing and keyed reads: POST Service Request with an
agency's API key (R-API-1) becomes an event in the normal workflow; every error the spec
names, and the key's scope bounding where requests are filed and which are seen. Each test
quotes the sentence of the GeoReport v2 specification it checks."""

from datetime import timedelta
from typing import Any

from httpx import AsyncClient, Response
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.models import AuditEntry, Event, Open311Request
from tests.api.test_open311 import INSIDE, V2, assert_errors, fresh_throttle, json, xml
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user
from tests.routes.api_keys import make_key
from tests.routes.houses import make_address

__all__ = ["fresh_throttle"]
# Inside grid G3, street S2's: outside a key of S1.
IN_S2 = {"lat": "39.42", "long": "76.02"}


async def reporter_key(
    session: AsyncSession, clock: MovableClock, world: World, **values: Any
) -> str:
    """The raw secret of a key of street S1 that may file requests."""
    key = await make_key(session, clock, world, operations=["event:report"], **values)
    return str(key["secret"])


def form(key: str | None, **values: str) -> dict[str, Any]:
    fields = {
        "service_code": "city_component-street_light",
        **INSIDE,
        "description": "三号楼前路灯不亮",
        **values,
    }
    if key is not None:
        fields["api_key"] = key
    return {name: value for name, value in fields.items() if value != ""}


async def post(client: AsyncClient, data: dict[str, Any], fmt: str = "json", **kw: Any) -> Response:
    return await client.post(f"{V2}/requests.{fmt}", data=data, **kw)


async def count(session: AsyncSession, model: Any) -> int:
    await set_scope(session, SYSTEM_SCOPE)
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_r_api_2_post_creates_an_event_in_the_workflow(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """POST Service Request: "Create service requests"; the response holds
    service_request_id ("The unique ID of the service request created"), service_notice
    and account_id. Every field of the example request is taken."""
    key = await reporter_key(session, clock, world)
    r = await post(
        client,
        form(
            key,
            address_string="人民路三号楼前",
            email="smit333@example.org",
            device_id="tt222111",
            account_id="123456",
            first_name="john",
            last_name="smith",
            phone="111111111",
            media_url="http://farm3.static.flickr.com/2002/2212426634_5ed477a060.jpg",
        )
        | {"attribute[is_urgent]": "true", "attribute[involved_count]": "3"},
    )
    assert r.status_code == 201, r.text
    [answer] = json(r)
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert answer["account_id"] == "123456"
    service_no = answer["service_request_id"]
    # The event is in the normal workflow: G1's community dispatches it (R-WF-3).
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    listed = await client.get(
        "/api/v1/events", params={"q": service_no}, headers=auth(staff, clock)
    )
    [event] = listed.json()["items"]
    assert event["source"] == "open311" and event["state"] == "dispatch"
    assert event["grid_id"] == str(world.g1.id) and event["is_urgent"] is True
    assert event["title"] == "路灯" and event["category"] == "city_component"
    await set_scope(session, SYSTEM_SCOPE)
    stored = await session.get(Open311Request, event["id"])
    assert stored is not None and stored.email == "smit333@example.org"
    assert stored.first_name == "john" and stored.phone == "111111111"
    assert stored.attributes == {"is_urgent": ["true"], "involved_count": ["3"]}
    # Audited as the key (R-API-1, R-AUD-1): the request and the call.
    [entry] = (
        await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "open311.request", AuditEntry.target_id == event["id"]
            )
        )
    ).all()
    assert str(entry.actor_name).startswith("gk_")
    calls = (
        await session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "api_key.call",
                AuditEntry.target_id == str(stored.api_key_id),
            )
        )
    ).all()
    assert [(c.after or {}).get("path") for c in calls] == [f"{V2}/requests.json"]
    # Readable by anyone, with its contact data nowhere.
    shown = await client.get(f"{V2}/requests/{service_no}.json")
    assert json(shown)[0]["address"] == "人民路三号楼前"
    assert "smith" not in shown.text and "111111111" not in shown.text


async def test_r_api_2_post_answers_in_xml_and_by_service_type(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "type: realtime: The service request ID will be returned immediately … batch: A token
    will be returned immediately … blackbox: No service request ID will be returned"."""
    key = await reporter_key(session, clock, world)
    root = xml(await post(client, form(key), "xml"))
    assert root.tag == "service_requests"
    assert [child.tag for child in root.findall("request/*")] == [
        "service_request_id",
        "service_notice",
        "account_id",
    ]
    batch = await post(
        client, form(key, service_code="dispute-neighbour") | {"attribute[parties]": "张三、李四"}
    )
    [answer] = json(batch)
    assert set(answer) == {"token", "service_notice", "account_id"}
    assert len(answer["token"]) == 16
    [tip] = json(await post(client, form(key, service_code="security_hazard-theft")))
    assert set(tip) == {"service_notice", "account_id"}
    assert await count(session, Event) == 3


async def test_r_api_2_post_without_a_valid_key_is_403(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "403 - Missing or Invalid API Key (specify in error message)"; "403 for errors
    because of wrong or missing api_key". Nothing is filed."""
    [missing] = assert_errors(await post(client, form(None)), 403)
    assert "api_key" in missing
    assert_errors(await post(client, form(None), "xml"), 403, "xml")
    assert_errors(await post(client, form("gk_00000000_" + "x" * 43)), 403)
    reader = await make_key(session, clock, world, operations=["event:read"])
    assert_errors(await post(client, form(reader["secret"])), 403)
    expired = await reporter_key(session, clock, world, expires_at=clock.now() + timedelta(days=1))
    clock.advance(timedelta(days=2))
    [text] = assert_errors(
        await post(client, form(expired), headers={"Accept-Language": "en"}), 403
    )
    assert text == "Invalid api_key received -- can't proceed with create_request"
    assert await count(session, Event) == 0


async def test_r_api_2_post_service_code_errors(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "400 - service_code or jurisdiction_id was not provided"; an unknown service_code is
    an argument the request "can not be fulfilled" with — "basically 400 for any other
    error" (the spec keeps 404 for "resources that don't exist", and issue 5 asks 400 here);
    "404 - … jurisdiction_id was not found"."""
    key = await reporter_key(session, clock, world)
    [text] = assert_errors(await post(client, form(key, service_code="pothole")), 400)
    assert "pothole" in text
    assert_errors(await post(client, form(key, service_code="pothole"), "xml"), 400, "xml")
    assert_errors(await post(client, form(key, service_code="")), 400)
    assert_errors(await post(client, form(key, jurisdiction_id="sfgov.org")), 404)
    assert (await post(client, form(key, jurisdiction_id="653101000000"))).status_code == 201
    assert await count(session, Event) == 1


async def test_r_api_2_post_location(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "A full location parameter must be submitted. One of lat & long or address_string or
    address_id"; "lat & long both need to be sent". A key's scope bounds where it files
    (R-API-1); standard addresses are the master address repository (R-MAP-3)."""
    key = await reporter_key(session, clock, world)
    assert_errors(await post(client, form(key, lat="", long="")), 400)
    assert_errors(await post(client, form(key, long="")), 400)
    assert_errors(await post(client, form(key, lat="north")), 400)
    assert_errors(await post(client, form(key, lat="95")), 400)
    assert_errors(await post(client, form(key, **IN_S2)), 400)
    assert_errors(await post(client, form(key, lat="30.0", long="100.0")), 400)
    unknown = form(key, lat="", long="", address_string="没有这个地址")
    assert_errors(await post(client, unknown), 400)
    assert_errors(await post(client, form(key, lat="", long="", address_id="12")), 400)
    assert await count(session, Event) == 0
    address = await make_address(
        session, clock, world.g2, "喀什市人民路88号", location=Point(75.97, 39.42)
    )
    by_text = await post(client, form(key, lat="", long="", address_string="喀什市人民路88号"))
    by_id = await post(client, form(key, lat="", long="", address_id=str(address["id"])))
    for answer in (by_text, by_id):
        [shown] = json(
            await client.get(f"{V2}/requests/{json(answer)[0]['service_request_id']}.json")
        )
        assert shown["address"] == "喀什市人民路88号"
        assert (shown["lat"], shown["long"]) == (39.42, 75.97)
    s2_address = await make_address(session, clock, world.g3, "喀什市东路1号")
    assert_errors(
        await post(client, form(key, lat="", long="", address_id=str(s2_address["id"]))), 400
    )


async def test_r_api_2_post_attributes_and_fields(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """ "attribute … This is only required if the service_code requires a service definition
    with required fields"; "attribute[code]=value … multiple values for the same code in the
    case of a multivaluelist"; description "limited to 4,000 characters". One error per bad
    field ("Multiple errors codes and descriptions can be returned")."""
    key = await reporter_key(session, clock, world)
    dispute = form(key, service_code="dispute-neighbour")
    [required] = assert_errors(await post(client, dispute), 400)[1:]
    assert "parties" in required
    bad = dispute | {
        "attribute[parties]": "张三",
        "attribute[involved_count]": "many",
        "attribute[is_urgent]": "maybe",
        "attribute[occurred_at]": "2026-11-23T08:00:00",
        "attribute[colour]": "red",
        "attribute[title][]": ["一", "二"],
    }
    texts = assert_errors(await post(client, bad), 400)
    assert len(texts) == 1 + 5
    assert_errors(await post(client, form(key, email="not-an-email")), 400)
    assert_errors(await post(client, form(key, phone="call me")), 400)
    assert_errors(await post(client, form(key, media_url="javascript:alert(1)")), 400)
    assert_errors(await post(client, form(key, description="长" * 4001)), 400)
    assert_errors(await post(client, form(key, password="x")), 400)
    tip = form(key, service_code="security_hazard-theft") | {"attribute[emergency_notice]": "x"}
    assert_errors(await post(client, tip), 400)
    assert await count(session, Event) == 0
    good = dispute | {
        "attribute[parties]": "张三与李四",
        "attribute[occurred_at]": "2026-11-23T08:00:00+08:00",
        "attribute[title]": "楼上漏水",
    }
    assert (await post(client, good)).status_code == 201
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    [event] = (await client.get("/api/v1/events", headers=auth(staff, clock))).json()["items"]
    assert event["title"] == "楼上漏水" and event["occurred_at"] == "2026-11-23T08:00:00+08:00"


async def test_r_api_2_a_key_bounds_what_is_seen(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Reads take no key ("Requires API Key: No"), but a key given bounds them to its scope
    and, holding event:read, shows every event there (R-API-1); a bad key is a 403; over the
    key's rate limit, 429 with Retry-After (API.md)."""
    staff = await make_user(session, roles=["admin"], unit=world.district)
    numbers = []
    for grid in (world.g1, world.g3):
        created = await client.post(
            "/api/v1/events",
            json={
                "title": "井盖缺失",
                "category": "city_component",
                "subtype": "manhole_cover",
                "grid_id": str(grid.id),
                "occurred_at": clock.now().isoformat(),
                "description": "人行道井盖缺失",
            },
            headers=auth(staff, clock),
        )
        assert created.status_code == 201, created.text
        numbers.append(created.json()["service_no"])
    reader = await make_key(
        session, clock, world, operations=["event:read"], rate_limit_per_minute=3
    )
    keyed = await client.get(f"{V2}/requests.json", params={"api_key": reader["secret"]})
    assert [r["service_request_id"] for r in json(keyed)] == [numbers[0]]
    header = {"X-API-Key": reader["secret"]}
    assert (await client.get(f"{V2}/requests/{numbers[0]}.xml", headers=header)).status_code == 200
    assert_errors(await client.get(f"{V2}/requests/{numbers[1]}.json", headers=header), 404)
    assert json(await client.get(f"{V2}/requests.json")) == []
    # A key that may only file sees what the public sees, within its scope.
    filer = await reporter_key(session, clock, world)
    [filed] = json(await post(client, form(filer)))
    mine = await client.get(f"{V2}/requests.json", params={"api_key": filer})
    assert [r["service_request_id"] for r in json(mine)] == [filed["service_request_id"]]
    over = await client.get(f"{V2}/requests.json", headers=header)
    assert_errors(over, 429)
    assert over.headers["Retry-After"]
    assert_errors(await client.get(f"{V2}/services.json", params={"api_key": "nope"}), 403)


async def test_r_api_2_post_is_idempotent_with_the_header_key(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Idempotency-Key on POST (API.md, R-MOB-2): with the key in X-API-Key a replayed
    submission answers the first answer and files nothing twice."""
    key = await reporter_key(session, clock, world)
    headers = {"X-API-Key": key, "Idempotency-Key": "open311-1"}
    first = await post(client, form(None), headers=headers)
    again = await post(client, form(None), headers=headers)
    assert first.status_code == again.status_code == 201
    assert json(first) == json(again)
    assert await count(session, Event) == 1


async def test_r_api_2_post_is_idempotent_with_the_form_key(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Idempotency-Key on POST (API.md) with the key as the spec's `api_key` form argument:
    the replay answers the first answer, marked replayed, and files nothing twice."""
    key = await reporter_key(session, clock, world)
    headers = {"Idempotency-Key": "open311-form"}
    first = await post(client, form(key), headers=headers)
    again = await post(client, form(key), headers=headers)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers
    assert json(first) == json(again)
    assert await count(session, Event) == 1


async def test_r_api_2_post_is_idempotent_with_the_query_key(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The same with `api_key` in the query string; another key's same Idempotency-Key is
    its own (no replay across callers)."""
    key = await reporter_key(session, clock, world)
    other = await reporter_key(session, clock, world)
    headers = {"Idempotency-Key": "open311-query"}
    first = await post(client, form(None), headers=headers, params={"api_key": key})
    again = await post(client, form(None), headers=headers, params={"api_key": key})
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert json(first) == json(again)
    assert await count(session, Event) == 1
    theirs = await post(client, form(None), headers=headers, params={"api_key": other})
    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers
    assert await count(session, Event) == 2


async def test_r_api_2_a_request_moves_with_its_grid(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-GRID-2: moving a grid's records re-homes a request's Open311 fields with its event
    (their jurisdiction path follows), so it stays where the event is."""
    key = await reporter_key(session, clock, world)
    [answer] = json(await post(client, form(key)))
    moved = await client.post(
        f"/api/v1/grids/{world.g1.id}/move-records",
        json={"target_grid_id": str(world.g2.id), "reason": "网格调整"},
        headers=auth(world.admin_d, clock),
    )
    assert moved.status_code == 200, moved.text
    await set_scope(session, SYSTEM_SCOPE)
    stored = (
        await session.execute(
            select(Open311Request.path, Event.path).join(Event, Event.id == Open311Request.event_id)
        )
    ).one()
    assert stored[0] == stored[1] == world.g2.path
    [shown] = json(await client.get(f"{V2}/requests/{answer['service_request_id']}.json"))
    assert shown["status"] == "open"
