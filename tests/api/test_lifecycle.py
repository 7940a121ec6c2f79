"""R-KEY-2: the daily life cycle of business tags — the day before and the day of each limit
(leap-day birthdays too), elderly tagging, history, audit, staff notifications, idempotence,
a large population in one run, and the two entry points (arq cron job, `gridctl lifecycle`)."""

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from cli.main import app as cli
from domain.org import Level
from domain.tags import EXPIRY_BY_KIND, TagKind
from services import audit
from services.db import set_scope, system_session
from services.lifecycle import COUNTERS, run_lifecycle
from services.models import AuditEntry, Notification, OrgUnit, PersonTag, StatusChange, User
from tests.conftest import TEST_DB, MovableClock
from tests.domain.test_tags import VALID_DETAILS
from tests.factories import World, make_grid, make_unit, make_user, square, system_ctx
from tests.routes.tags import make_person, make_tag, resident_id
from workers.lifecycle import lifecycle_daily
from workers.settings import WorkerSettings

ZERO = dict.fromkeys(COUNTERS, 0)


def at(day: date) -> datetime:
    """A moment of that business day (10:00 in Shanghai)."""
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


async def run(session: AsyncSession, clock: MovableClock, as_of: date) -> dict[str, int]:
    return await run_lifecycle(await system_ctx(session, clock), as_of)


