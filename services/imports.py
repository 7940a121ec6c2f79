"""Imports (R-IMP-1): templates, the upload addressed to a district, the background job that
reads the file into the import pool, its progress and its cancellation.

The upload is stored and its header row checked at once: a file whose columns are not the
template's is refused whole, naming the columns that differ. The rest is the job's: it reads
the file one row at a time, checks each row, and writes a batch at a time by COPY into a
temporary staging table, from which one statement files the good rows into the pool (at
the grid their file names, else at the district) and another the rejected ones. COPY goes to
a temporary table because PostgreSQL refuses COPY into tables under row-level security, and
a temporary table is seen by no other session. Each batch is its own transaction, so the
progress shows while the job runs.

Rows are filed as the batches commit, but under a path no jurisdiction reaches (`PENDING`):
only the finished import publishes them, in the transaction that marks it done. A
cancellation that comes first makes the job discard them, so a cancelled import leaves
nothing to claim. The job takes the import's row lock for each batch, so a cancellation
waits for the batch in flight and the job sees it at the next one.

Every batch also beats the import's heartbeat. A running import whose heartbeat is older
than `STALLED_AFTER` lost its worker: the requeue cron takes it back (`reclaim_stalled`) —
its filed rows and rejections cleared, queued again for a fresh run — or, after
`MAX_ATTEMPTS` runs, fails it (`import_worker_lost`). Each run carries its attempt number;
a batch or a finish of an older run than the import's is refused, so a worker that was only
slow cannot file rows next to the new run's."""

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson
from sqlalchemy import (
    Boolean,
    ColumnElement,
    case,
    cast,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.coords import Crs
from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.import_cells import GRID_CODE
from domain.imports import (
    TEMPLATES,
    RowCheck,
    Template,
    check_row,
    column_mismatch,
    header_of,
    row_reason,
)
from domain.messages import render
from domain.org import Level
from domain.principal import SYSTEM
from services import audit
from services.clock import Clock
from services.context import Ctx, business_time
from services.db import system_session
from services.exporting import Column as ExportColumn
from services.imports_files import Row, format_of, open_table, opened_table
from services.jurisdiction import in_scope
from services.models import Import, ImportRejection, ImportRow
from services.models.base import Ltree
from services.pagination import AnySelect, Page, decode_cursor, encode_cursor
from services.read_ahead import read_ahead
from services.registry import unit_for_record
from services.settings import get_settings
from services.xlsx_headers import xlsx_headers

TARGET = "import"
# Rows of a running import are filed under this root label: no jurisdiction reaches them
# (row-level security hides them from everyone but the job) until the finished import
# publishes them by dropping the label.
PENDING = "pending"
BATCH = 2000
COPY_CHUNK = 1024 * 1024
JOB = "run_import"
# A batch takes seconds: a heartbeat this old means the worker is gone.
STALLED_AFTER = timedelta(minutes=10)
MAX_ATTEMPTS = 3


class State:
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"


LIVE = (State.QUEUED, State.RUNNING)


def published(path: Any) -> ColumnElement[bool]:
    """Pool rows of finished imports only (a superuser's scope would reach pending ones)."""
    return ~path.op("<@", return_type=Boolean)(cast(PENDING, Ltree()))


def template(registry: str) -> Template:
    """The registry's template; an unknown registry is a 422 on `registry`."""
    found = TEMPLATES.get(registry)
    if found is None:
        raise Invalid("registry_unknown", errors=[FieldError("registry", "registry_unknown")])
    return found


def template_columns(chosen: Template) -> list[ExportColumn]:
    """The template's header row, as the export writers take columns."""
    return [ExportColumn(c.key, c.header) for c in chosen.columns]


async def no_rows() -> AsyncIterator[dict[str, Any]]:
    """A template is its header row alone."""
    empty: tuple[dict[str, Any], ...] = ()
    for row in empty:
        yield row


def storage_path(import_id: uuid.UUID, fmt: str) -> Path:
    return Path(get_settings().storage_dir) / "imports" / f"{import_id}.{fmt}"


def keyed(template_: Template, row: Row) -> dict[str, str]:
    """A row's non-blank cells by column key (the headers were checked against the
    template, so every header names a column)."""
    by_header = template_.key_of_header
    return {by_header[h]: v for h, v in row.items() if v and h in by_header}


def check_columns(template_: Template, headers: list[str]) -> None:
    """R-IMP-1: the whole file is refused unless its columns are the template's."""
    mismatch = column_mismatch(template_, headers)
    if mismatch is None:
        return
    raise Invalid(
        "import_columns_mismatch",
        params={"registry": template_.label},
        errors=[FieldError(h, "column_missing") for h in mismatch.missing]
        + [FieldError(h, "column_unexpected") for h in mismatch.unexpected],
        extra={"missing_columns": mismatch.missing, "unexpected_columns": mismatch.unexpected},
    )


def store_upload(upload: IO[bytes], target: Path) -> int:
    """Copy an upload to `target` in chunks; its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(upload, out, COPY_CHUNK)
    return target.stat().st_size


def _read_headers(path: Path, fmt: str) -> list[str]:
    if fmt == "xlsx":
        return xlsx_headers(path)
    with open_table(path, fmt) as table:
        return table.headers


def _view(record: Import) -> dict[str, Any]:
    return {
        "id": record.id,
        "registry": record.registry_code,
        "district_id": record.district_id,
        "filename": record.filename,
        "format": record.format,
        "crs": record.crs,
        "state": record.state,
        "rows_read": record.rows_read,
        "rows_accepted": record.rows_accepted,
        "rows_rejected": record.rows_rejected,
        "percent": round(record.progress * 100, 1),
        "error": record.error,
        "created_by": record.created_by,
        "created_at": record.created_at,
        "started_at": record.started_at,
        "finished_at": record.finished_at,
        "version": record.version,
    }


async def create_import(
    ctx: Ctx,
    *,
    registry: str,
    district_id: uuid.UUID,
    filename: str,
    upload: IO[bytes],
    crs: Crs = Crs.WGS84,
) -> dict[str, Any]:
    """Store an upload for the registry's import into a district and queue it (R-IMP-1);
    `crs` is the coordinate system of locations whose row names none (R-GRID-4).
    Refused whole (422) when the district is no district, the file is empty, undecodable
    or of an unknown format, or its columns are not the template's."""
    chosen = template(registry)
    district = await unit_for_record(ctx, district_id, "district_id")
    if district.level != Level.DISTRICT.value:
        raise Invalid(
            "import_needs_district", errors=[FieldError("district_id", "import_needs_district")]
        )
    fmt = format_of(filename)
    record = Import(
        id=uuid.uuid4(),
        registry_code=chosen.registry,
        district_id=district.id,
        path=district.path,
        filename=filename[:255],
        format=fmt,
        crs=crs.value,
        state=State.QUEUED,
        created_by=ctx.principal.user_id,
        created_at=ctx.now(),
    )
    path = storage_path(record.id, fmt)
    record.size_bytes = await asyncio.to_thread(store_upload, upload, path)
    try:
        check_columns(chosen, await asyncio.to_thread(_read_headers, path, fmt))
    except Invalid:
        path.unlink(missing_ok=True)
        raise
    ctx.session.add(record)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="import.create",
        target_type=TARGET,
        target_id=record.id,
        unit_path=record.path,
        after={
            "registry": record.registry_code,
            "filename": record.filename,
            "format": fmt,
            "crs": record.crs,
        },
    )
    return _view(record)


