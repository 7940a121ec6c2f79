"""Map range queries and vector tiles (R-MAP-1, R-MAP-2): unit, box, circle and polygon over
combined layers, inside jurisdiction, masked, index-backed."""

import math
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import mapbox_vector_tile
import prcoords
from httpx import AsyncClient
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.map_layers import LAYERS
from services.models import House, OrgUnit, Person, PersonTag, WorkerPosition
from services.pagination import encode_cursor
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.pii import leaks
from tests.routes import houses as house_factories
from tests.routes import places as place_factories
from tests.routes.events import OCCURRED, make_event
from tests.statements import recorded

QUERY = "/api/v1/map/query"
CENTRE = (75.925, 39.425)  # the middle of grid G1
METRES_PER_LON_DEGREE = 111_320 * math.cos(math.radians(CENTRE[1]))
VALID_ID = "653101199001011237"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ (web-mercator) tile holding a point."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def east_of_centre(metres: float) -> tuple[float, float]:
    return CENTRE[0] + metres / METRES_PER_LON_DEGREE, CENTRE[1]


async def add_person(
    session: AsyncSession,
    grid: OrgUnit,
    lon: float,
    lat: float,
    *,
    name: str = "张三丰",
    id_number: str | None = None,
    kind: str = "registered",
) -> Person:
    await set_scope(session, SYSTEM_SCOPE)
    person = Person(
        grid_id=grid.id,
        path=grid.path,
        kind=kind,
        id_number=id_number or f"6531011990{uuid.uuid4().int % 10**8:08d}",
        name=name,
        no_house_reason="无房",
        location=f"SRID=4326;POINT({lon} {lat})",
        created_at=_now(),
        updated_at=_now(),
    )
    session.add(person)
    await session.flush()
    return person


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime(2026, 11, 1, tzinfo=UTC)


async def populate(session: AsyncSession, world: World) -> dict[str, Person]:
    people = {
        "centre": await add_person(session, world.g1, *CENTRE, id_number=VALID_ID),
        "100m": await add_person(session, world.g1, *east_of_centre(100)),
        "300m": await add_person(session, world.g1, *east_of_centre(300)),
        "700m": await add_person(session, world.g1, *east_of_centre(700)),
        "g2": await add_person(session, world.g2, 75.975, 39.425),
        "g3": await add_person(session, world.g3, 76.025, 39.425),
    }
    session.add(
        House(
            grid_id=world.g1.id,
            path=world.g1.path,
            house_no=f"H-{uuid.uuid4().hex[:8]}",
            address="西域大道1号",
            location=f"SRID=4326;POINT({CENTRE[0]} {CENTRE[1]})",
            created_at=_now(),
            updated_at=_now(),
        )
    )
    session.add(
        PersonTag(
            grid_id=world.g1.id,
            path=world.g1.path,
            person_id=people["300m"].id,
            kind="drug_user",
            id_number=people["300m"].id_number or "",
            name="x",
            status="followed",
            created_at=_now(),
            updated_at=_now(),
        )
    )
    await session.flush()
    return people


async def run(client: AsyncClient, user: Any, clock: MovableClock, **body: Any) -> Any:
    return await client.post(QUERY, json=body, headers=auth(user, clock))


def ids(result: Any, layer: str = "people") -> set[str]:
    return {item["id"] for item in result.json()["layers"][layer]["items"]}


async def test_circle_in_metres_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    people = await populate(session, world)
    r200 = await run(
        client, world.admin_d, clock, layers=["people"], center=list(CENTRE), radius_m=200
    )
    assert r200.status_code == 200, r200.text
    assert ids(r200) == {str(people["centre"].id), str(people["100m"].id)}
    r500 = await run(
        client, world.admin_d, clock, layers=["people"], center=list(CENTRE), radius_m=500
    )
    assert ids(r500) == {str(people[k].id) for k in ("centre", "100m", "300m")}
    assert r500.json()["layers"]["people"]["total"] == 3


