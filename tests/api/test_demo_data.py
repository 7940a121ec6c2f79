"""The demo city's synthetic population (issue item 10), loaded once for the module into a
transaction that is rolled back at the end: counts, identities, places, households, tags and
the bookkeeping every registry row carries, plus idempotency and determinism."""

import math
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from shapely.geometry import Point, box
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from typer.testing import CliRunner

from cli.main import app as cli
from domain import id_numbers
from domain.id_numbers import Gender
from domain.org import Level
from domain.people import Kind, validate_details
from domain.permissions import Perm
from domain.places import (
    STREAM_SCHEMES,
    AttentionLevel,
    ComponentCategory,
    OrganisationCategory,
    PlaceKind,
    VideoSource,
    check_component_kind,
    check_organisation,
    place_details,
    url_valid,
)
from domain.principal import SYSTEM_SCOPE, Principal
from domain.tags import KINDS, Holder, TagKind, age_on, check_holder, parse_details
from services import bootstrap, demo_data, map_queries, tiles
from services.context import Ctx
from services.db import set_scope
from services.demo_layout import kashgar_layout
from services.map_layers import LAYERS
from services.map_queries import Area
from services.models import AuditEntry, OrgUnit
from tests.conftest import MovableClock
from tests.factories import make_grid, make_unit, square, system_ctx

PEOPLE = 2_000
# The demo's events have a module of their own (test_demo_events.py).
EVENTS = 0
TABLES = [table.name for table in demo_data.TABLES]
FACILITIES = ("organisations", "places", "components", "video_points")


@dataclass
class Demo:
    session: AsyncSession
    ctx: Ctx
    district: OrgUnit
    today: date
    # The loader alone, on a second city: rows written and seconds taken.
    rows: int
    seconds: float
    # Its progress reports (people done, people asked for), one per batch.
    reports: list[tuple[int, int]]


async def _other_city(session: AsyncSession, clock: MovableClock) -> OrgUnit:
    """库尔勒市 with two square grids: the loader works under any unit."""
    city = await make_unit(
        session,
        clock,
        code="652801000000",
        level=Level.DISTRICT,
        parent=None,
        geometry=square(86.0, 41.6, 86.2, 41.8),
        name="库尔勒市",
    )
    street = await make_unit(session, clock, code="652801001000", level=Level.STREET, parent=city)
    community = await make_unit(
        session,
        clock,
        code="652801001001",
        level=Level.COMMUNITY,
        parent=street,
        geometry=square(86.0, 41.6, 86.2, 41.7),
    )
    for n, west in enumerate((86.0, 86.1), start=1):
        geometry = square(west, 41.6, west + 0.1, 41.7)
        await make_grid(
            session, clock, code=f"652801001001{n:03d}", parent=community, geometry=geometry
        )
    return city


