"""R-API-3 change feed: the changes of the events in jurisdiction since a cursor, oldest first,
the same cursor while nothing happens — and never a skipped change, even when a transaction
that started first commits last (real commits on separate connections)."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import AsyncClient

from tests.conftest import MovableClock
from tests.factories import assert_problem
from tests.territory import (
    SUPERUSER_DSN,
    Committed,
    committed_territory,
    real_client,
    remove_events,
)

URL = "/api/v1/changes"
ACCEPT = {"responsible_person": "王建国", "responsible_phone": "13912345678"}
__all__ = ["real_client"]


@pytest.fixture
async def territory(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    async with committed_territory(app, clock, region="653121", west=80.0, south=42.0) as data:
        try:
            yield data
        finally:
            await remove_events(data.grid_id)


async def report(real_client: AsyncClient, data: Committed, title: str) -> dict[str, Any]:
    r = await real_client.post(
        "/api/v1/events",
        json={
            "title": title,
            "category": "other",
            "subtype": "other",
            "grid_id": str(data.grid_id),
            "occurred_at": "2026-11-22T10:00:00+08:00",
            "description": "变更订阅",
        },
        headers=data.headers,
    )
    assert r.status_code == 201, r.text
    event: dict[str, Any] = r.json()
    return event


async def pull(real_client: AsyncClient, data: Committed, since: str | None) -> dict[str, Any]:
    params = {"since": since} if since else {}
    r = await real_client.get(URL, params=params, headers=data.headers)
    assert r.status_code == 200, r.text
    feed: dict[str, Any] = r.json()
    return feed


async def test_r_api_3_changes_since_a_cursor(
    real_client: AsyncClient, territory: Committed
) -> None:
    start = (await pull(real_client, territory, None))["next_cursor"]
    first = await report(real_client, territory, "第一件")
    second = await report(real_client, territory, "第二件")
    feed = await pull(real_client, territory, start)
    assert [(c["service_no"], c["action"]) for c in feed["items"]] == [
        (first["service_no"], "report"),
        (second["service_no"], "report"),
    ]
    assert feed["items"][0]["state"] == "dispatch"
    # Nothing new: nothing comes, and the cursor stays where it is.
    quiet = await pull(real_client, territory, feed["next_cursor"])
    assert quiet == {"items": [], "next_cursor": feed["next_cursor"]}
    # Paging through with a small limit gives the same changes.
    r = await real_client.get(URL, params={"since": start, "limit": 1}, headers=territory.headers)
    page = r.json()
    assert [c["service_no"] for c in page["items"]] == [first["service_no"]]
    rest = await pull(real_client, territory, page["next_cursor"])
    assert [c["service_no"] for c in rest["items"]] == [second["service_no"]]
    assert_problem(
        await real_client.get(URL, params={"since": "garbage"}, headers=territory.headers),
        400,
        "cursor_invalid",
    )


async def test_r_api_3_a_late_commit_is_not_skipped(
    real_client: AsyncClient, territory: Committed
) -> None:
    slow_event = await report(real_client, territory, "慢事务")
    start = (await pull(real_client, territory, None))["next_cursor"]
    # A transaction that numbers its history row first and commits last, writing as the
    # service does: its turn at the audit chain first (services.audit.take_turn).
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        slow = conn.transaction()
        await slow.start()
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log_chain'))")
        await conn.execute(
            """INSERT INTO event_actions (id, event_id, step_id, path, action, from_state,
                                          to_state, payload, at)
               SELECT gen_random_uuid(), id, current_step_id, path, 'expedite', state, state,
                      '{}', now() FROM events WHERE id = $1""",
            uuid.UUID(slow_event["id"]),
        )
        # Meanwhile another report: it waits for its turn instead of numbering past us.
        quick_task = asyncio.create_task(report(real_client, territory, "快事务"))
        done, _ = await asyncio.wait({quick_task}, timeout=0.5)
        assert not done
        assert (await pull(real_client, territory, start))["items"] == []
        await slow.commit()
    finally:
        await conn.close()
    quick = await quick_task
    after = await pull(real_client, territory, start)
    assert [(c["service_no"], c["action"]) for c in after["items"]] == [
        (slow_event["service_no"], "expedite"),
        (quick["service_no"], "report"),
    ]


async def test_r_api_3_another_districts_admin_sees_none_of_it(
    real_client: AsyncClient, territory: Committed, clock: MovableClock, app: FastAPI
) -> None:
    start = (await pull(real_client, territory, None))["next_cursor"]
    await report(real_client, territory, "别处看不到")
    async with committed_territory(app, clock, region="653122", west=81.0, south=42.0) as other:
        r = await real_client.get(URL, params={"since": start}, headers=other.headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_r_api_3_a_report_does_not_wait_for_an_open_transaction_nor_skips_it(
    real_client: AsyncClient, territory: Committed
) -> None:
    """Migration 0040: a transaction holding a numbered history row no longer keeps a report
    from committing; the row is numbered again when it commits, after the report, so a
    reader that has moved past the report still gets it."""
    slow_event = await report(real_client, territory, "慢事务")
    start = (await pull(real_client, territory, None))["next_cursor"]
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            await conn.execute(
                """INSERT INTO event_actions (id, event_id, step_id, path, action, from_state,
                                              to_state, payload, at)
                   SELECT gen_random_uuid(), id, current_step_id, path, 'expedite', state,
                          state, '{}', now() FROM events WHERE id = $1""",
                uuid.UUID(slow_event["id"]),
            )
            # Bounded: under a lock held to commit this would wait for ever.
            quick = await asyncio.wait_for(report(real_client, territory, "快事务"), timeout=30)
            seen = await pull(real_client, territory, start)
            assert [(c["service_no"], c["action"]) for c in seen["items"]] == [
                (quick["service_no"], "report")
            ]
    finally:
        await conn.close()
    after = await pull(real_client, territory, seen["next_cursor"])
    assert [(c["service_no"], c["action"]) for c in after["items"]] == [
        (slow_event["service_no"], "expedite")
    ]
