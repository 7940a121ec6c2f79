"""The audit trail (R-AUD-1): every write leaves an entry in the same transaction, entries
are append-only and hash-chained, and the verifier finds the first tampered entry."""

import asyncio
import itertools
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.principal import SYSTEM
from services import audit
from services.context import Ctx
from services.db import set_scope
from tests.conftest import TEST_DB, MovableClock, unique
from tests.factories import World, auth

SUPERUSER_DSN = f"postgresql://postgres@127.0.0.1:5432/{TEST_DB}"


async def _entries(session: AsyncSession, target_id: object) -> list[dict[str, Any]]:
    await set_scope(session, "*")
    rows = await session.execute(
        text("SELECT * FROM audit_log WHERE target_id = :t ORDER BY id"), {"t": str(target_id)}
    )
    return [dict(r._mapping) for r in rows]


async def test_a_write_records_actor_before_after_and_request_id(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    response = await client.patch(
        f"/api/v1/grids/{world.g1.id}",
        json={"name": "新名字", "reason": "调整"},
        headers={**auth(world.admin_d, clock), "X-Request-ID": "req-123"},
    )
    assert response.status_code == 200, response.text
    entry = (await _entries(session, world.g1.id))[-1]
    assert entry["action"] == "grid.update"
    assert entry["actor_id"] == world.admin_d.id
    assert entry["before"]["name"] != "新名字"
    assert entry["after"]["name"] == "新名字"
    assert entry["reason"] == "调整"
    assert entry["request_id"] == "req-123"
    assert entry["unit_path"] == world.g1.path


async def test_a_failed_write_leaves_no_entry(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    before = len(await _entries(session, world.g1.id))
    overlapping = {
        "type": "Polygon",
        "coordinates": [
            [[75.94, 39.40], [75.99, 39.40], [75.99, 39.45], [75.94, 39.45], [75.94, 39.40]]
        ],
    }
    response = await client.patch(
        f"/api/v1/grids/{world.g1.id}",
        json={"geometry": overlapping},
        headers=auth(world.admin_d, clock),
    )
    assert response.status_code == 422
    assert len(await _entries(session, world.g1.id)) == before


async def test_the_app_cannot_update_or_delete_entries(session: AsyncSession, world: World) -> None:
    await set_scope(session, "*")
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="permission denied"):
            async with session.begin_nested():
                await session.execute(text(statement))


async def test_verify_endpoint_reports_an_intact_chain(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    auditor_headers = auth(world.admin_d, clock)
    response = await client.get("/api/v1/audit/verify", headers=auditor_headers)
    assert response.status_code == 200
    body = response.json()
    assert body["intact"] is True and body["first_broken_id"] is None
    assert body["tail_missing"] is False and body["head_id"] is not None
    assert body["entries"] > 0


async def test_entries_are_chained_in_order(session: AsyncSession, world: World) -> None:
    await set_scope(session, "*")
    rows = (
        await session.execute(text("SELECT id, prev_hash, hash FROM audit_log ORDER BY id"))
    ).all()
    assert len(rows) >= 9  # the world fixture audits nine units
    for previous, current in itertools.pairwise(rows):
        assert current.prev_hash == previous.hash
        assert current.id > previous.id


async def test_a_batch_is_chained_entry_by_entry(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """R-AUD-1: set-based work audits many changes in one statement, each its own entry,
    linked into the chain like single entries."""
    ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
    changes = [audit.Change(f"batch-{n}", None, {"n": n}) for n in range(3)]
    await audit.record_many(ctx, action="test.batch", target_type="test", changes=changes)
    await set_scope(session, "*")
    rows = (
        await session.execute(
            text(
                "SELECT target_id, after, prev_hash, hash, hash = audit_hash(a) AS sound"
                " FROM audit_log a ORDER BY id DESC LIMIT 4"
            )
        )
    ).all()[::-1]
    assert [r.target_id for r in rows[1:]] == ["batch-0", "batch-1", "batch-2"]
    assert [r.after for r in rows[1:]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    for previous, current in itertools.pairwise(rows):
        assert current.prev_hash == previous.hash
    assert all(r.sound for r in rows)


async def test_tampering_in_sql_is_detected_at_the_tampered_entry() -> None:
    """A superuser edits an entry behind the application's back (triggers disabled): the
    verifier names that entry. Everything happens in one rolled-back transaction."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('grid.scope', '*', true)")
            ids = []
            for action in ("a.one", "a.two", "a.three"):
                ids.append(
                    await conn.fetchval(
                        "INSERT INTO audit_log (at, action, target_type, after) "
                        "VALUES (now(), $1, 'test', '{\"n\": 1}') RETURNING id",
                        action,
                    )
                )
            report = await _verify_over(conn)
            assert report.intact
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("UPDATE audit_log SET after = '{\"n\": 2}' WHERE id = $1", ids[1])
            report = await _verify_over(conn)
            assert not report.intact
            assert report.first_broken_id == ids[1]
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


async def test_a_deleted_entry_breaks_the_link_after_it() -> None:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            ids = [
                await conn.fetchval(
                    "INSERT INTO audit_log (at, action, target_type) VALUES (now(), $1, 't') "
                    "RETURNING id",
                    f"b.{n}",
                )
                for n in range(3)
            ]
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("DELETE FROM audit_log WHERE id = $1", ids[1])
            report = await _verify_over(conn)
            assert report.first_broken_id == ids[2]
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


async def test_a_deleted_tail_is_detected_against_the_chain_head() -> None:
    """The newest entries deleted behind the triggers' back leave an unbroken chain: only the
    chain head (migration 0007) still names the last entry written."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            ids = [
                await conn.fetchval(
                    "INSERT INTO audit_log (at, action, target_type) VALUES (now(), $1, 't') "
                    "RETURNING id",
                    f"c.{n}",
                )
                for n in range(3)
            ]
            assert (await _verify_over(conn)).intact
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("DELETE FROM audit_log WHERE id = ANY($1::bigint[])", ids[1:])
            report = await _verify_over(conn)
            assert not report.intact
            assert report.first_broken_id is None
            assert report.tail_missing and report.head_id == ids[2]
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


async def test_truncate_is_refused_even_for_the_owner() -> None:
    """TRUNCATE fires no row trigger: a statement trigger refuses it (R-AUD-1)."""
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO audit_log (at, action, target_type) VALUES (now(), 'd', 't')"
            )
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute("TRUNCATE audit_log")
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


async def test_a_truncate_behind_the_triggers_back_is_detected() -> None:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            last = await conn.fetchval(
                "INSERT INTO audit_log (at, action, target_type) VALUES (now(), 'e', 't') "
                "RETURNING id"
            )
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute("TRUNCATE audit_log")
            report = await _verify_over(conn)
            assert not report.intact and report.entries == 0
            assert report.tail_missing and report.head_id == last
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()


async def test_the_app_cannot_truncate(session: AsyncSession, world: World) -> None:
    with pytest.raises(Exception, match="permission denied"):
        async with session.begin_nested():
            await session.execute(text("TRUNCATE audit_log"))


class _Rollback(Exception):
    pass


async def _verify_over(conn: asyncpg.Connection) -> audit.ChainReport:
    """The service's verification query on a raw superuser connection."""
    row = await conn.fetchrow(str(audit._VERIFY))
    return audit.chain_report(SimpleNamespace(**dict(row)))


async def _entry(conn: asyncpg.Connection, action: str) -> Any:
    return await conn.fetchrow(
        "INSERT INTO audit_log (at, action, target_type) VALUES (now(), $1, 't')"
        " RETURNING id, prev_hash, hash",
        action,
    )


async def _committed(actions: list[str]) -> list[Any]:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        return list(
            await conn.fetch(
                "SELECT id, action, prev_hash, hash FROM audit_log WHERE action = ANY($1)"
                " ORDER BY id",
                actions,
            )
        )
    finally:
        await conn.close()


async def _verify_committed() -> audit.ChainReport:
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        return await _verify_over(conn)
    finally:
        await conn.close()


async def test_an_open_transaction_holds_no_lock_and_is_linked_after_earlier_commits() -> None:
    """R-AUD-1 (migration 0040): a transaction with entries written does not keep others from
    writing and committing theirs; committing last, its entries are linked again after theirs
    and the whole chain verifies."""
    tag = unique("late")
    slow, quick = await asyncpg.connect(SUPERUSER_DSN), await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with slow.transaction():
            written = await _entry(slow, f"{tag}.slow.1")

            async def write_and_commit() -> None:
                async with quick.transaction():
                    await _entry(quick, f"{tag}.quick.1")
                    await _entry(quick, f"{tag}.quick.2")

            # Bounded: under a lock held to commit this would wait for ever.
            await asyncio.wait_for(write_and_commit(), timeout=30)
            await _entry(slow, f"{tag}.slow.2")
    finally:
        await slow.close()
        await quick.close()
    rows = await _committed([f"{tag}.{n}" for n in ("slow.1", "slow.2", "quick.1", "quick.2")])
    assert [r["action"] for r in rows] == [f"{tag}.{n}" for n in ("quick.1", "quick.2")] + [
        f"{tag}.{n}" for n in ("slow.1", "slow.2")
    ]
    for previous, current in itertools.pairwise(rows):
        assert current["prev_hash"] == previous["hash"]
    assert rows[2]["id"] > written["id"]
    assert (await _verify_committed()).intact


async def test_entries_written_after_taking_the_turn_stand_as_written() -> None:
    """A batch written after `take_turn` links to the committed head at once: another
    transaction's commit waits for it, and its entries keep their ids and hashes."""
    tag = unique("turn")
    first, other = await asyncpg.connect(SUPERUSER_DSN), await asyncpg.connect(SUPERUSER_DSN)
    try:
        other_tx = other.transaction()
        await other_tx.start()
        await _entry(other, f"{tag}.other")
        async with first.transaction():
            await first.execute("SELECT pg_advisory_xact_lock(hashtext('audit_log_chain'))")
            written = [await _entry(first, f"{tag}.first.{n}") for n in range(2)]
            committing = asyncio.create_task(other_tx.commit())
            done, _ = await asyncio.wait({committing}, timeout=0.5)
            assert not done
        await committing
    finally:
        await first.close()
        await other.close()
    rows = await _committed([f"{tag}.first.0", f"{tag}.first.1", f"{tag}.other"])
    assert [(r["id"], r["hash"]) for r in rows[:2]] == [(w["id"], w["hash"]) for w in written]
    assert rows[2]["action"] == f"{tag}.other" and rows[2]["prev_hash"] == written[1]["hash"]
    assert (await _verify_committed()).intact


async def test_only_the_commits_own_relinking_may_update_an_entry() -> None:
    """The append-only trigger lets through the relinking of the committing transaction's
    own entries and nothing else: neither an update of an entry it has just written, nor an
    update of a committed entry with the relinking flag set."""
    relinking = "SELECT set_config('grid.audit_relinking', pg_current_xact_id()::text, true)"
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        async with conn.transaction():
            own = await _entry(conn, "g.own")
            oldest = await conn.fetchval("SELECT min(id) FROM audit_log")
            for flag, target in ((None, own["id"]), (relinking, oldest)):
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                    async with conn.transaction():
                        if flag:
                            await conn.execute(flag)
                        await conn.execute(
                            "UPDATE audit_log SET action = 'x' WHERE id = $1", target
                        )
            raise _Rollback
    except _Rollback:
        pass
    finally:
        await conn.close()