@pytest.fixture(scope="module")
async def demo(engine: AsyncEngine, clock: MovableClock) -> AsyncIterator[Demo]:
    """喀什市 with PEOPLE residents, as `gridctl seed demo --people 2000` loads it, and a
    second city filled by the loader alone, timed. One transaction, rolled back."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        async with AsyncSession(bind=connection, join_transaction_mode="create_savepoint") as s:
            ctx = await system_ctx(s, clock)
            assert await bootstrap.load_demo_city(ctx, people=PEOPLE, events=EVENTS)
            district = await s.scalar(select(OrgUnit).where(OrgUnit.code == kashgar_layout().code))
            assert district is not None
            other = await _other_city(s, clock)
            reports: list[tuple[int, int]] = []
            started = time.perf_counter()
            counts = await demo_data.load_population(
                ctx,
                other.id,
                people=PEOPLE,
                seed=3,
                batch_size=PEOPLE // 4,
                progress=lambda done, total: reports.append((done, total)),
            )
            seconds = time.perf_counter() - started
            assert counts["people"] == PEOPLE
            yield Demo(s, ctx, district, ctx.today(), sum(counts.values()), seconds, reports)
        await transaction.rollback()


async def _rows(demo: Demo, sql: str, **params: object) -> list[dict[str, Any]]:
    result = await demo.session.execute(text(sql), params)
    return [dict(row._mapping) for row in result]


async def _count(demo: Demo, table: str, under: OrgUnit | None = None) -> int:
    """Rows of a table, all or those under a unit."""
    where = "WHERE path <@ :root" if under else ""
    params = {"root": under.path} if under else {}
    return int(
        await demo.session.scalar(text(f"SELECT count(*) FROM {table} {where}"), params) or 0
    )


async def test_loads_exactly_n_people_in_every_kind(demo: Demo) -> None:
    """`--people N` means N people (R-POP-1: about 85 % registered, 10 % floating, 3 %
    unsettled, 2 % overseas), spread over every demo grid."""
    kinds = {
        r["kind"]: r["n"]
        for r in await _rows(
            demo,
            "SELECT kind, count(*) AS n FROM people WHERE path <@ :root GROUP BY kind",
            root=demo.district.path,
        )
    }
    assert sum(kinds.values()) == PEOPLE
    assert 0.80 <= kinds[Kind.REGISTERED] / PEOPLE <= 0.90
    assert 0.08 <= kinds[Kind.FLOATING] / PEOPLE <= 0.12
    assert 0.01 <= kinds[Kind.UNSETTLED] / PEOPLE <= 0.05
    assert 0.01 <= kinds[Kind.OVERSEAS] / PEOPLE <= 0.03
    empty = await _rows(
        demo,
        """SELECT g.code FROM org_units g WHERE g.level = 'grid' AND g.path <@ :root
           AND NOT EXISTS (SELECT 1 FROM people p WHERE p.grid_id = g.id)""",
        root=demo.district.path,
    )
    assert empty == []


async def test_id_numbers_are_valid_and_agree_with_the_record(demo: Demo) -> None:
    """R-POP-2: every resident ID is a valid GB 11643 number of an existing region whose
    birth date and gender are the record's; overseas people are identified by passport."""
    people = await _rows(demo, "SELECT kind, id_number, birth_date, gender, details FROM people")
    regions: Counter[str] = Counter()
    for person in people:
        if person["kind"] == Kind.OVERSEAS:
            details = validate_details(Kind.OVERSEAS, person["details"])
            assert person["id_number"] == (
                f"{details['document_type']}:{details['nationality']}:{details['document_number']}"
            )
            continue
        resident = id_numbers.verify(
            str(person["id_number"]),
            today=demo.today,
            birth_date=person["birth_date"],
            gender=Gender(str(person["gender"])),
        )
        regions[f"{person['kind']}:{resident.region == demo_data.HOME_REGION}"] += 1
    # Registered people are mostly born in the city, floating people mostly elsewhere.
    assert regions["registered:True"] > 5 * regions["registered:False"]
    assert regions["floating:False"] > 5 * regions["floating:True"]


async def test_no_id_number_is_active_twice(demo: Demo) -> None:
    """R-POP-1: one active record per (grid, ID number) — a load even keeps them unique
    across its city — and house numbers unique system-wide (R-HOUSE-1)."""
    assert (
        await _rows(
            demo,
            """SELECT id_number FROM people WHERE status = 'active'
               GROUP BY subpath(path, 0, 1), id_number HAVING count(*) > 1""",
        )
        == []
    )
    assert (
        await _rows(demo, "SELECT house_no FROM houses GROUP BY house_no HAVING count(*) > 1") == []
    )


# Neighbours share their edges exactly; what remains are hairlines along boundaries where the
# 1e-7° rounding moved or dropped a vertex (centimetres wide, kilometres long). A negative
# buffer of this much (about 5 cm) erases them: whatever survives it is a real gap.
HAIRLINE_DEGREES = 5e-7