async def test_circle_centre_from_a_phone_in_gcj02_r_grid_4(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    people = await populate(session, world)
    gcj = prcoords.wgs_gcj((CENTRE[1], CENTRE[0]))
    r = await run(
        client,
        world.admin_d,
        clock,
        layers=["people"],
        center=[gcj.lon, gcj.lat],
        radius_m=50,
        crs="gcj02",
    )
    assert ids(r) == {str(people["centre"].id)}
    unconverted = await run(
        client, world.admin_d, clock, layers=["people"], center=[gcj.lon, gcj.lat], radius_m=50
    )
    assert ids(unconverted) == set()


async def test_bbox_polygon_and_unit_over_combined_layers_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    people = await populate(session, world)
    g1_people = {str(people[k].id) for k in ("centre", "100m", "300m", "700m")}
    box = await run(
        client, world.admin_d, clock, layers=["people", "houses"], bbox=[75.90, 39.40, 75.95, 39.45]
    )
    assert ids(box) == g1_people
    assert box.json()["layers"]["houses"]["total"] == 1
    polygon = {
        "type": "Polygon",
        "coordinates": [
            [[75.96, 39.41], [76.04, 39.41], [76.04, 39.44], [75.96, 39.44], [75.96, 39.41]]
        ],
    }
    poly = await run(client, world.admin_d, clock, layers=["people"], polygon=polygon, geojson=True)
    assert ids(poly) == {str(people["g2"].id), str(people["g3"].id)}
    features = poly.json()["layers"]["people"]["geojson"]["features"]
    assert {f["geometry"]["type"] for f in features} == {"Point"}
    unit = await run(client, world.admin_d, clock, layers=["people"], unit_id=str(world.c1.id))
    assert ids(unit) == g1_people | {str(people["g2"].id)}


async def test_filters_by_category_and_kind_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    people = await populate(session, world)
    r = await run(
        client,
        world.admin_d,
        clock,
        layers=["people"],
        unit_id=str(world.district.id),
        filters={"people": {"tag_kind": "drug_user"}},
    )
    assert ids(r) == {str(people["300m"].id)}
    bad = await run(
        client,
        world.admin_d,
        clock,
        layers=["people"],
        unit_id=str(world.district.id),
        filters={"people": {"colour": "red"}},
    )
    assert_problem(bad, 422, "validation_failed")
    unknown = await run(
        client, world.admin_d, clock, layers=["ufo"], unit_id=str(world.district.id)
    )
    assert_problem(unknown, 422, "map_layer_unknown")


async def test_pages_follow_the_cursor_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await populate(session, world)
    seen: set[str] = set()
    cursor = None
    while True:
        body: dict[str, Any] = {"layers": ["people"], "unit_id": str(world.district.id), "limit": 2}
        if cursor:
            body["cursors"] = {"people": cursor}
        page = (await run(client, world.admin_d, clock, **body)).json()["layers"]["people"]
        assert page["total"] == 6
        seen |= {item["id"] for item in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 6


async def test_bad_areas_are_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[75.9, 39.4], [76.0, 39.5], [76.0, 39.4], [75.9, 39.5], [75.9, 39.4]]],
    }
    assert_problem(
        await run(client, world.admin_d, clock, layers=["people"], polygon=bowtie),
        422,
        "geometry_invalid",
    )
    both = await run(
        client,
        world.admin_d,
        clock,
        layers=["people"],
        bbox=[75.9, 39.4, 76.0, 39.5],
        unit_id=str(world.g1.id),
    )
    assert_problem(both, 422, "validation_failed")
    inverted = await run(
        client, world.admin_d, clock, layers=["people"], bbox=[76.0, 39.4, 75.9, 39.5]
    )
    assert_problem(inverted, 422, "validation_failed")
    too_far = await run(
        client, world.admin_d, clock, layers=["people"], center=list(CENTRE), radius_m=10**6
    )
    assert_problem(too_far, 422, "validation_failed")


