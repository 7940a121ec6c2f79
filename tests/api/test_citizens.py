"""R-CIT-1 citizens: a problem or suggestion submitted without an account becomes an event in
the normal workflow; the citizen follows it with the receipt code (and sees no one's personal
data), gets the reply, rates it once; the community hears of the rating; the public door is
throttled per client address."""

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import PUBLIC_LIMIT_PER_HOUR
from domain.citizens import normalise_receipt
from services.models import CitizenSubmission, Event
from tests.api.test_routing import kinds
from tests.api.test_sweep import act
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.places import audit_actions, count_rows

URL = "/api/v1/public/submissions"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
# Inside grid G1 (75.90–75.95 E, 39.40–39.45 N).
INSIDE = {"type": "Point", "coordinates": [75.92, 39.42]}


@pytest.fixture(autouse=True)
async def fresh_throttle(app: FastAPI) -> None:
    """Each test starts with the public door's allowance unspent (Redis outlives tests)."""
    keys = [key async for key in app.state.redis.scan_iter("throttle:public:*")]
    if keys:
        await app.state.redis.delete(*keys)


def body(**values: Any) -> dict[str, Any]:
    return {
        "title": "小区路灯不亮",
        "description": "三号楼前路灯坏了一周",
        "location": INSIDE,
        "name": "李女士",
        "phone": "13811112222",
        **values,
    }


async def submit(client: AsyncClient, **values: Any) -> dict[str, Any]:
    r = await client.post(URL, json=body(**values))
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_r_cit_1_a_submission_becomes_an_event_with_a_receipt(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    data = await submit(client, category="city_component", subtype="street_light")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", data["receipt"])
    assert data["progress"] == "received" and data["progress_name"] == "已受理"
    assert data["can_rate"] is False and data["reply"] is None
    # The event is in the normal workflow, in G1's community's dispatch queue.
    listed = await client.get(
        "/api/v1/events", params={"q": data["service_no"]}, headers=auth(staff, clock)
    )
    [event] = listed.json()["items"]
    assert event["source"] == "web" and event["grid_id"] == str(world.g1.id)
    assert event["state"] == "dispatch" and event["category"] == "city_component"
    assert "event_dispatch" in await kinds(session, staff)
    # Staff see who submitted it, masked (R-JUR-3); the receipt itself is nowhere stored.
    detail = (await client.get(f"/api/v1/events/{event['id']}", headers=auth(staff, clock))).json()
    assert detail["citizen"]["phone"] == "138****2222" and detail["citizen"]["name"] == "李**"
    submissions = await count_rows(session, CitizenSubmission)
    assert submissions == 1
    assert "citizen.submit" in [a for a in await audit_actions(session, detail["citizen"]["id"])]


async def test_r_cit_1_bad_submissions_are_refused_and_nothing_is_written(
    client: AsyncClient, session: AsyncSession, world: World
) -> None:
    outside = {"type": "Point", "coordinates": [100.0, 30.0]}
    assert_problem(
        await client.post(URL, json=body(location=outside)), 422, "location_outside_city"
    )
    assert_problem(await client.post(URL, json=body(password="x")), 422, "validation_failed")
    assert_problem(await client.post(URL, json=body(phone="12345")), 422, "validation_failed")
    assert_problem(
        await client.post(URL, json=body(category="dispute", subtype="theft")),
        422,
        "event_subtype_unknown",
    )
    assert await count_rows(session, CitizenSubmission) == 0
    assert await count_rows(session, Event) == 0


async def test_r_cit_1_suggestions_and_phone_coordinates(client: AsyncClient, world: World) -> None:
    suggestion = await submit(client, kind="suggestion", category="dispute")
    assert suggestion["kind"] == "suggestion"
    # A point from a phone map (GCJ-02) is converted before it is located (R-GRID-4).
    r = await client.post(
        URL,
        params={"crs": "gcj02"},
        json=body(location={"type": "Point", "coordinates": [75.9235, 39.4205]}, channel="message"),
    )
    assert r.status_code == 201, r.text


async def test_r_cit_1_progress_reply_and_one_rating(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    data = await submit(client)
    receipt = data["receipt"]
    # Read back as people type it: lower case, without the dash.
    typed = receipt.lower().replace("-", "")
    assert (await client.get(f"{URL}/{typed}")).status_code == 200
    assert_problem(
        await client.post(f"{URL}/{receipt}/rating", json={"satisfaction": "satisfied"}),
        409,
        "rating_not_open",
    )
    listed = await client.get(
        "/api/v1/events", params={"q": data["service_no"]}, headers=auth(staff, clock)
    )
    event_id = listed.json()["items"][0]["id"]
    await act(client, staff, clock, event_id, "accept", ACCEPT)
    assert (await client.get(f"{URL}/{receipt}")).json()["progress"] == "handling"
    clock.advance(timedelta(hours=3))
    await act(client, staff, clock, event_id, "complete", {"result": "已更换灯泡"})
    shown = await client.get(f"{URL}/{receipt}")
    page = shown.json()
    assert page["progress"] == "answered" and page["reply"] == "已更换灯泡"
    assert page["handled_by"] == world.c1.name and page["can_rate"] is True
    assert [m["text"] for m in page["timeline"]] == ["已受理", "承办单位已签收", "已办理完毕"]
    # Nobody's personal data: not the responsible person, not their phone.
    assert "王建国" not in shown.text and "13912345678" not in shown.text
    rated = await client.post(
        f"{URL}/{receipt}/rating", json={"satisfaction": "unsatisfied", "comment": "还是暗"}
    )
    assert rated.status_code == 200, rated.text
    assert rated.json()["satisfaction"] == "unsatisfied" and rated.json()["can_rate"] is False
    assert "citizen_rating" in await kinds(session, staff)
    again = await client.post(f"{URL}/{receipt}/rating", json={"satisfaction": "satisfied"})
    assert_problem(again, 409, "already_rated")


async def test_r_cit_1_unknown_and_malformed_receipts(client: AsyncClient, world: World) -> None:
    assert_problem(await client.get(f"{URL}/00000-00000"), 404, "receipt_not_found")
    assert_problem(await client.get(f"{URL}/not-a-code!"), 422, "receipt_invalid")
    assert normalise_receipt("7k2qd mx9tb") == "7K2QD-MX9TB"
    assert normalise_receipt("7K2QO-MX9TI") == "7K2Q0-MX9T1"


async def test_r_cit_1_the_public_door_is_throttled_per_address(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    # Align with the start of an hour window, then spend the window's allowance.
    clock.current = clock.current.replace(minute=0, second=0)
    for _ in range(PUBLIC_LIMIT_PER_HOUR):
        assert (await client.get(f"{URL}/00000-00000")).status_code == 404
    refused = await client.get(f"{URL}/00000-00000")
    assert_problem(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "3600"
    clock.advance(timedelta(hours=1))
    assert (await client.get(f"{URL}/00000-00000")).status_code == 404