async def test_streets_communities_and_grids_tile_the_city_r_grid_3(demo: Demo) -> None:
    """Each unit's children cover it without gaps or overlaps and stay inside it, level by
    level down from 喀什市, measured on the loaded data with ST_Union and geodesic areas."""
    rows = await _rows(
        demo,
        """
        WITH tiles AS (
            SELECT p.id, p.code, p.level, p.geom AS whole, ST_Union(c.geom) AS parts
            FROM org_units p
            JOIN org_units c ON c.parent_id = p.id AND c.deleted_at IS NULL
            WHERE p.path <@ CAST(:root AS ltree) AND p.deleted_at IS NULL
            GROUP BY p.id
        )
        SELECT code, level,
               ST_Area(ST_Buffer(ST_Difference(whole, parts), CAST(:shrink AS float8))::geography)
                   AS gap_m2,
               ST_Area(ST_Buffer(ST_Difference(parts, whole), CAST(:shrink AS float8))::geography)
                   AS outside_m2,
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                FROM org_units a JOIN org_units b
                  ON b.parent_id = a.parent_id AND a.id < b.id AND ST_Intersects(a.geom, b.geom)
                WHERE a.parent_id = tiles.id AND a.deleted_at IS NULL AND b.deleted_at IS NULL
               ) AS overlap_m2,
               ST_Area(whole::geography) AS whole_m2
        FROM tiles
        """,
        root=demo.district.path,
        shrink=-HAIRLINE_DEGREES,
    )
    assert Counter(row["level"] for row in rows) == {"district": 1, "street": 6, "community": 21}
    for row in rows:
        assert row["gap_m2"] == 0, row
        assert row["outside_m2"] == 0, row
        assert row["overlap_m2"] < 1, row  # R-GRID-1's overlap tolerance
    city = next(row for row in rows if row["level"] == "district")
    assert city["whole_m2"] > 900e6  # 喀什市 is about 1,000 km²


async def test_every_point_lies_inside_its_grid(demo: Demo) -> None:
    """People, houses and addresses are placed inside their grid's polygon (ST_Covers)."""
    for table in ("people", "houses", "addresses", *FACILITIES):
        outside = await _rows(
            demo,
            f"""SELECT t.id FROM {table} t JOIN org_units g ON g.id = t.grid_id
                WHERE t.location IS NULL OR NOT ST_Covers(g.geom, t.location)""",
        )
        assert outside == [], table


async def test_rows_carry_their_grid_path_and_registry_bookkeeping(demo: Demo) -> None:
    """Every row has its grid's ltree path, the initial status, version 1 and the load's
    timestamps (SPEC §3)."""
    at = demo.ctx.now()
    grid_bound = ("addresses", "houses", "rentals", "people", "households", "person_tags")
    for table in (*grid_bound, *FACILITIES, "teams"):
        initial = "followed" if table in ("person_tags", "places") else "active"
        wrong = await _rows(
            demo,
            f"""SELECT t.id FROM {table} t JOIN org_units g ON g.id = t.grid_id
                WHERE g.level <> 'grid' OR t.path <> g.path OR t.status <> :initial
                   OR t.version <> 1 OR t.created_at <> :at OR t.updated_at <> :at""",
            initial=initial,
            at=at,
        )
        assert wrong == [], table
        assert await _count(demo, table) > 0, table
    assert (
        await _rows(
            demo,
            """SELECT m.person_id FROM household_members m
           JOIN households h ON h.id = m.household_id
           WHERE m.path <> h.path OR m.joined_at <> :at""",
            at=at,
        )
        == []
    )


async def test_residents_live_in_a_house_or_say_why_not(demo: Demo) -> None:
    """R-POP-5: a house (at the house's address and point) or a no-house reason."""
    wrong = await _rows(
        demo,
        """SELECT p.id FROM people p LEFT JOIN houses h ON h.id = p.house_id
           WHERE (p.house_id IS NULL) = (p.no_house_reason IS NULL)
              OR (h.id IS NOT NULL AND (p.current_address <> h.address
                  OR NOT ST_Equals(p.location, h.location) OR p.grid_id <> h.grid_id))""",
    )
    assert wrong == []
    housed = await demo.session.scalar(text("SELECT avg((house_id IS NOT NULL)::int) FROM people"))
    assert housed is not None and housed > 0.8


async def test_kind_details_are_what_the_people_module_accepts(demo: Demo) -> None:
    """R-POP-3: kind-specific details validate; a floating person's landlord is the owner of
    the house they rent."""
    people = await _rows(
        demo,
        """SELECT p.kind, p.details, h.owner_name FROM people p
           LEFT JOIN houses h ON h.id = p.house_id""",
    )
    for person in people:
        details = person["details"]
        assert validate_details(Kind(str(person["kind"])), details) == details
        if person["kind"] == Kind.FLOATING and person["owner_name"] is not None:
            assert details["landlord"] == person["owner_name"]


