"""R-EXP-1 over the whole API: every list can be exported with its current filters, streamed,
in both formats. The list routes are enumerated from the app (every GET answering a keyset
page), so a new list without its export fails here.

Each export is `{list}/export`, takes every filter of its list and `format`, declares
`data:export` and streams (a StreamingResponse). Then each is called, as the district's
admin on the rolled-back world, in CSV and XLSX: a parameterised list gets its concrete path
from the jurisdiction route table. Masking of exports is swept in test_masking_scan.py."""

import io
import zipfile
from datetime import timedelta

import pytest
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Requires
from domain.permissions import Perm
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes import Call, api_routes, collect, list_paths, prepare

TABLE = collect()
PAGING = {"limit", "cursor"}
# Lists served by another list's export, a path parameter becoming its filter.
EXPORTED_ELSEWHERE = {"/api/v1/people/{person_id}/tags": ("/api/v1/tags/export", "person_id")}
# Filters a list cannot do without.
REQUIRED = {"/api/v1/assessment/scores": {"period": "2026-11"}}
# Lists that are not tables of records to hand out.
NOT_EXPORTED = {
    # A feed read by cursor, not a list with filters (R-API-3).
    "/api/v1/changes",
    # Agencies' credentials, their webhook subscriptions and delivery log: integration
    # settings, not records.
    "/api/v1/api-keys",
    "/api/v1/api-keys/{key_id}/webhooks",
    "/api/v1/webhooks/{subscription_id}/attempts",
    # The files of one event: downloaded one by one, not as a table.
    "/api/v1/events/{event_id}/attachments",
    # The mobile app's own reads: handbooks, the worker's own visits, history, check-ins.
    "/api/v1/handbooks",
    "/api/v1/mobile/visits",
    "/api/v1/mobile/history",
    "/api/v1/mobile/check-ins",
}


ROUTES = api_routes()
LISTS = [path for path in list_paths() if path not in NOT_EXPORTED]
EXPORTED = [path for path in LISTS if path not in EXPORTED_ELSEWHERE]


def _query(route: APIRoute) -> set[str]:
    found, todo = set(), [route.dependant]
    while todo:
        dependant = todo.pop()
        found |= {p.alias for p in dependant.query_params}
        todo.extend(dependant.dependencies)
    return found


def _permissions(route: APIRoute) -> set[Perm]:
    found, todo = set(), [route.dependant]
    while todo:
        dependant = todo.pop()
        if isinstance(dependant.call, Requires):
            found.add(dependant.call.permission)
        todo.extend(dependant.dependencies)
    return found


def test_the_enumeration_finds_the_lists() -> None:
    assert len(LISTS) > 30
    assert {"/api/v1/people", "/api/v1/import-pool", "/api/v1/audit"} <= set(LISTS)
    assert {p for (m, p), r in ROUTES.items() if m == "GET"} >= NOT_EXPORTED


@pytest.mark.parametrize("path", LISTS)
def test_every_list_has_a_streamed_export_with_its_filters_r_exp_1(path: str) -> None:
    listed = ROUTES[("GET", path)]
    target, moved = EXPORTED_ELSEWHERE.get(path, (f"{path}/export", None))
    export = ROUTES.get(("GET", target))
    assert export is not None, f"no export for {path}"
    assert export.response_class is StreamingResponse
    assert Perm.DATA_EXPORT in _permissions(export)
    filters = _query(listed) - PAGING | ({moved} if moved else set())
    assert filters <= _query(export) - {"format"}, filters - _query(export)
    assert "format" in _query(export)


async def _concrete(path: str, session: AsyncSession, world: World, clock: MovableClock) -> str:
    if "{" not in path:
        return path
    call: Call = await prepare(TABLE.scoped[("GET", path)], session, world, clock)
    return call.path


@pytest.mark.parametrize("path", EXPORTED)
async def test_every_export_answers_csv_and_xlsx_r_exp_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, path: str
) -> None:
    concrete = await _concrete(path, session, world, clock)
    headers = auth(world.admin_d, clock)
    given = REQUIRED.get(path, {})
    as_csv = await client.get(
        f"{concrete}/export", params={**given, "format": "csv"}, headers=headers
    )
    assert as_csv.status_code == 200, as_csv.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    # The BOM, then a header row of Chinese column names.
    text = as_csv.content.decode("utf-8")
    assert text.startswith("\ufeff")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text.splitlines()[0])

    as_xlsx = await client.get(
        f"{concrete}/export", params={**given, "format": "xlsx"}, headers=headers
    )
    assert as_xlsx.status_code == 200, as_xlsx.text
    with zipfile.ZipFile(io.BytesIO(as_xlsx.content)) as book:
        assert "xl/worksheets/sheet1.xml" in book.namelist()


async def test_grid_export_follows_the_box_and_the_time_r_exp_1(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.admin_d, clock)

    async def codes(**params: str) -> list[str]:
        r = await client.get(
            "/api/v1/grids/export", params={"format": "csv", **params}, headers=headers
        )
        assert r.status_code == 200, r.text
        return [line.split(",")[0] for line in r.content.decode("utf-8-sig").splitlines()[1:]]

    box = "75.91,39.41,75.94,39.44"
    assert await codes(bbox=box) == [world.g1.code]
    later = (clock.now() + timedelta(minutes=1)).isoformat()
    assert await codes(bbox=box, as_of=later) == [world.g1.code]
    assert await codes(as_of="2000-01-01T00:00:00+08:00") == []


async def test_audit_export_is_for_readers_of_the_trail_r_exp_1(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    r = await client.get(
        "/api/v1/audit/export",
        params={"format": "csv", "target_type": "org_unit"},
        headers=auth(world.admin_d, clock),
    )
    assert r.status_code == 200
    # A leader may export lists but does not read the audit trail.
    leader = await make_user(session, roles=["leader"], unit=world.district)
    denied = await client.get(
        "/api/v1/audit/export", params={"format": "csv"}, headers=auth(leader, clock)
    )
    assert_problem(denied, 403, "permission_denied")