async def _locked(ctx: Ctx, import_id: uuid.UUID) -> Import:
    found = (
        await ctx.session.execute(
            select(Import)
            .where(Import.id == import_id, in_scope(Import.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("import_not_found")
    return found


async def visible_import(ctx: Ctx, import_id: uuid.UUID) -> Import:
    """An import in the caller's jurisdiction (the district it was addressed to); else 404."""
    found = (
        await ctx.session.execute(
            select(Import).where(Import.id == import_id, in_scope(Import.path, ctx.principal))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("import_not_found")
    return found


async def get_import(ctx: Ctx, import_id: uuid.UUID) -> dict[str, Any]:
    """The import with its progress: rows read, accepted and rejected, and percent."""
    return _view(await visible_import(ctx, import_id))


async def cancel_import(ctx: Ctx, import_id: uuid.UUID) -> dict[str, Any]:
    """Stop a queued or running import; its job discards the rows it had filed, which were
    never published, so nothing of it can be claimed. A finished one is a 409."""
    record = await _locked(ctx, import_id)
    if record.state not in LIVE:
        raise Conflict("import_finished", params={"state": record.state})
    before = record.state
    record.state = State.CANCELLED
    record.finished_at = ctx.now()
    record.version += 1
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="import.cancel",
        target_type=TARGET,
        target_id=record.id,
        unit_path=record.path,
        before={"state": before},
        after={"state": record.state, "rows_read": record.rows_read},
    )
    return _view(record)


@dataclass(frozen=True)
class ImportFilters:
    district_id: uuid.UUID | None = None
    registry: str | None = None
    state: str | None = None


def imports_query(ctx: Ctx, filters: ImportFilters) -> AnySelect:
    """Imports in jurisdiction, newest first by id order of the keyset."""
    stmt = select(Import).where(in_scope(Import.path, ctx.principal))
    if filters.district_id is not None:
        stmt = stmt.where(Import.district_id == filters.district_id)
    if filters.registry is not None:
        stmt = stmt.where(Import.registry_code == filters.registry)
    if filters.state is not None:
        stmt = stmt.where(Import.state == filters.state)
    return stmt


def import_row(row: Any) -> dict[str, Any]:
    """A list row (a select of `Import`) as the API shows it."""
    return _view(row[0])


def rejections_query(record: Import) -> AnySelect:
    """The import's rejected rows, one line per offending field."""
    return select(ImportRejection.row_no, ImportRejection.field, ImportRejection.reason).where(
        ImportRejection.import_id == record.id, ImportRejection.path == record.path
    )


def rejection_row(record: Import, lang: str) -> Callable[[Any], dict[str, Any]]:
    """A rejection line with its column's header and the reason in words."""
    chosen = TEMPLATES[record.registry_code]

    def convert(row: Any) -> dict[str, Any]:
        return {
            "row_no": row.row_no,
            "field": row.field,
            "header": header_of(chosen, row.field),
            "reason": row.reason,
            "message": render(row_reason(row.reason), {}, lang),
        }

    return convert


async def rejections_page(
    ctx: Ctx, import_id: uuid.UUID, lang: str, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page of the rejected rows in (row, field) order."""
    record = await visible_import(ctx, import_id)
    stmt = rejections_query(record)
    total = (
        await ctx.session.execute(select(func.count()).select_from(stmt.subquery()))
    ).scalar_one()
    if cursor:
        row_no, field = decode_cursor(cursor, 2)
        stmt = stmt.where(
            tuple_(ImportRejection.row_no, ImportRejection.field) > tuple_(int(row_no), str(field))
        )
    rows = (
        await ctx.session.execute(
            stmt.order_by(ImportRejection.row_no, ImportRejection.field).limit(limit + 1)
        )
    ).all()
    convert = rejection_row(record, lang)
    items = [convert(row) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    next_cursor = encode_cursor([last.row_no, last.field]) if last is not None else None
    return Page(items=items, next_cursor=next_cursor, total=total)


# The job.


_STAGING = """
CREATE TEMP TABLE import_staging (
    row_no integer, grid_code text, name text, id_number text,
    "values" jsonb, errors jsonb
) ON COMMIT DROP
"""
_COLUMNS = ("row_no", "grid_code", "name", "id_number", "values", "errors")
# Rows naming a grid outside the district (or none that exists) are rejected on `grid_code`.
_FILE_ROWS = """
WITH placed AS (
    SELECT s.*, g.id AS grid_id, g.path AS grid_path
    FROM import_staging s
    LEFT JOIN org_units g ON g.code = s.grid_code AND g.level = 'grid'
        AND g.deleted_at IS NULL AND g.path <@ CAST(:path AS ltree)
),
kept AS (
    INSERT INTO import_rows (id, import_id, row_no, registry, district_id, grid_id, path,
                             name, id_number, "values")
    SELECT gen_random_uuid(), :import_id, row_no, :registry, :district_id, grid_id,
           CAST(:pending AS ltree) || coalesce(grid_path, CAST(:path AS ltree)), name,
           id_number, "values"
    FROM placed WHERE errors IS NULL AND (grid_code IS NULL OR grid_id IS NOT NULL)
    RETURNING 1
),
refused AS (
    INSERT INTO import_rejections (import_id, row_no, field, reason, path)
    SELECT :import_id, row_no, e.key, e.value, CAST(:path AS ltree)
    FROM placed, jsonb_each_text(errors) e WHERE errors IS NOT NULL
    UNION ALL
    SELECT :import_id, row_no, :grid_field, :grid_reason, CAST(:path AS ltree)
    FROM placed WHERE errors IS NULL AND grid_code IS NOT NULL AND grid_id IS NULL
    RETURNING row_no
)
SELECT (SELECT count(*) FROM kept) AS kept, (SELECT count(DISTINCT row_no) FROM refused)
    AS refused
"""


def pool_identity(template_: Template, values: dict[str, Any]) -> tuple[Any, Any]:
    """The name and the identity a pool row is known by (R-IMP-2)."""
    identity = values.get(template_.identity_key) if template_.identity_key else None
    return values.get(template_.name_key), identity


def _staged(template_: Template, number: int, check: RowCheck) -> tuple[Any, ...]:
    if check.errors:
        errors = {field: reason for field, reason in check.errors}
        return (number, None, None, None, None, orjson.dumps(errors).decode())
    values = dict(check.values)
    grid_code = values.pop(GRID_CODE, None)
    return (
        number,
        grid_code,
        *pool_identity(template_, values),
        orjson.dumps(values).decode(),
        None,
    )


def staged_batches(
    template_: Template, rows: Iterator[tuple[int, Row]], today: Any, crs: Crs = Crs.WGS84
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows checked and shaped for COPY, `BATCH` at a time: (row number, grid code, name,
    identity, values, errors) with the values or the errors as JSON. The pool row's id is
    the database's to draw: `uuid4` would cost the job a tenth of its time."""
    while chunk := list(islice(rows, BATCH)):
        yield [
            _staged(template_, n, check_row(template_, keyed(template_, row), today=today, crs=crs))
            for n, row in chunk
        ]


async def _copy(session: AsyncSession, records: list[tuple[Any, ...]]) -> None:
    await session.execute(text(_STAGING))
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        "import_staging", records=records, columns=_COLUMNS
    )


@dataclass(frozen=True)
class Run:
    """One run of an import's job: which import, which attempt, on which clock."""

    import_id: uuid.UUID
    attempt: int
    clock: Clock


async def _file_batch(
    maker: async_sessionmaker[AsyncSession],
    run: Run,
    records: list[tuple[Any, ...]],
    progress: float,
) -> bool:
    """File one batch under the import's row lock and beat the heartbeat; False when the
    import is no longer this run's (cancelled, or taken back), with nothing written."""
    async with system_session(maker) as session:
        record = (
            await session.execute(
                select(Import).where(Import.id == run.import_id).with_for_update()
            )
        ).scalar_one_or_none()
        if record is None or record.state != State.RUNNING or record.attempts != run.attempt:
            return False
        await _copy(session, records)
        counts = (
            await session.execute(
                text(_FILE_ROWS),
                {
                    "import_id": record.id,
                    "registry": record.registry_code,
                    "district_id": record.district_id,
                    "path": record.path,
                    "pending": PENDING,
                    "grid_field": GRID_CODE,
                    "grid_reason": row_reason("grid_not_in_district"),
                },
            )
        ).one()
        record.rows_read += len(records)
        record.rows_accepted += counts.kept
        record.rows_rejected += counts.refused
        record.progress = progress
        record.heartbeat_at = run.clock.now()
    return True


async def _discard(maker: async_sessionmaker[AsyncSession], run: Run) -> str:
    """A cancelled import's filed rows go (they were never published), and its file; an
    import taken back from this run is the next run's to file."""
    async with system_session(maker) as session:
        state = await session.scalar(
            select(Import.state).where(Import.id == run.import_id, Import.attempts == run.attempt)
        )
        if state != State.CANCELLED:
            return "superseded"
        await session.execute(delete(ImportRow).where(ImportRow.import_id == run.import_id))
    return State.CANCELLED


async def _finish(
    maker: async_sessionmaker[AsyncSession], run: Run, *, state: str, error: str | None = None
) -> str:
    """Close this run's import as done or failed; a failed one leaves the pool. Returns the
    state it ends in (a cancellation that came first stands; an import taken back from
    this run is left to the next)."""
    import_id = run.import_id
    async with system_session(maker) as session:
        closed = (
            await session.execute(
                update(Import)
                .where(
                    Import.id == import_id,
                    Import.state == State.RUNNING,
                    Import.attempts == run.attempt,
                )
                .values(
                    state=state,
                    error=error,
                    progress=1.0 if state == State.DONE else Import.progress,
                    finished_at=run.clock.now(),
                    version=Import.version + 1,
                )
                .returning(Import.state)
            )
        ).scalar_one_or_none()
        if (
            closed is None
            and await session.scalar(select(Import.attempts).where(Import.id == import_id))
            != run.attempt
        ):
            return "superseded"
        if closed == State.DONE:
            # Published: each row moves to the unit it was filed at.
            await session.execute(
                update(ImportRow)
                .where(ImportRow.import_id == import_id)
                .values(path=func.subpath(ImportRow.path, 1))
            )
        else:
            await session.execute(delete(ImportRow).where(ImportRow.import_id == import_id))
        return closed or State.CANCELLED


async def queued_imports(maker: async_sessionmaker[AsyncSession]) -> list[tuple[uuid.UUID, int]]:
    """Imports still waiting for their job, oldest first, with the runs they had: the upload
    enqueues one after its commit, but Redis may have lost it — the row is what must not
    be lost."""
    async with system_session(maker) as session:
        found = await session.execute(
            select(Import.id, Import.attempts)
            .where(Import.state == State.QUEUED)
            .order_by(Import.created_at)
        )
        return [(row.id, row.attempts) for row in found]


def job_id(import_id: uuid.UUID, attempts: int = 0) -> str:
    """One arq job per import and run: enqueueing it again while it waits is a no-op, and a
    taken-back import gets a fresh id (arq keeps a finished job's id for a while)."""
    return f"import:{import_id}" if attempts == 0 else f"import:{import_id}:{attempts}"


async def reclaim_stalled(maker: async_sessionmaker[AsyncSession], clock: Clock) -> dict[str, int]:
    """Take back every running import whose heartbeat is older than `STALLED_AFTER` (its
    worker died): rows filed and rejections recorded by the lost run go, counters restart,
    and it is queued again — or failed with `import_worker_lost` once it has had
    `MAX_ATTEMPTS` runs (its file goes then). An import whose batch holds its lock is
    alive and skipped. Set-based, audited in one batch."""
    now = clock.now()
    async with system_session(maker) as session:
        stalled = (
            await session.execute(
                select(Import.id, Import.attempts, Import.path, Import.format)
                .where(Import.state == State.RUNNING, Import.heartbeat_at < now - STALLED_AFTER)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not stalled:
            return {"requeued": 0, "failed": 0}
        ids = [row.id for row in stalled]
        await session.execute(delete(ImportRow).where(ImportRow.import_id.in_(ids)))
        await session.execute(delete(ImportRejection).where(ImportRejection.import_id.in_(ids)))
        lost = Import.attempts >= MAX_ATTEMPTS
        await session.execute(
            update(Import)
            .where(Import.id.in_(ids))
            .values(
                state=case((lost, State.FAILED), else_=State.QUEUED),
                error=case((lost, "import_worker_lost"), else_=None),
                finished_at=case((lost, now), else_=None),
                started_at=None,
                heartbeat_at=None,
                progress=0.0,
                rows_read=0,
                rows_accepted=0,
                rows_rejected=0,
                version=Import.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        failed = [row for row in stalled if row.attempts >= MAX_ATTEMPTS]
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        await audit.record_many(
            ctx,
            action="import.reclaim",
            target_type=TARGET,
            changes=[
                audit.Change(
                    target_id=row.id,
                    unit_path=row.path,
                    after={
                        "state": State.FAILED if row in failed else State.QUEUED,
                        "attempts": row.attempts,
                    },
                )
                for row in stalled
            ],
        )
    for row in failed:
        storage_path(row.id, row.format).unlink(missing_ok=True)
    return {"requeued": len(stalled) - len(failed), "failed": len(failed)}


async def run_import(
    maker: async_sessionmaker[AsyncSession], clock: Clock, import_id: uuid.UUID
) -> str:
    """The background job: read a queued import's file into the pool batch by batch,
    stopping when it is cancelled or taken back. Runs once per queueing (the queued →
    running update is the guard, so a job delivered twice does nothing the second time);
    returns the state the import ends in. The file stays until the import is over, so a
    run that dies can be run again."""
    async with system_session(maker) as session:
        record = (
            await session.execute(
                update(Import)
                .where(Import.id == import_id, Import.state == State.QUEUED)
                .values(
                    state=State.RUNNING,
                    started_at=clock.now(),
                    heartbeat_at=clock.now(),
                    attempts=Import.attempts + 1,
                )
                .returning(Import)
            )
        ).scalar_one_or_none()
    if record is None:
        return "skipped"
    run = Run(record.id, record.attempts, clock)
    chosen = TEMPLATES[record.registry_code]
    today = business_time(clock.now()).date()
    path = storage_path(record.id, record.format)
    try:
        async with opened_table(path, record.format) as table:
            batches = staged_batches(chosen, table.rows, today, Crs(record.crs))

            def checked() -> tuple[list[tuple[Any, ...]], float] | None:
                records = next(batches, None)
                return None if records is None else (records, table.progress())

            async with aclosing(read_ahead(checked)) as ahead:
                async for records, progress in ahead:
                    if not await _file_batch(maker, run, records, progress):
                        return _over(path, await _discard(maker, run))
    except Invalid as exc:
        return _over(path, await _finish(maker, run, state=State.FAILED, error=exc.code))
    return _over(path, await _finish(maker, run, state=State.DONE))


def _over(path: Path, state: str) -> str:
    """The file goes with the import's end; a run superseded leaves it to the next."""
    if state != "superseded":
        path.unlink(missing_ok=True)
    return state