async def tag_row(session: AsyncSession, tag_id: uuid.UUID) -> PersonTag:
    await set_scope(session, "*")
    tag = (
        await session.execute(
            select(PersonTag)
            .where(PersonTag.id == tag_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return tag


def details(kind: TagKind, **changes: Any) -> dict[str, Any]:
    return {**VALID_DETAILS[kind], **changes}


CASES = [
    # (kind, details, birth date, created on, the last day the tag is still followed)
    (
        TagKind.RELEASED_PRISONER,
        details(TagKind.RELEASED_PRISONER, release_date="2021-03-10"),
        date(1980, 1, 1),
        date(2022, 1, 1),
        date(2026, 3, 9),
    ),
    (
        TagKind.RELEASED_PRISONER,
        details(TagKind.RELEASED_PRISONER, release_date="2020-02-29"),
        date(1980, 1, 1),
        date(2020, 6, 1),
        date(2025, 2, 27),
    ),
    (
        TagKind.RELEASED_REEDUCATION,
        details(TagKind.RELEASED_REEDUCATION, release_date="2023-06-01"),
        date(1980, 1, 1),
        date(2024, 1, 1),
        date(2026, 5, 31),
    ),
    (
        TagKind.COMMUNITY_CORRECTION,
        details(TagKind.COMMUNITY_CORRECTION, start_date="2025-01-01", end_date="2026-05-31"),
        date(1980, 1, 1),
        date(2025, 6, 1),
        date(2026, 5, 31),
    ),
    (
        TagKind.KEY_YOUTH,
        VALID_DETAILS[TagKind.KEY_YOUTH],
        date(2000, 6, 15),
        date(2020, 1, 1),
        date(2026, 6, 14),
    ),
    (
        TagKind.KEY_YOUTH,
        VALID_DETAILS[TagKind.KEY_YOUTH],
        date(2000, 2, 29),
        date(2020, 1, 1),
        date(2026, 2, 27),
    ),
]


@pytest.mark.parametrize(
    ("kind", "tag_details", "born", "created", "last_day"),
    CASES,
    ids=[f"{c[0].value}-{c[4]}" for c in CASES],
)
async def test_r_key_2_unfollowed_on_the_day_of_the_limit_not_the_day_before(
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    kind: TagKind,
    tag_details: dict[str, Any],
    born: date,
    created: date,
    last_day: date,
) -> None:
    """Released prisoners 5 years after release (29 Feb → 28 Feb), re-education 3 years,
    community correction once the end date has passed, key youth on the 26th birthday."""
    clock.current = at(created)
    tag = await make_tag(
        session, clock, world.g1, kind=kind, details=tag_details, id_number=resident_id(born)
    )
    clock.current = at(last_day)
    counter = EXPIRY_BY_KIND[kind].counter
    assert (await run(session, clock, last_day))[counter] == 0
    assert (await tag_row(session, tag["id"])).status == "followed"

    clock.current = at(last_day + timedelta(days=1))
    counts = await run(session, clock, last_day + timedelta(days=1))
    assert counts[counter] == 1
    row = await tag_row(session, tag["id"])
    assert (row.status, row.version, row.status_changed_at) == ("unfollowed", 2, clock.current)
    assert row.status_reason and "自动取消关注" in row.status_reason
    history = (
        await session.execute(
            select(StatusChange.from_status, StatusChange.to_status, StatusChange.reason).where(
                StatusChange.target_id == tag["id"]
            )
        )
    ).all()
    assert [tuple(h) for h in history] == [("followed", "unfollowed", row.status_reason)]
    entry = (
        await session.execute(
            select(AuditEntry).where(
                AuditEntry.target_id == str(tag["id"]), AuditEntry.action == "person_tag.unfollowed"
            )
        )
    ).scalar_one()
    assert (entry.actor_name, entry.reason, entry.unit_path) == (
        "system",
        row.status_reason,
        world.g1.path,
    )
    assert entry.before == {"status": "followed"}
    assert entry.after == {"status": "unfollowed", "ids": [str(tag["id"])], "count": 1}
    # A second run the same day, or a later one, changes nothing.
    assert await run(session, clock, last_day + timedelta(days=1)) == ZERO
    assert (await run(session, clock, last_day + timedelta(days=30)))[counter] == 0


@dataclass
class Staff:
    leader_g1: User
    staff_c1: User
    worker_g2: User
    bystanders: list[User]


async def make_staff(session: AsyncSession, world: World) -> Staff:
    """The grid's staff (its grid and community, staff roles) and users who are not."""
    inactive = await make_user(session, roles=["community_staff"], unit=world.c1)
    inactive.is_active = False
    return Staff(
        leader_g1=await make_user(session, roles=["grid_leader"], unit=world.g1),
        staff_c1=await make_user(session, roles=["community_staff"], unit=world.c1),
        worker_g2=await make_user(session, roles=["grid_worker"], unit=world.g2),
        bystanders=[
            inactive,
            await make_user(session, roles=["admin"], unit=world.c1),
            await make_user(session, roles=["grid_worker"], unit=world.g3),
            await make_user(session, roles=["street_operator"], unit=world.s1),
        ],
    )


async def notified(session: AsyncSession, target_id: uuid.UUID) -> dict[uuid.UUID, Notification]:
    await set_scope(session, "*")
    rows = await session.execute(select(Notification).where(Notification.target_id == target_id))
    return {n.user_id: n for n in rows.scalars()}


async def test_r_key_2_each_change_notifies_the_grids_staff_once(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    staff = await make_staff(session, world)
    clock.current = at(date(2022, 1, 1))
    number = resident_id(date(1980, 1, 1))
    released = await make_tag(
        session,
        clock,
        world.g1,
        kind=TagKind.RELEASED_PRISONER,
        details=details(TagKind.RELEASED_PRISONER, release_date="2021-03-10"),
        id_number=number,
        name="赵六",
    )
    clock.current = at(date(2026, 3, 10))
    counts = await run(session, clock, date(2026, 3, 10))
    assert counts["released_unfollowed"] == 1 and counts["notifications"] == 3
    notes = await notified(session, released["id"])
    assert set(notes) == {world.worker_g1.id, staff.leader_g1.id, staff.staff_c1.id}
    note = notes[world.worker_g1.id]
    assert note.title == "业务人员自动取消关注"
    assert note.body == "刑释人员「赵*」：刑满释放已满5年，自动取消关注"
    assert number not in note.body
    assert (note.kind, note.target_type, note.read_at) == ("tag_lifecycle", "person_tag", None)
    assert note.dedupe_key and note.path == world.g1.path

    # An elderly person in G2: G2's worker and C1's staff (C1 holds G2), not G1's.
    elder = await make_person(session, world.g2, born=date(1950, 1, 1), name="钱七")
    counts = await run(session, clock, date(2026, 3, 10))
    assert counts["elderly_tagged"] == 1 and counts["notifications"] == 2
    tag_id = (
        await session.execute(select(PersonTag.id).where(PersonTag.person_id == elder.id))
    ).scalar_one()
    notes = await notified(session, tag_id)
    assert set(notes) == {staff.worker_g2.id, staff.staff_c1.id}
    assert notes[staff.staff_c1.id].body == "老年人「钱*」：年满60周岁，自动标记为老年人"
    for user in staff.bystanders:
        assert user.id not in notes
    assert await run(session, clock, date(2026, 3, 10)) == ZERO


async def test_r_key_2_people_aged_60_are_tagged_elderly_once(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The day before the 60th birthday nothing; on it an automatic elderly tag linked to the
    person; not for the deregistered, nor for someone already followed as elderly."""
    turning = await make_person(session, world.g1, born=date(1966, 11, 23), name="孙八")
    await make_person(session, world.g1, born=date(1940, 1, 1), status="deregistered")
    tagged = await make_person(session, world.g1, born=date(1950, 1, 1))
    assert tagged.id_number is not None
    await make_tag(
        session, clock, world.g1, kind=TagKind.ELDERLY, details={}, id_number=tagged.id_number
    )
    assert (await run(session, clock, date(2026, 11, 22)))["elderly_tagged"] == 0
    counts = await run(session, clock, date(2026, 11, 23))
    assert counts["elderly_tagged"] == 1
    tag = (
        await session.execute(select(PersonTag).where(PersonTag.person_id == turning.id))
    ).scalar_one()
    assert (tag.kind, tag.status, tag.automatic) == ("elderly", "followed", True)
    assert (tag.id_number, tag.name, tag.grid_id, tag.path) == (
        turning.id_number,
        "孙八",
        world.g1.id,
        world.g1.path,
    )
    assert tag.birth_date == date(1966, 11, 23) and tag.details == {}
    entry = (
        await session.execute(select(AuditEntry).where(AuditEntry.target_id == str(tag.id)))
    ).scalar_one()
    assert entry.action == "person_tag.create" and entry.unit_path == world.g1.path
    assert entry.after == {"kind": "elderly", "automatic": True, "ids": [str(tag.id)], "count": 1}
    assert await run(session, clock, date(2026, 11, 24)) == ZERO


async def test_r_key_2_the_whole_run_is_idempotent(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Every rule firing at once; the second run changes nothing and notifies nobody."""
    await make_staff(session, world)
    for kind, tag_details, born, created, _ in CASES:
        clock.current = at(created)
        await make_tag(
            session, clock, world.g1, kind=kind, details=tag_details, id_number=resident_id(born)
        )
    await make_person(session, world.g2, born=date(1950, 1, 1))
    clock.current = at(date(2026, 11, 23))
    first = await run(session, clock, date(2026, 11, 23))
    # Six G1 tags (3 staff each) and one elderly person in G2 (G2's worker, C1's staff).
    assert first == {
        "released_unfollowed": 2,
        "reeducation_unfollowed": 1,
        "correction_unfollowed": 1,
        "youth_unfollowed": 2,
        "elderly_tagged": 1,
        "notifications": 6 * 3 + 2,
    }
    rows = {
        "tags": await session.scalar(select(func.count()).select_from(PersonTag)),
        "history": await session.scalar(select(func.count()).select_from(StatusChange)),
        "notes": await session.scalar(select(func.count()).select_from(Notification)),
        "audit": await session.scalar(select(func.count()).select_from(AuditEntry)),
    }
    clock.advance(timedelta(hours=1))
    assert await run(session, clock, date(2026, 11, 23)) == ZERO
    assert rows == {
        "tags": await session.scalar(select(func.count()).select_from(PersonTag)),
        "history": await session.scalar(select(func.count()).select_from(StatusChange)),
        "notes": await session.scalar(select(func.count()).select_from(Notification)),
        "audit": await session.scalar(select(func.count()).select_from(AuditEntry)),
    }


async def test_r_key_2_a_large_population_in_one_set_based_run(
    session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """Twenty thousand people aged 60+ are tagged in one run, audited and notified; the
    statements are set-based, so this takes seconds even when the planner's statistics are
    stale (as on a fresh deployment), and a second run finds nothing to do."""
    await set_scope(session, "*")
    await session.execute(
        text(
            """
            INSERT INTO people (id, grid_id, path, kind, id_number, name, birth_date, gender,
                                no_house_reason, created_at, updated_at)
            SELECT gen_random_uuid(), :grid, CAST(:path AS ltree), 'registered', 'P' || i,
                   '老人' || i, DATE '1950-01-01' + (i % 3000), 'male', '无', now(), now()
            FROM generate_series(1, 20000) AS i
            """
        ),
        {"grid": world.g3.id, "path": world.g3.path},
    )
    await make_user(session, roles=["grid_worker"], unit=world.g3)
    started = time.monotonic()
    counts = await run(session, clock, date(2026, 11, 23))
    elapsed = time.monotonic() - started
    assert (counts["elderly_tagged"], counts["notifications"]) == (20000, 20000)
    assert elapsed < 60, elapsed
    # One audit entry for the grid names all twenty thousand, and the chain holds.
    entry = (
        await session.execute(
            select(AuditEntry).where(
                AuditEntry.unit_path == world.g3.path, AuditEntry.action == "person_tag.create"
            )
        )
    ).scalar_one()
    assert entry.after is not None and entry.after["count"] == len(entry.after["ids"]) == 20000
    assert entry.target_id is None
    report = await audit.verify_chain(await system_ctx(session, clock))
    assert report.intact
    assert (await run(session, clock, date(2026, 11, 23)))["elderly_tagged"] == 0


def test_the_daily_cron_job_is_registered_in_business_time() -> None:
    """R-KEY-2 "run daily by the worker": 01:05 Asia/Shanghai, one worker at a time."""
    job = next(j for j in WorkerSettings.cron_jobs or () if j.coroutine is lifecycle_daily)
    assert (job.hour, job.minute, job.second, job.unique) == (1, 5, 0, True)
    assert str(WorkerSettings.timezone) == "Asia/Shanghai"


SUPERUSER_DSN = f"postgresql://postgres@127.0.0.1:5432/{TEST_DB}"
# A territory of its own (Hotan, 653201) whose committed rows never meet the rolled-back worlds.
DISTRICT = "653201000000"


@dataclass
class Committed:
    grid: OrgUnit
    person_id: uuid.UUID
    worker: User


@pytest.fixture
async def committed(app: FastAPI, clock: MovableClock) -> AsyncIterator[Committed]:
    """An elderly person and a grid worker committed for real (the CLI and the cron job run
    in sessions of their own), removed afterwards."""
    async with system_session(app.state.sessionmaker) as session:
        d = await make_unit(
            session,
            clock,
            code=DISTRICT,
            level=Level.DISTRICT,
            parent=None,
            geometry=square(79.9, 37.0, 80.1, 37.2),
        )
        s = await make_unit(session, clock, code="653201001000", level=Level.STREET, parent=d)
        c = await make_unit(
            session,
            clock,
            code="653201001001",
            level=Level.COMMUNITY,
            parent=s,
            geometry=square(79.9, 37.0, 80.0, 37.1),
        )
        g = await make_grid(
            session,
            clock,
            code="653201001001001",
            parent=c,
            geometry=square(79.9, 37.0, 79.95, 37.05),
        )
        person = await make_person(
            session, g, born=date(1950, 1, 1), id_number=resident_id(date(1950, 1, 1))
        )
        worker = await make_user(session, roles=["grid_worker"], unit=g)
        data = Committed(grid=g, person_id=person.id, worker=worker)
    try:
        yield data
    finally:
        conn = await asyncpg.connect(SUPERUSER_DSN)
        try:
            await conn.execute(
                """
                DELETE FROM notifications WHERE path <@ $1::ltree;
                DELETE FROM status_changes WHERE path <@ $1::ltree;
                DELETE FROM person_tags WHERE path <@ $1::ltree;
                DELETE FROM people WHERE path <@ $1::ltree;
                DELETE FROM user_roles
                    WHERE user_id IN (SELECT id FROM users WHERE path <@ $1::ltree);
                DELETE FROM users WHERE path <@ $1::ltree;
                DELETE FROM org_unit_versions WHERE code LIKE '653201%';
                """.replace("$1", f"'{d.path}'")
            )
            for level in ("grid", "community", "street", "district"):
                await conn.execute(
                    f"DELETE FROM org_units WHERE code LIKE '653201%' AND level = '{level}'"
                )
        finally:
            await conn.close()


async def _tags_of(app: FastAPI, person_id: uuid.UUID) -> list[tuple[str, bool]]:
    async with system_session(app.state.sessionmaker) as session:
        rows = await session.execute(
            select(PersonTag.kind, PersonTag.automatic).where(PersonTag.person_id == person_id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def test_the_cron_job_runs_the_rules_and_commits(
    app: FastAPI, clock: MovableClock, committed: Committed
) -> None:
    ctx = {"sessionmaker": app.state.sessionmaker, "clock": clock}
    first = await lifecycle_daily(ctx)
    assert set(first) == set(COUNTERS) and first["elderly_tagged"] >= 1
    assert await _tags_of(app, committed.person_id) == [("elderly", True)]
    assert await lifecycle_daily(ctx) == ZERO


def test_gridctl_lifecycle_prints_one_json_line_of_counts(committed: Committed) -> None:
    """API.md: `gridctl lifecycle --as-of DATE` prints one JSON line; idempotent."""
    runner = CliRunner()
    first = runner.invoke(cli, ["lifecycle", "--as-of", "2026-11-23"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    counts = json.loads(lines[0])
    assert list(counts) == list(COUNTERS) and counts["elderly_tagged"] >= 1
    again = runner.invoke(cli, ["lifecycle", "--as-of", "2026-11-23"])
    assert json.loads(again.stdout) == ZERO
    bad = runner.invoke(cli, ["lifecycle", "--as-of", "23/11/2026"])
    assert bad.exit_code != 0