async def test_addresses_are_searchable_standard_addresses(demo: Demo) -> None:
    """R-MAP-3: unique normalised full texts with the search forms the address module
    computes; a house's address starts with its standard address."""
    from domain.addresses import normalise, pinyin_initials, search_text

    for row in await _rows(demo, "SELECT full_text, search_text, pinyin_initials FROM addresses"):
        full_text = str(row["full_text"])
        assert full_text == normalise(full_text)
        assert row["search_text"] == search_text(full_text)
        assert row["pinyin_initials"] == pinyin_initials(full_text)
    assert (
        await _rows(
            demo,
            """SELECT h.id FROM houses h JOIN addresses a ON a.id = h.address_id
           WHERE left(h.address, length(a.full_text)) <> a.full_text OR h.grid_id <> a.grid_id""",
        )
        == []
    )


async def test_about_forty_percent_of_houses_are_let_by_their_owner(demo: Demo) -> None:
    """R-HOUSE-2: one rental per let house, its landlord the house's owner."""
    wrong = await _rows(
        demo,
        """SELECT r.id FROM rentals r JOIN houses h ON h.id = r.house_id
           WHERE r.landlord_name <> h.owner_name OR r.landlord_id_number <> h.owner_id_number
              OR r.landlord_phone IS DISTINCT FROM h.owner_phone""",
    )
    assert wrong == []
    assert (
        await _rows(demo, "SELECT house_id FROM rentals GROUP BY house_id HAVING count(*) > 1")
        == []
    )
    share = await _count(demo, "rentals") / await _count(demo, "houses")
    assert 0.3 <= share <= 0.5


async def test_households_group_registered_people_under_their_head(demo: Demo) -> None:
    """R-HH-1: unique household numbers; each head is a member with relation `head`;
    members are registered people of the household's grid; every registered person is in
    one household."""
    assert (
        await _rows(demo, "SELECT household_no FROM households GROUP BY 1 HAVING count(*) > 1")
        == []
    )
    headless = await _rows(
        demo,
        """SELECT h.id FROM households h LEFT JOIN household_members m
             ON m.household_id = h.id AND m.person_id = h.head_person_id AND m.relation = 'head'
           WHERE m.person_id IS NULL""",
    )
    assert headless == []
    strangers = await _rows(
        demo,
        """SELECT m.person_id FROM household_members m
           JOIN households h ON h.id = m.household_id JOIN people p ON p.id = m.person_id
           WHERE p.kind <> 'registered' OR p.grid_id <> h.grid_id""",
    )
    assert strangers == []
    outside = await _rows(
        demo,
        """SELECT p.id FROM people p LEFT JOIN household_members m ON m.person_id = p.id
           WHERE p.kind = 'registered' AND m.person_id IS NULL""",
    )
    assert outside == []


async def test_everyone_sixty_or_older_is_tagged_elderly(demo: Demo) -> None:
    """R-KEY-2: every person aged 60 or more carries an automatic, followed `elderly` tag
    (and nobody younger does)."""
    people = await _rows(
        demo,
        """SELECT p.birth_date, t.id AS tag, t.automatic FROM people p
           LEFT JOIN person_tags t ON t.person_id = p.id AND t.kind = 'elderly'""",
    )
    elderly = [p for p in people if age_on(p["birth_date"], demo.today) >= 60]
    assert elderly, "the demo has old people"
    assert all(p["tag"] is not None and p["automatic"] for p in elderly)
    assert sum(p["tag"] is not None for p in people) == len(elderly)


async def test_business_tags_have_valid_details_and_suit_their_holder(demo: Demo) -> None:
    """SPEC §3.2: tags of every key-person kind (R-KEY-1) and care kind (R-CARE-1), each
    with details the tag module accepts, on a holder of the right age and gender, copied
    from the person; a key person's tag is still followed under R-KEY-2."""
    tags = await _rows(
        demo,
        """SELECT t.kind, t.details, t.id_number, t.name, t.birth_date, p.id_number AS pid,
                  p.name AS pname, p.birth_date AS pbirth, p.gender, t.grid_id, p.grid_id AS pgrid
           FROM person_tags t JOIN people p ON p.id = t.person_id""",
    )
    for tag in tags:
        kind = TagKind(str(tag["kind"]))
        assert parse_details(kind, tag["details"]) == tag["details"]
        holder = Holder(tag["birth_date"], Gender(str(tag["gender"])))
        check_holder(kind, holder, demo.today)
        assert (tag["id_number"], tag["name"], tag["birth_date"], tag["grid_id"]) == (
            tag["pid"],
            tag["pname"],
            tag["pbirth"],
            tag["pgrid"],
        )
        details = tag["details"]
        assert isinstance(details, dict)
        if kind == TagKind.RELEASED_PRISONER:
            assert date.fromisoformat(details["release_date"]) > demo.today - timedelta(
                days=5 * 365
            )
        if kind == TagKind.COMMUNITY_CORRECTION:
            assert date.fromisoformat(details["end_date"]) >= demo.today
    kinds = Counter(str(tag["kind"]) for tag in tags)
    assert set(kinds) == {kind.value for kind in KINDS}, set(KINDS) - set(kinds)
    assert (
        await _rows(
            demo,
            """SELECT grid_id, kind, id_number FROM person_tags WHERE status = 'followed'
           GROUP BY 1, 2, 3 HAVING count(*) > 1""",
        )
        == []
    )