async def test_jurisdiction_and_masking_r_jur_1_r_jur_3(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    people = await populate(session, world)
    everything = [75.8, 39.3, 76.2, 39.7]
    sibling = await run(client, world.admin_s2, clock, layers=["people"], bbox=everything)
    assert ids(sibling) == {str(people["g3"].id)}
    outside = await run(client, world.admin_s2, clock, layers=["people"], unit_id=str(world.c1.id))
    assert_problem(outside, 404, "org_unit_not_found")
    worker = await run(client, world.worker_g1, clock, layers=["people"], bbox=everything)
    items = worker.json()["layers"]["people"]["items"]
    assert len(items) == 4  # only the worker's own grid
    centre = next(i for i in items if i["id"] == str(people["centre"].id))
    assert centre["id_number"] == "653101********1237"
    assert centre["name"] == "张**"
    admin = await run(client, world.admin_d, clock, layers=["people"], bbox=everything)
    full = next(
        i for i in admin.json()["layers"]["people"]["items"] if i["id"] == str(people["centre"].id)
    )
    assert full["id_number"] == VALID_ID


async def test_vector_tiles_cluster_and_respect_jurisdiction_r_map_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    await populate(session, world)
    for z in (8, 12, 16):
        x, y = tile_of(*CENTRE, z)
        url = f"/api/v1/map/tiles/people/{z}/{x}/{y}.mvt"
        own = await client.get(url, headers=auth(world.admin_s1, clock))
        assert own.status_code == 200
        assert own.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert len(own.content) > 0
        if z == 16:
            sibling = await client.get(url, headers=auth(world.admin_s2, clock))
            assert sibling.content == b""
    far_x, far_y = tile_of(100.0, 30.0, 12)
    far = await client.get(
        f"/api/v1/map/tiles/people/12/{far_x}/{far_y}.mvt", headers=auth(world.admin_d, clock)
    )
    assert far.content == b""
    bad = await client.get(
        "/api/v1/map/tiles/people/3/99/0.mvt", headers=auth(world.admin_d, clock)
    )
    assert_problem(bad, 422, "validation_failed")


async def test_range_queries_use_the_spatial_index_r_map_1(
    session: AsyncSession, world: World
) -> None:
    """The bounding-box predicate every range query carries is answered by the GiST index on
    people.location, as the application role under row-level security."""
    await set_scope(session, SYSTEM_SCOPE)
    await session.execute(
        text(
            """
            INSERT INTO people (id, grid_id, path, kind, id_number, name, no_house_reason,
                                location, created_at, updated_at)
            SELECT gen_random_uuid(), :grid, :path, 'registered', lpad(i::text, 18, '0'), 'p',
                   '无', ST_SetSRID(ST_MakePoint(75.90 + (i % 500) * 0.0001,
                                                 39.40 + (i / 500) * 0.0001), 4326),
                   now(), now()
            FROM generate_series(1, 20000) AS i
            """
        ),
        {"grid": world.g1.id, "path": world.g1.path},
    )
    # The application role may not ANALYZE (it owns nothing), so the statistics of rows this
    # transaction just wrote are unknown: take sequential scans off the table to ask the
    # planner whether the index CAN answer the predicate under row-level security.
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    await set_scope(session, world.s1.path)
    plan = "\n".join(
        (
            await session.execute(
                text(
                    "EXPLAIN SELECT id FROM people WHERE status = 'active' AND "
                    "location && ST_MakeEnvelope(75.9, 39.4, 75.901, 39.401, 4326)"
                )
            )
        ).scalars()
    )
    assert "ix_people_location" in plan, plan


async def test_places_and_components_layers_with_their_filters_r_map_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)
    point = {"type": "Point", "coordinates": list(CENTRE)}
    for code, condition in (("JG-001", "damaged"), ("JG-002", "normal")):
        made = await client.post(
            "/api/v1/components",
            json={
                "grid_id": str(world.g1.id),
                "code": code,
                "name": "井盖",
                "category": "public",
                "kind": "manhole_cover",
                "condition": condition,
                "location": point,
            },
            headers=headers,
        )
        assert made.status_code == 201, made.text
    place = await client.post(
        "/api/v1/places",
        json={
            "grid_id": str(world.g1.id),
            "name": "老城旅馆",
            "location": point,
            "kinds": [
                {"kind": "public_security", "level": "severe", "details": {"subtype": "旅馆"}}
            ],
        },
        headers=headers,
    )
    assert place.status_code == 201, place.text
    r = await run(
        client,
        world.admin_d,
        clock,
        layers=["components", "places"],
        center=list(CENTRE),
        radius_m=50,
        filters={"components": {"condition": "damaged"}, "places": {"level": "severe"}},
    )
    assert r.status_code == 200, r.text
    layers = r.json()["layers"]
    assert [i["code"] for i in layers["components"]["items"]] == ["JG-001"]
    assert [i["name"] for i in layers["places"]["items"]] == ["老城旅馆"]
    calm = await run(
        client,
        world.admin_d,
        clock,
        layers=["places"],
        center=list(CENTRE),
        radius_m=50,
        filters={"places": {"level": "normal"}},
    )
    assert calm.json()["layers"]["places"]["total"] == 0


