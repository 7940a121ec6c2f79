"""The jurisdiction matrix (R-JUR-1), property-based: random district → street → community →
grid trees whose codes collide on prefixes (street 001 / 010 / 100, grid 001 / 010), people,
houses, places and events dropped into random grids, and an admin at every unit. For every
list of the API (enumerated from the app's routes) a principal at each level sees exactly its
subtree — no extra row, none missing — and writes aimed outside it change nothing.

Each example is built inside a savepoint of the test's transaction and rolled back, so the
tree is all there is in the database while the example runs."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import to_shape
from httpx import AsyncClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.org import Level
from domain.principal import within
from services import events
from services.db import set_scope
from services.models import OrgUnit
from tests.conftest import MovableClock
from tests.factories import auth, make_grid, make_unit, make_user, system_ctx
from tests.routes import list_paths
from tests.routes.houses import make_house
from tests.routes.people import make_person, resident_id
from tests.routes.places import make_place

# Lists whose rows the example creates, with the kind of record they hold.
HOLDS = {
    "/api/v1/people": {"person"},
    "/api/v1/houses": {"house"},
    "/api/v1/places": {"place"},
    "/api/v1/events": {"event"},
    "/api/v1/org-units": {"unit", "grid"},
    "/api/v1/grids": {"grid"},
    "/api/v1/users": {"user"},
}
# Lists that cannot be read without a parameter, with the one they get.
REQUIRED = {"/api/v1/assessment/scores": {"period": "2026-11"}}
# Every other list holds nothing the example creates, or rows derived from it (audit entries,
# notifications): it must not show any of the example's records from outside the subtree.
# The change feed is read by `since`, not paged by cursor: its jurisdiction is test_changes.py's.
LISTS = [path for path in list_paths() if "{" not in path and path != "/api/v1/changes"]


@dataclass
class Tree:
    """A generated territory: units by path, the records in each grid, an admin per unit."""

    units: dict[str, OrgUnit] = field(default_factory=dict)
    records: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (kind, path)
    admins: dict[str, Any] = field(default_factory=dict)  # unit path → user

    def add(self, kind: str, record_id: Any, path: str) -> None:
        self.records[str(record_id)] = (kind, path)

    def below(self, scope: str, kinds: set[str]) -> set[str]:
        return {
            rid for rid, (k, path) in self.records.items() if within(path, scope) and k in kinds
        }

    def outside(self, scope: str, kind: str) -> list[str]:
        return sorted(
            rid for rid, (k, path) in self.records.items() if k == kind and not within(path, scope)
        )


# Street numbers whose codes share prefixes (653101001…, 653101010…, 653101100…), and the
# same for communities and grids.
STREETS = [1, 10, 100]
SUBUNITS = [1, 10]


@st.composite
def shapes(draw: st.DrawFn) -> dict[str, Any]:
    """Street → community → grid numbers, and per grid how many of each record it holds."""
    streets = draw(st.lists(st.sampled_from(STREETS), min_size=1, max_size=3, unique=True))
    layout = {
        s: {
            c: draw(st.lists(st.sampled_from(SUBUNITS), min_size=1, max_size=2, unique=True))
            for c in draw(st.lists(st.sampled_from(SUBUNITS), min_size=1, max_size=2, unique=True))
        }
        for s in sorted(streets)
    }
    grids = [(s, c, g) for s, cs in layout.items() for c, gs in cs.items() for g in gs]
    counts = st.lists(st.sampled_from(range(len(grids))), max_size=3)
    placed = {kind: draw(counts) for kind in ("person", "house", "place", "event")}
    # One principal per level, chosen among the units of that level.
    picks = draw(st.lists(st.integers(0, 100), min_size=4, max_size=4))
    return {"layout": layout, "grids": grids, "placed": placed, "picks": picks}


def _strips(outer: Polygon, parts: int, index: int, vertical: bool) -> Polygon:
    west, south, east, north = outer.bounds
    if vertical:
        step = (east - west) / parts
        return box(west + index * step, south, west + (index + 1) * step, north)
    step = (north - south) / parts
    return box(west, south + index * step, east, south + (index + 1) * step)


async def _build(session: AsyncSession, clock: MovableClock, shape: dict[str, Any]) -> Tree:
    tree = Tree()
    area = box(75.0, 39.0, 76.0, 40.0)
    district = await make_unit(
        session, clock, code="653101000000", level=Level.DISTRICT, parent=None, geometry=area
    )
    tree.units[district.path] = district
    grid_units: dict[tuple[int, int, int], OrgUnit] = {}
    layout = shape["layout"]
    for si, (s, communities) in enumerate(layout.items()):
        s_area = _strips(area, len(layout), si, vertical=True)
        street = await make_unit(
            session,
            clock,
            code=f"653101{s:03d}000",
            level=Level.STREET,
            parent=district,
            geometry=s_area,
        )
        tree.units[street.path] = street
        for ci, (c, grids) in enumerate(communities.items()):
            c_area = _strips(s_area, len(communities), ci, vertical=False)
            community = await make_unit(
                session,
                clock,
                code=f"653101{s:03d}{c:03d}",
                level=Level.COMMUNITY,
                parent=street,
                geometry=c_area,
            )
            tree.units[community.path] = community
            for gi, g in enumerate(grids):
                g_area = _strips(c_area, len(grids), gi, vertical=True)
                grid = await make_grid(
                    session,
                    clock,
                    code=f"{community.code}{g:03d}",
                    parent=community,
                    geometry=g_area,
                )
                tree.units[grid.path] = grid
                grid_units[(s, c, g)] = grid
    for unit in tree.units.values():
        tree.add("grid" if unit.level == "grid" else "unit", unit.id, unit.path)
        admin = await make_user(session, roles=["admin"], unit=unit)
        tree.admins[unit.path] = admin
        tree.add("user", admin.id, unit.path)
    grids_in_order = [grid_units[key] for key in shape["grids"]]
    await _place_records(session, clock, tree, grids_in_order, shape["placed"])
    return tree


async def _place_records(
    session: AsyncSession,
    clock: MovableClock,
    tree: Tree,
    grids: list[OrgUnit],
    placed: dict[str, list[int]],
) -> None:
    for index in placed["person"]:
        person = await make_person(session, clock, grids[index])
        tree.add("person", person["id"], grids[index].path)
    for index in placed["house"]:
        house = await make_house(session, clock, grids[index])
        tree.add("house", house["id"], grids[index].path)
    for index in placed["place"]:
        centre = _centre(grids[index])
        place = await make_place(session, clock, grids[index], location=centre)
        tree.add("place", place["id"], grids[index].path)
    for index in placed["event"]:
        event = await _report(session, clock, grids[index])
        tree.add("event", event["id"], grids[index].path)


def _centre(grid: OrgUnit) -> Any:
    assert grid.geom is not None
    return to_shape(grid.geom).centroid


async def _report(session: AsyncSession, clock: MovableClock, grid: OrgUnit) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields = {
        "title": "路灯损坏",
        "category": "dispute",
        "subtype": "neighbour",
        "grid_id": grid.id,
        "occurred_at": datetime(2026, 11, 22, 8, 0, tzinfo=UTC),
        "description": "夜间无照明",
    }
    return await events.report_event(ctx, fields, resolve_on_spot=False, result=None)


def _principals(tree: Tree, picks: list[int]) -> list[str]:
    """One unit path per level (district, street, community, grid)."""
    chosen = []
    for level, pick in zip(("district", "street", "community", "grid"), picks, strict=True):
        paths = sorted(p for p, u in tree.units.items() if u.level == level)
        chosen.append(paths[pick % len(paths)])
    return chosen


async def _read_all(client: AsyncClient, path: str, headers: dict[str, str]) -> set[str]:
    """Every id a list hands out, following its cursor to the end."""
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 100, **REQUIRED.get(path, {})}
    while True:
        r = await client.get(path, params=params, headers=headers)
        assert r.status_code == 200, (path, r.text)
        page = r.json()
        for item in page["items"]:
            ids |= {str(item[key]) for key in ("id", "target_id", "person_id") if item.get(key)}
        if not page.get("next_cursor"):
            return ids
        params["cursor"] = page["next_cursor"]


def test_the_matrix_covers_every_list_it_seeds() -> None:
    assert len(LISTS) > 30
    assert set(HOLDS) <= set(LISTS)


MATRIX = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    # A failing tree is reported as drawn: shrinking replays whole trees through the API.
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@MATRIX
@given(shape=shapes())
async def test_r_jur_1_every_list_shows_exactly_the_subtree(
    client: AsyncClient, session: AsyncSession, clock: MovableClock, shape: dict[str, Any]
) -> None:
    async with session.begin_nested() as example:
        tree = await _build(session, clock, shape)
        for scope in _principals(tree, shape["picks"]):
            headers = auth(tree.admins[scope], clock)
            for path in LISTS:
                seen = await _read_all(client, path, headers)
                known = seen & set(tree.records)
                outside = {rid for rid in known if not within(tree.records[rid][1], scope)}
                assert outside == set(), (path, scope, outside)
                kinds = HOLDS.get(path)
                if kinds is not None:
                    held = {rid for rid in known if tree.records[rid][0] in kinds}
                    assert held == tree.below(scope, kinds), (path, scope)
        await example.rollback()


async def _state(session: AsyncSession) -> tuple[Any, ...]:
    await set_scope(session, "*")
    rows = await session.execute(
        text(
            "SELECT (SELECT count(*) FROM people), (SELECT count(*) FROM houses),"
            " (SELECT count(*) FROM events), (SELECT count(*) FROM places),"
            " (SELECT count(*) FROM audit_log),"
            " (SELECT coalesce(sum(version), 0) FROM people),"
            " (SELECT coalesce(sum(version), 0) FROM houses)"
        )
    )
    return tuple(rows.one())


@MATRIX
@given(shape=shapes())
async def test_r_jur_1_writes_aimed_outside_the_subtree_change_nothing(
    client: AsyncClient, session: AsyncSession, clock: MovableClock, shape: dict[str, Any]
) -> None:
    async with session.begin_nested() as example:
        tree = await _build(session, clock, shape)
        for scope in _principals(tree, shape["picks"])[1:]:
            headers = auth(tree.admins[scope], clock)
            foreign_grids = tree.outside(scope, "grid")
            before = await _state(session)
            for grid_id in foreign_grids[:2]:
                for path, body in _creates(grid_id).items():
                    r = await client.post(path, json=body, headers=headers)
                    assert r.status_code in (403, 404), (path, r.text)
            for person_id in tree.outside(scope, "person")[:2]:
                target = f"/api/v1/people/{person_id}"
                r = await client.patch(
                    target, json={"phone": "13800000000"}, headers={**headers, "If-Match": '"1"'}
                )
                assert r.status_code == 404, r.text
                r = await client.post(
                    f"{target}/deregister", json={"reason": "迁出"}, headers=headers
                )
                assert r.status_code == 404, r.text
            for house_id in tree.outside(scope, "house")[:2]:
                r = await client.patch(
                    f"/api/v1/houses/{house_id}",
                    json={"house_no": "X1"},
                    headers={**headers, "If-Match": '"1"'},
                )
                assert r.status_code == 404, r.text
            for event_id in tree.outside(scope, "event")[:2]:
                r = await client.post(
                    f"/api/v1/events/{event_id}/actions/expedite", json={}, headers=headers
                )
                assert r.status_code == 404, r.text
            assert await _state(session) == before, scope
        await example.rollback()


def _creates(grid_id: str) -> dict[str, dict[str, Any]]:
    """A body per registry create naming a grid outside the caller's subtree."""
    return {
        "/api/v1/people": {
            "grid_id": grid_id,
            "kind": "registered",
            "id_number": resident_id(),
            "name": "越权",
            "no_house_reason": "借住",
        },
        "/api/v1/houses": {
            "grid_id": grid_id,
            "house_no": f"H{uuid.uuid4().hex[:8]}",
            "address": "喀什市人民路9号",
        },
        "/api/v1/events": {
            "title": "越权上报",
            "category": "dispute",
            "subtype": "neighbour",
            "grid_id": grid_id,
            "occurred_at": "2026-11-22T17:30:00+08:00",
            "description": "不应写入",
        },
    }