async def test_organisations_places_components_and_cameras_are_valid(demo: Demo) -> None:
    """R-ORGN-1/2: dictionary types and valid licences, unique within a grid; R-PLACE-1: one
    or more kinds with a level and valid details; R-CMP-1: public kinds with unique codes,
    not yet bound; R-VID-1: stream URLs the module accepts. All at the block's addresses."""
    for org in await _rows(demo, "SELECT category, org_type, licence_no FROM organisations"):
        check_organisation(
            OrganisationCategory(org["category"]), org["org_type"], org["licence_no"]
        )
    assert (
        await _rows(
            demo,
            """SELECT 1 FROM organisations WHERE licence_no IS NOT NULL
           GROUP BY category, grid_id, licence_no HAVING count(*) > 1""",
        )
        == []
    )
    assert (
        await _rows(
            demo,
            """SELECT o.id FROM organisations o LEFT JOIN addresses a ON a.id = o.address_id
           WHERE a.id IS NULL OR a.full_text <> o.address OR NOT ST_Equals(a.location, o.location)
              OR o.legal_representative_id_number NOT IN (SELECT id_number FROM people)""",
        )
        == []
    )
    kinds = await _rows(
        demo,
        """SELECT p.id, k.kind, k.level, k.details, k.path = p.path AS same_path FROM places p
           LEFT JOIN place_kinds k ON k.place_id = p.id""",
    )
    for kind in kinds:
        assert kind["kind"] is not None and kind["same_path"], kind
        assert AttentionLevel(kind["level"])
        assert place_details(PlaceKind(kind["kind"]), kind["details"], "details") == kind["details"]
    assert kinds, "the demo has key places"
    for component in await _rows(demo, "SELECT category, kind, address_id FROM components"):
        check_component_kind(ComponentCategory(component["category"]), component["kind"])
        assert component["address_id"] is None
    assert await _rows(demo, "SELECT code FROM components GROUP BY code HAVING count(*) > 1") == []
    for camera in await _rows(demo, "SELECT source, stream_url FROM video_points"):
        assert VideoSource(camera["source"])
        assert url_valid(camera["stream_url"], STREAM_SCHEMES)


async def test_every_grid_has_its_service_team(demo: Demo) -> None:
    """R-TEAM-1: each demo grid has a grid service team led by a grid leader who, like the
    other members, is a resident of the grid."""
    teams = await _rows(
        demo,
        """SELECT g.id, count(DISTINCT t.id) AS teams,
                  count(m.id) FILTER (WHERE m.posts = '{网格长}') AS leaders,
                  bool_and(p.grid_id = g.id AND t.category = 'grid_service') AS local
           FROM org_units g LEFT JOIN teams t ON t.grid_id = g.id
           LEFT JOIN team_members m ON m.team_id = t.id LEFT JOIN people p ON p.id = m.person_id
           WHERE g.level = 'grid' AND g.path <@ :root GROUP BY g.id""",
        root=demo.district.path,
    )
    assert teams and all(
        (team["teams"], team["leaders"], team["local"]) == (1, 1, True) for team in teams
    ), teams


async def test_the_load_is_audited(demo: Demo) -> None:
    """R-AUD-1: one audit entry for the bulk load, with the rows written per table."""
    entries = (
        (
            await demo.session.execute(
                select(AuditEntry.after).where(
                    AuditEntry.action == "demo.population_loaded",
                    AuditEntry.target_id == str(demo.district.id),
                )
            )
        )
        .scalars()
        .all()
    )
    assert len(entries) == 1
    after = entries[0]
    assert after is not None
    for table in TABLES:
        assert after[table] == await _count(demo, table, demo.district), table