FACILITY = (75.921, 39.421)  # inside grid G1


async def populate_every_layer(
    session: AsyncSession, world: World, clock: MovableClock
) -> dict[str, Any]:
    """Records of every map layer in grid G1, with personal data to keep out of tiles."""
    people = await populate(session, world)
    point = Point(*FACILITY)
    await place_factories.make_organisation(session, clock, world.g1, location=point)
    await place_factories.make_place(session, clock, world.g1, location=point)
    await place_factories.make_component(session, clock, world.g1, location=point)
    await place_factories.make_video_point(session, clock, world.g1, location=point)
    await house_factories.make_address(session, clock, world.g1, location=point)
    await make_event(session, clock, world, location=point)
    await set_scope(session, SYSTEM_SCOPE)
    session.add(
        WorkerPosition(
            id=world.worker_g1.id,
            path=world.g1.path,
            full_name=world.worker_g1.full_name,
            location=f"SRID=4326;POINT({FACILITY[0]} {FACILITY[1]})",
            reported_at=_now(),
        )
    )
    await session.flush()
    return people


async def test_every_layer_has_vector_tiles_in_jurisdiction_without_personal_fields_r_map_2(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-MAP-2 per layer: a tile holds the layer's features (points from zoom 14, counted
    clusters below) for the unit's own users, nothing for a sibling unit's, and never a
    personal field — only ids and non-sensitive attributes — whoever asks (R-JUR-3)."""
    people = await populate_every_layer(session, world, clock)
    secrets = [VALID_ID, "张三丰", place_factories.PRINCIPAL_PHONE]
    for name, layer in LAYERS.items():
        lon, lat = CENTRE if name in ("people", "houses") else FACILITY
        for z in (10, 16):
            x, y = tile_of(lon, lat, z)
            url = f"/api/v1/map/tiles/{name}/{z}/{x}/{y}.mvt"
            own = await client.get(url, headers=auth(world.worker_g1, clock))
            assert own.status_code == 200, (name, own.text)
            decoded = mapbox_vector_tile.decode(own.content)
            features = decoded[name]["features"]
            assert features, (name, z)
            allowed = {"count"} if z < 14 else {"id", *(c.key for c in layer.tile_columns)}
            for feature in features:
                assert set(feature["properties"]) <= allowed, (name, feature["properties"])
            for secret in secrets:
                assert secret.encode() not in own.content, (name, secret)
            assert leaks(own.content.decode("latin-1")) == []
            sibling = await client.get(url, headers=auth(world.admin_s2, clock))
            assert (sibling.status_code, sibling.content) == (200, b""), name
    # The worker of G1 counts G1's people only; the district all six (one zoom-6 tile holds
    # every grid: 75.9375° E is a tile edge from zoom 7 up).
    x, y = tile_of(*CENTRE, 6)
    mine = mapbox_vector_tile.decode(
        (
            await client.get(
                f"/api/v1/map/tiles/people/6/{x}/{y}.mvt", headers=auth(world.worker_g1, clock)
            )
        ).content
    )
    district = mapbox_vector_tile.decode(
        (
            await client.get(
                f"/api/v1/map/tiles/people/6/{x}/{y}.mvt", headers=auth(world.admin_d, clock)
            )
        ).content
    )

    def total(tile: dict[str, Any]) -> int:
        return sum(f["properties"]["count"] for f in tile["people"]["features"])

    assert total(mine) == 4 and total(district) == len(people)


async def test_a_grid_worker_range_query_over_every_layer_is_masked_r_map_1_r_jur_3(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """All layers combined in one call, items and GeoJSON: no full ID number or phone."""
    await populate_every_layer(session, world, clock)
    r = await run(
        client,
        world.worker_g1,
        clock,
        layers=list(LAYERS),
        bbox=[75.8, 39.3, 76.2, 39.7],
        geojson=True,
    )
    assert r.status_code == 200, r.text
    for name in LAYERS:
        assert r.json()["layers"][name]["total"] >= 1, name
    assert leaks(r.text) == []
    assert "张三丰" not in r.text


async def test_events_are_a_layer_filtered_by_category_and_open_state_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-MAP-1 names events among the layers: by area, category and open/closed."""
    near = Point(*FACILITY)
    dispute = await make_event(session, clock, world, location=near)
    await make_event(
        session, clock, world, location=near, category="city_component", subtype="manhole_cover"
    )
    await make_event(session, clock, world)  # no location: not on the map

    async def found(**filters: str) -> set[str]:
        r = await run(
            client,
            world.admin_d,
            clock,
            layers=["events"],
            center=list(FACILITY),
            radius_m=100,
            filters={"events": filters},
        )
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["layers"]["events"]["items"]}

    assert len(await found()) == 2
    assert await found(category="dispute") == {str(dispute["id"])}
    assert len(await found(open="true")) == 2 and await found(open="false") == set()
    assert await found(state="closed") == set()
    r = await run(
        client, world.admin_s2, clock, layers=["events"], center=list(FACILITY), radius_m=100
    )
    assert r.json()["layers"]["events"]["total"] == 0


