"""R-CMP-1 city components: public and civil facilities with location, condition and code;
a component binds to one standard address at most (仅且允许绑定一次) — a second bind is a 409
until an explicit unbind — and two racing binds never both win. One address may carry
several components."""

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from geoalchemy2.shape import from_shape
from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from services.db import system_session
from services.models import Address, Component, OrgUnit
from tests import territory
from tests.api import test_concurrency
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.places import EPOCH, audit_actions, count_rows, make_address, make_component
from tests.territory import SUPERUSER_DSN, Committed

# A territory with real commits (Bole), shared with the concurrency tests' fixtures.
committed = test_concurrency.committed
real_client = territory.real_client

URL = "/api/v1/components"


def body(grid_id: Any, **values: Any) -> dict[str, Any]:
    return {
        "grid_id": str(grid_id),
        "code": f"6531010101{uuid.uuid4().int % 10**6:06d}",
        "name": "人民路1号井盖",
        "category": "public",
        "kind": "manhole_cover",
        "owner": "市政公司",
        "location": {"type": "Point", "coordinates": [75.921, 39.421]},
        **values,
    }


async def test_r_cmp_1_components_are_registered_with_location_and_code(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_s1, clock)
    sent = body(world.g1.id, category="civil", kind="housing", condition="damaged")
    r = await client.post(URL, json=sent, params={"crs": "bd09"}, headers=headers)
    assert r.status_code == 201, r.text
    out = r.json()
    assert (out["category"], out["kind"], out["condition"], out["address_id"]) == (
        "civil",
        "housing",
        "damaged",
        None,
    )
    lon, lat = out["location"]["coordinates"]
    assert (lon, lat) != (75.921, 39.421) and abs(lon - 75.921) < 0.02  # BD-09 → WGS-84
    assert (await audit_actions(session, out["id"]))[0] == "component.create"
    before = await count_rows(session, Component)
    cases = [
        (body(world.g1.id, code=sent["code"]), 409, "component_code_taken", "code"),
        (
            body(world.g1.id, category="civil", kind="manhole_cover"),
            422,
            "validation_failed",
            "kind",
        ),
        (body(world.g1.id, condition="broken"), 422, "validation_failed", "condition"),
        (body(world.g1.id, location=None), 422, "validation_failed", "location"),
        (
            body(world.g1.id, location={"type": "Polygon", "coordinates": []}),
            422,
            "geometry_type",
            "location",
        ),
        (body(world.c1.id), 422, "record_needs_grid", "grid_id"),
    ]
    for sent_body, status, code, field in cases:
        problem = assert_problem(
            await client.post(URL, json=sent_body, headers=headers), status, code
        )
        assert [e["field"] for e in problem["errors"]] == [field], code
    assert await count_rows(session, Component) == before