async def test_a_second_run_loads_nothing(demo: Demo) -> None:
    """`gridctl seed demo` is idempotent: the city is there, so nothing is loaded, and the
    population loader alone also refuses a populated unit."""
    before = {table: await _count(demo, table) for table in TABLES}
    assert not await bootstrap.load_demo_city(demo.ctx, people=PEOPLE, events=EVENTS)
    assert await demo_data.load_population(demo.ctx, demo.district.id, people=PEOPLE) == {}
    assert {table: await _count(demo, table) for table in TABLES} == before


async def test_large_loads_go_in_batches_and_report_progress(demo: Demo) -> None:
    """Rows are written batch by batch (memory stays flat) with a progress report after
    each; the last report says everything is in."""
    done = [report[0] for report in demo.reports]
    assert len(done) >= 2
    assert done == sorted(done) and len(set(done)) == len(done)
    assert demo.reports[-1] == (PEOPLE, PEOPLE)


async def test_reports_the_load_rate(demo: Demo, capsys: pytest.CaptureFixture[str]) -> None:
    """Measured, not asserted: rows per second the loader reaches (generation included)."""
    with capsys.disabled():
        print(
            f"\ndemo loader: {PEOPLE} people, {demo.rows} rows in {demo.seconds:.2f} s "
            f"= {demo.rows / demo.seconds:,.0f} rows/s"
        )
    assert demo.rows > PEOPLE


def _grid() -> demo_data.DemoGrid:
    grid = kashgar_layout().children[0].children[0].children[0]
    return demo_data.DemoGrid(uuid.UUID(int=1), grid.code, "a.b", grid.geometry)


def _generator(seed: int) -> demo_data.CityGenerator:
    return demo_data.CityGenerator(
        city="喀什市", region="653101", today=date(2026, 11, 23), seed=seed
    )


def test_generation_is_deterministic_for_a_seed() -> None:
    """The same seed gives the same rows (ids included); another seed other rows."""
    grid = _grid()
    area = demo_data.GridArea(grid.polygon)
    first = _generator(7).block(grid, area, 0, 300)
    assert first == _generator(7).block(grid, area, 0, 300)
    assert first["people"] != _generator(8).block(grid, area, 0, 300)["people"]
    assert len(first["people"]) == 300


def test_batches_stay_small_whatever_the_population() -> None:
    """Memory stays flat: rows come in batches of about `batch_size` people, never the
    whole population at once, and all of them arrive."""
    grid = _grid()
    batches = demo_data.batches(_generator(1), {grid: 5 * demo_data.BLOCK_PEOPLE}, 1_500)
    sizes = [len(batch["people"]) for batch in batches]
    assert sum(sizes) == 5 * demo_data.BLOCK_PEOPLE
    assert len(sizes) >= 3
    assert max(sizes) < 1_500 + demo_data.BLOCK_PEOPLE


def test_id_numbers_never_repeat_even_on_a_crowded_day() -> None:
    """R-POP-2: 500 men born the same day in one region exhaust the day's odd sequences;
    the next one is issued for the day before — valid, unique, consistent."""
    today = date(2026, 11, 23)
    ids = demo_data.IdNumbers([demo_data.HOME_REGION], today)
    born = date(1990, 5, 17)
    issued = [ids.issue(demo_data.HOME_REGION, born, Gender.MALE) for _ in range(501)]
    numbers = [number for number, _ in issued]
    assert len(set(numbers)) == 501
    assert {day for _, day in issued[:500]} == {born}
    assert issued[500][1] == born - timedelta(days=1)
    for number, day in issued:
        resident = id_numbers.verify(number, today=today, birth_date=day, gender=Gender.MALE)
        assert resident.region == demo_data.HOME_REGION


def test_cli_takes_the_population_size() -> None:
    """`gridctl seed demo --people N`: the option exists and refuses a negative size."""
    runner = CliRunner()
    assert "--people" in runner.invoke(cli, ["seed", "demo", "--help"]).output
    result = runner.invoke(cli, ["seed", "demo", "--people", "-1"])
    assert result.exit_code != 0