async def test_every_layer_of_a_call_is_read_in_one_statement_r_map_1(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    """However many layers a call combines, their totals and pages come in one round trip."""
    await populate_every_layer(session, world, clock)
    tables = {layer.model.__tablename__ for layer in LAYERS.values()}
    async with recorded(conn) as statements:
        r = await run(
            client, world.admin_d, clock, layers=list(LAYERS), bbox=[75.8, 39.3, 76.2, 39.7]
        )
    reads = [s for s in statements if any(f"FROM {table}" in s for table in tables)]
    assert r.status_code == 200, r.text
    assert all(r.json()["layers"][name]["total"] >= 1 for name in LAYERS)
    assert len(reads) == 1, reads


async def test_items_show_instants_in_the_business_zone_and_refuse_a_forged_cursor_r_map_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Instants of items (an event's occurrence) in +08:00 as everywhere (API.md); a cursor
    that does not hold an id is a 400, never a 500."""
    event_id = (await make_event(session, clock, world, location=Point(*FACILITY)))["id"]
    r = await run(
        client, world.admin_d, clock, layers=["events"], center=list(FACILITY), radius_m=100
    )
    [item] = r.json()["layers"]["events"]["items"]
    assert item["id"] == str(event_id)
    assert item["occurred_at"] == OCCURRED.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
    forged = await run(
        client,
        world.admin_d,
        clock,
        layers=["events"],
        center=list(FACILITY),
        radius_m=100,
        cursors={"events": encode_cursor(["not an id"])},
    )
    assert_problem(forged, 400, "cursor_invalid")