async def test_r_cmp_1_bind_once_then_explicit_unbind(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    component = await make_component(session, clock, world.g1)
    first = await make_address(session, world.g1)
    second = await make_address(session, world.g1)
    url = f"{URL}/{component['id']}"
    headers = auth(world.admin_s1, clock)
    r = await client.post(
        f"{url}/bind", json={"address_id": str(first.id)}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["address_id"], r.json()["bound_at"], r.json()["version"]) == (
        str(first.id),
        "2026-11-23T10:00:00+08:00",
        2,
    )
    for address in (first, second):
        problem = assert_problem(
            await client.post(f"{url}/bind", json={"address_id": str(address.id)}, headers=headers),
            409,
            "component_already_bound",
        )
        assert "解除绑定" in problem["detail"]
    assert (await client.get(url, headers=headers)).json()["address_id"] == str(first.id)
    assert_problem(
        await client.post(f"{url}/unbind", headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    r = await client.post(f"{url}/unbind", json={"reason": "地址录错"}, headers=headers)
    assert r.status_code == 200 and (r.json()["address_id"], r.json()["bound_at"]) == (None, None)
    assert_problem(await client.post(f"{url}/unbind", headers=headers), 409, "component_not_bound")
    r = await client.post(f"{url}/bind", json={"address_id": str(second.id)}, headers=headers)
    assert r.status_code == 200 and r.json()["address_id"] == str(second.id)
    actions = [
        a for a in await audit_actions(session, component["id"]) if a.startswith("component.")
    ]
    assert actions == ["component.create", "component.bind", "component.unbind", "component.bind"]


async def test_r_cmp_1_an_address_may_carry_several_components(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The rule binds the component side only: a building keeps its cover, pole and hydrant."""
    address = await make_address(session, world.g1)
    made = [await make_component(session, clock, world.g1, name=n) for n in ("井盖", "电线杆")]
    await make_component(session, clock, world.g1, name="未绑定")
    headers = auth(world.admin_s1, clock)
    for component in made:
        r = await client.post(
            f"{URL}/{component['id']}/bind", json={"address_id": str(address.id)}, headers=headers
        )
        assert r.status_code == 200, r.text
    listed = (await client.get(URL, params={"address_id": str(address.id)}, headers=headers)).json()
    assert sorted(i["id"] for i in listed["items"]) == sorted(str(c["id"]) for c in made)
    assert (await client.get(URL, params={"bound": False}, headers=headers)).json()["total"] == 1


async def test_r_cmp_1_bind_refusals(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    component = await make_component(session, clock, world.g1)
    url = f"{URL}/{component['id']}"
    headers = auth(world.admin_s1, clock)
    foreign = await make_address(session, world.g3)
    problem = assert_problem(
        await client.post(f"{url}/bind", json={"address_id": str(foreign.id)}, headers=headers),
        404,
        "address_not_found",
    )
    assert [e["field"] for e in problem["errors"]] == ["address_id"]
    gone = await make_address(session, world.g1, status="deregistered")
    assert_problem(
        await client.post(f"{url}/bind", json={"address_id": str(gone.id)}, headers=headers),
        422,
        "address_inactive",
    )
    address = await make_address(session, world.g1)
    assert_problem(
        await client.post(
            f"{URL}/{uuid.uuid4()}/bind", json={"address_id": str(address.id)}, headers=headers
        ),
        404,
        "component_not_found",
    )
    r = await client.post(f"{url}/deregister", json={"reason": "已拆除"}, headers=headers)
    assert r.status_code == 200, r.text
    assert_problem(
        await client.post(f"{url}/bind", json={"address_id": str(address.id)}, headers=headers),
        409,
        "component_deregistered",
    )
    assert (await client.get(url, headers=headers)).json()["address_id"] is None


async def test_list_search_pages_patch_and_export(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    made = [
        await make_component(session, clock, world.g1, name="乙井盖"),
        await make_component(
            session,
            clock,
            world.g2,
            name="甲电线杆",
            kind="utility_pole",
            location=Point(75.97, 39.41),
        ),
        await make_component(session, clock, world.g1, name="丙公交站", kind="bus_stop"),
    ]
    await make_component(session, clock, world.g3, name="外街道井盖")
    headers = auth(world.admin_s1, clock)
    first = (await client.get(URL, params={"limit": 2}, headers=headers)).json()
    rest = (
        await client.get(URL, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    assert first["total"] == 3 and rest["next_cursor"] is None
    assert {i["id"] for i in first["items"] + rest["items"]} == {str(c["id"]) for c in made}
    by_kind = (await client.get(URL, params={"kind": "utility_pole"}, headers=headers)).json()
    assert [i["id"] for i in by_kind["items"]] == [str(made[1]["id"])]
    by_code = (await client.get(URL, params={"q": made[2]["code"]}, headers=headers)).json()
    assert [i["id"] for i in by_code["items"]] == [str(made[2]["id"])]
    in_box = (
        await client.get(URL, params={"bbox": "75.96,39.40,75.98,39.42"}, headers=headers)
    ).json()
    assert [i["id"] for i in in_box["items"]] == [str(made[1]["id"])]
    url = f"{URL}/{made[0]['id']}"
    r = await client.patch(
        url, json={"condition": "missing"}, headers={**headers, "If-Match": '"1"'}
    )
    assert r.status_code == 200 and r.json()["condition"] == "missing"
    assert_problem(
        await client.patch(url, json={"name": "x"}, headers={**headers, "If-Match": '"1"'}),
        412,
        "precondition_failed",
    )
    assert_problem(
        await client.patch(url, json={"kind": "housing"}, headers=headers), 422, "validation_failed"
    )
    assert_problem(
        await client.patch(url, json={"location": None}, headers=headers), 422, "validation_failed"
    )
    missing = (await client.get(URL, params={"condition": "missing"}, headers=headers)).json()
    assert [i["id"] for i in missing["items"]] == [str(made[0]["id"])]
    exported = await client.get(
        f"{URL}/export", params={"format": "csv", "unit_id": str(world.g1.id)}, headers=headers
    )
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(row["名称"], row["部件状态"]) for row in rows] == [
        ("丙公交站", "normal"),
        ("乙井盖", "missing"),
    ]


@pytest.fixture
async def racing(app: FastAPI, committed: Committed) -> AsyncIterator[tuple[str, list[str]]]:
    """A committed component and two committed addresses in the Bole grid; removed after."""
    async with system_session(app.state.sessionmaker) as session:
        grid = await session.get(OrgUnit, committed.grid_id)
        assert grid is not None
        addresses = [
            Address(
                grid_id=grid.id,
                path=grid.path,
                full_text=f"博乐市竞速路{i}号",
                status="active",
                created_at=EPOCH,
                updated_at=EPOCH,
            )
            for i in (1, 2)
        ]
        component = Component(
            grid_id=grid.id,
            path=grid.path,
            code=f"RACE{uuid.uuid4().hex[:8]}",
            name="竞速井盖",
            category="public",
            kind="manhole_cover",
            location=from_shape(Point(81.01, 44.01), srid=4326),
            created_at=EPOCH,
            updated_at=EPOCH,
        )
        session.add_all([*addresses, component])
        await session.flush()
        ids = (str(component.id), [str(a.id) for a in addresses])
    try:
        yield ids
    finally:
        conn = await asyncpg.connect(SUPERUSER_DSN)
        try:
            await conn.execute("DELETE FROM components WHERE grid_id = $1", committed.grid_id)
            await conn.execute("DELETE FROM addresses WHERE grid_id = $1", committed.grid_id)
        finally:
            await conn.close()


async def test_r_cmp_1_two_racing_binds_never_both_win(
    real_client: AsyncClient, committed: Committed, racing: tuple[str, list[str]]
) -> None:
    component_id, address_ids = racing

    async def bind(address_id: str) -> int:
        response = await real_client.post(
            f"{URL}/{component_id}/bind", json={"address_id": address_id}, headers=committed.headers
        )
        return response.status_code

    statuses = sorted(await asyncio.gather(*(bind(a) for a in address_ids)))
    assert statuses == [200, 409]
    shown = (await real_client.get(f"{URL}/{component_id}", headers=committed.headers)).json()
    assert shown["address_id"] in address_ids and shown["version"] == 2