async def _plan(demo: Demo, stmt: Any) -> str:
    """EXPLAIN of a statement as the application role under row-level security, with the
    district's scope (the planner left to choose: nothing is switched off)."""
    dialect = demo.session.get_bind().dialect
    sql = str(stmt.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    async with demo.session.begin_nested():
        await set_scope(demo.session, demo.district.path)
        plan = "\n".join((await demo.session.execute(text("EXPLAIN " + sql))).scalars())
        await set_scope(demo.session, SYSTEM_SCOPE)
    return plan


def _map_reader(demo: Demo) -> Ctx:
    principal = Principal(
        user_id=None,
        username="map-reader",
        full_name="地图",
        unit_id=demo.district.id,
        department_id=None,
        scope=demo.district.path,
        roles=(),
        permissions=frozenset(
            {Perm.MAP_READ.value, Perm.POPULATION_READ.value, Perm.HOUSE_READ.value}
        ),
    )
    return Ctx(session=demo.session, principal=principal, clock=demo.ctx.clock)


AREAS = {
    "bbox": Area(bbox=(75.95, 39.44, 75.99, 39.48)),
    "circle": Area(centre=Point(75.97, 39.46), radius_m=500),
    "polygon": Area(polygon=box(75.95, 39.44, 75.99, 39.48)),
}


@pytest.mark.parametrize("layer_name", ["people", "houses"])
@pytest.mark.parametrize("area_name", list(AREAS))
async def test_map_queries_use_the_spatial_index_on_the_demo_data_r_map_1(
    demo: Demo, layer_name: str, area_name: str
) -> None:
    """EXPLAIN of the statement the map service builds for a box, a circle and a polygon
    over the demo population, as the application role under row-level security: the GiST
    index answers the area (it could not, before `&&` was made leakproof)."""
    layer = LAYERS[layer_name]
    prepared, params = await map_queries.query_statement(
        _map_reader(demo), AREAS[area_name], [layer], {}, {}, 50
    )
    plan = await _plan(demo, prepared.statement.params(params))
    assert f"ix_{layer.model.__tablename__}_location" in plan, plan


def _sql_literal(value: Any) -> str:
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


async def _generic_plan(demo: Demo, prepared: Any, params: dict[str, Any]) -> str:
    """EXPLAIN of the plan a statement gets once it is planned for every caller alike (as
    asyncpg's prepared statements end up after a few runs): its parameters unknown."""
    args = ", ".join(
        _sql_literal(params.get(name, prepared.constants.get(name))) for name in prepared.names
    )
    async with demo.session.begin_nested():
        await set_scope(demo.session, demo.district.path)
        await demo.session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        await demo.session.execute(text(f"PREPARE generic AS {prepared.sql}"))
        try:
            explained = await demo.session.execute(text(f"EXPLAIN EXECUTE generic({args})"))
            plan = "\n".join(explained.scalars())
        finally:
            await demo.session.execute(text("DEALLOCATE generic"))
            await demo.session.execute(text("SET LOCAL plan_cache_mode = auto"))
        await set_scope(demo.session, SYSTEM_SCOPE)
    return plan


@pytest.mark.parametrize("area_name", list(AREAS))
async def test_an_area_planned_for_every_caller_is_found_by_the_spatial_index_alone_r_map_1(
    demo: Demo, area_name: str
) -> None:
    """Planned once for every caller, a statement cannot tell a district's scope from a
    grid's. Offered a path test beside the area, the planner of the 2m benchmark city ANDed
    the path index with the spatial one and read the district's 570,000 index entries for a
    200 m circle's hundred houses: the area's statement tests no path of its own (row-level
    security filters the candidates), and its generic plan reads the spatial index only."""
    layer = LAYERS["houses"]
    prepared, params = await map_queries.query_statement(
        _map_reader(demo), AREAS[area_name], [layer], {}, {}, 50
    )
    assert "houses.path <@" not in prepared.sql
    plan = await _generic_plan(demo, prepared, params)
    assert "ix_houses_location" in plan and "ix_houses_path" not in plan, plan


async def test_vector_tiles_use_the_spatial_index_on_the_demo_data_r_map_2(demo: Demo) -> None:
    """A street-level tile (zoom 16) of the demo's people reads the GiST index too."""
    lon, lat, z = 75.97, 39.46, 16
    x = int((lon + 180) / 360 * 2**z)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    prepared, params = tiles.tile_query(_map_reader(demo), LAYERS["people"], z, x, y)
    plan = await _plan(demo, prepared.statement.params(params))
    assert "ix_people_location" in plan, plan
