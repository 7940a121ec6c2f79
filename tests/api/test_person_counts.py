"""The people list's totals are sums of `person_counts` (migration 0047), which the write path
keeps per path, kind and status (R-POP-1): after any write the counts equal the people
counted afresh, and the list's total under every filter and scope equals the rows it lists."""

import uuid
from typing import Any

import asyncpg
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.people import Kind
from domain.principal import SYSTEM_SCOPE
from services import people
from services.db import set_scope
from tests.api.test_map_clusters import SUPERUSER_DSN, scatter_people
from tests.conftest import MovableClock
from tests.factories import World, auth, system_ctx
from tests.routes.people import make_person
from tests.statements import recorded

COUNTS = "SELECT path::text, kind, status, n FROM person_counts WHERE n <> 0 AND path <@ {root}"
AFRESH = (
    "SELECT path::text, kind, status, count(*) FROM people WHERE path <@ {root} GROUP BY 1, 2, 3"
)


async def _both(session: AsyncSession, world: World) -> tuple[set[Any], set[Any]]:
    await set_scope(session, SYSTEM_SCOPE)
    root = {"root": world.district.path}
    kept = await session.execute(text(COUNTS.format(root="CAST(:root AS ltree)")), root)
    afresh = await session.execute(text(AFRESH.format(root="CAST(:root AS ltree)")), root)
    return {tuple(row) for row in kept}, {tuple(row) for row in afresh}


async def _agree(session: AsyncSession, world: World) -> None:
    kept, afresh = await _both(session, world)
    assert kept == afresh and kept


async def test_r_pop_1_the_counts_follow_every_write_of_the_people(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Through the services one by one, in bulk as imports write, then moved between grids,
    kinds and statuses by set-based updates."""
    made = [
        await make_person(session, clock, grid, kind=kind)
        for grid in (world.g1, world.g2, world.g3)
        for kind in (Kind.REGISTERED, Kind.FLOATING)
    ]
    ctx = await system_ctx(session, clock)
    await people.deregister_person(ctx, made[0]["id"], reason="迁出", expected_version=None)
    await _agree(session, world)
    await scatter_people(session, world, 40, seed=7)
    await _agree(session, world)
    moved = {"grid": world.g3.id, "path": world.g3.path, "from": world.g1.id}
    await session.execute(
        text(
            "UPDATE people SET grid_id = :grid, path = CAST(:path AS ltree) WHERE grid_id = :from"
        ),
        moved,
    )
    await session.execute(
        text("UPDATE people SET kind = 'unsettled' WHERE grid_id = :grid"), {"grid": world.g2.id}
    )
    await session.execute(text("UPDATE people SET status = 'deregistered' WHERE kind = 'floating'"))
    await _agree(session, world)


async def test_r_pop_1_an_edit_that_moves_no_one_writes_no_count(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Most edits change a person's details, not their count: the counts, shared by every
    writer of the grid, are left alone (no new row version, no lock)."""
    for _ in range(3):
        await make_person(session, clock, world.g1)
    versions = text("SELECT path::text, kind, status, xmin::text FROM person_counts")
    before = set((await session.execute(versions)).all())
    await session.execute(text("UPDATE people SET name = '李四', updated_at = now()"))
    assert set((await session.execute(versions)).all()) == before


async def test_people_deleted_or_truncated_behind_the_application_leave_their_counts() -> None:
    """The application never deletes a person, the owner may: deletes take the counts away,
    a truncate empties them. One rolled-back transaction as the superuser."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    transaction = conn.transaction()
    await transaction.start()
    try:
        unit = uuid.uuid4()
        await conn.execute(
            "INSERT INTO org_units (id, code, name, level, path)"
            " VALUES ($1, '659999000000', '测试区', 'district', $2::ltree)",
            unit,
            unit.hex,
        )
        await conn.execute(
            "INSERT INTO people (id, grid_id, path, kind, id_number, name, no_house_reason,"
            " created_at, updated_at)"
            " SELECT gen_random_uuid(), $1, $2::ltree, 'registered', 'P' || i, '居民', '无',"
            " now(), now()"
            " FROM generate_series(1, 4) AS i",
            unit,
            unit.hex,
        )
        total = "SELECT sum(n) FROM person_counts WHERE path = $1::ltree"
        assert await conn.fetchval(total, unit.hex) == 4
        await conn.execute("DELETE FROM people WHERE grid_id = $1 AND id_number <> 'P4'", unit)
        assert await conn.fetchval(total, unit.hex) == 1
        await conn.execute("TRUNCATE people CASCADE")
        assert await conn.fetchval("SELECT count(*) FROM person_counts") == 0
    finally:
        await transaction.rollback()
        await conn.close()


async def test_r_pop_1_every_total_of_the_list_is_the_sum_of_the_counts_it_may_see(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    """Totals for the whole jurisdiction, a unit, a kind and a status, for the district and
    for each street (a sibling's people are not in them), equal the rows the list pages
    through; none of them counts the people themselves."""
    for grid, kinds in ((world.g1, 3), (world.g2, 2), (world.g3, 1)):
        for i in range(kinds):
            await make_person(session, clock, grid, kind=list(Kind)[i])
    ctx = await system_ctx(session, clock)
    first = await make_person(session, clock, world.g2, kind=Kind.FLOATING)
    await people.deregister_person(ctx, first["id"], reason="迁出", expected_version=None)
    filters: list[dict[str, Any]] = [
        {},
        {"unit_id": str(world.c1.id)},
        {"unit_id": str(world.g2.id), "status": "active"},
        {"kind": "floating"},
        {"status": "deregistered"},
    ]
    seen = set()
    for user in (world.admin_d, world.admin_s1, world.admin_s2):
        for query in filters:
            if user is world.admin_s2 and "unit_id" in query:
                continue
            async with recorded(conn) as statements:
                r = await client.get(
                    "/api/v1/people", params=query | {"limit": 2}, headers=auth(user, clock)
                )
            assert r.status_code == 200, r.text
            page = r.json()
            listed = len(page["items"])
            cursor = page["next_cursor"]
            while cursor:
                more = await client.get(
                    "/api/v1/people",
                    params=query | {"limit": 2, "cursor": cursor},
                    headers=auth(user, clock),
                )
                listed += len(more.json()["items"])
                cursor = more.json()["next_cursor"]
            assert page["total"] == listed, (user.username, query)
            seen.add((user.username, str(query), listed))
            assert any("person_counts" in s for s in statements)
            assert not any("count(*)" in s and "FROM people" in s for s in statements)
    totals = {(name, query): n for name, query, n in seen}
    assert totals[(world.admin_d.username, "{}")] == 7
    assert totals[(world.admin_s1.username, "{}")] == 6
    assert totals[(world.admin_s2.username, "{}")] == 1
    assert totals[(world.admin_d.username, str({"status": "deregistered"}))] == 1
