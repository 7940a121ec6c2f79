"""The harness's own parts: the in-flight count the apps are wrapped in, the drain's view
of the database's running queries, the build timings kept on the database, and the choice
of the export's filter."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from httpx import ASGITransport, AsyncClient

from bench.dataset import parse_timings, raw_dsn, store_timings, stored_timings
from bench.export import ROWS, choose
from bench.harness import Drain
from bench.serve import IN_FLIGHT, InFlight

LOCK = 424_242


async def test_in_flight_counts_a_request_until_its_handler_returns() -> None:
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        entered.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = InFlight(slow)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as client:
        assert (await client.get(IN_FLIGHT)).text == "0"
        held = asyncio.create_task(client.get("/anything"))
        await entered.wait()
        # The probe is answered at once and not counted itself.
        assert (await client.get(IN_FLIGHT)).text == "1"
        release.set()
        assert (await held).status_code == 204
        assert (await client.get(IN_FLIGHT)).text == "0"


@pytest.fixture
async def connections(database: str) -> AsyncIterator[tuple[asyncpg.Connection, ...]]:
    opened = [await asyncpg.connect(raw_dsn(database)) for _ in range(2)]
    yield tuple(opened)
    for connection in opened:
        await connection.close()


async def test_the_drain_sees_a_query_still_running_and_bounds_its_wait(
    database: str, connections: tuple[asyncpg.Connection, ...]
) -> None:
    holder, waiter = connections
    drain = Drain(raw_dsn(database), apps=(), limit_s=0)
    try:
        assert await asyncio.to_thread(drain.busy) == (0, 0)
        assert await asyncio.to_thread(drain.settle, "product") is None
        await holder.execute("SELECT pg_advisory_lock($1)", LOCK)
        blocked = asyncio.create_task(waiter.execute("SELECT pg_advisory_lock($1)", LOCK))
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        for _ in range(10_000):
            if await holder.fetchval(waiting):
                break
        assert await asyncio.to_thread(drain.busy) == (0, 1)
        note = await asyncio.to_thread(drain.settle, "floor")
        assert note == "floor: 0 requests in flight, 1 active queries; still 0 and 1 after 0 s"
        await holder.execute("SELECT pg_advisory_unlock($1)", LOCK)
        await blocked
        await waiter.execute("SELECT pg_advisory_unlock($1)", LOCK)
        assert await asyncio.to_thread(drain.busy) == (0, 0)
    finally:
        drain.close()


async def test_build_timings_are_kept_on_the_database(
    connections: tuple[asyncpg.Connection, ...],
) -> None:
    raw, _ = connections
    # The test database was made for the run: nothing kept on it yet.
    assert await stored_timings(raw) == {}
    await store_timings(raw, {"city_and_people_s": 41.5, "events_s": 11.0})
    assert await stored_timings(raw) == {"city_and_people_s": 41.5, "events_s": 11.0}


def test_a_comment_of_anything_else_holds_no_timings() -> None:
    assert parse_timings(None) == {}
    assert parse_timings("default administrative connection database") == {}
    assert parse_timings('{"other": 1}') == {}
    assert parse_timings('{"bench_build_seconds": {"events_s": 3, "x": "y"}}') == {"events_s": 3.0}


def test_the_export_takes_the_widest_filter_within_a_million_rows() -> None:
    everyone: tuple[dict[str, str], int] = ({}, 2_000_000)
    registered = ({"kind": "registered"}, 1_500_000)
    floating = ({"kind": "floating"}, 400_000)
    street = ({"unit_id": "s1"}, 700_000)
    assert choose([everyone, registered, floating, street]) == street
    assert choose([({}, ROWS)]) == ({}, ROWS)
    assert choose([everyone, registered]) == registered
