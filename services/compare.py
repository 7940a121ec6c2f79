"""Comparing a department's file with the registry (数据比对, R-CMP-2).

The file is one of the import templates, read and checked like an import. Its rows are
matched with the active records of the unit's subtree by identity — resident ID (an overseas
person's document), or an organisation's licence number — and three kinds of line come out:
`missing_here` (in the file, not in the registry), `missing_there` (in the registry, not in
the file) and `conflict` (one line per field the file states differently). Each line belongs
to a unit: the record's grid, or for a row missing here the grid the file names (else the
unit compared), so the report is read per unit and each line is seen only in jurisdiction.

The file's rows go by COPY into a temporary table of the request's transaction, and the
three kinds of line are three set-based statements against the registry table."""

import asyncio
import tempfile
import uuid
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import FieldError, Invalid, NotFound
from domain.import_cells import GRID_CODE
from domain.imports import Nature, Template, header_of
from domain.masking import Mask, mask_value
from domain.registry import FollowStatus, Status
from services import audit
from services.claims import VALUE_MASKS
from services.context import Ctx
from services.imports import check_columns, staged_batches, store_upload, template
from services.imports_files import format_of, opened_table
from services.jurisdiction import in_scope
from services.masking import sees_pii
from services.models import Comparison, ComparisonLine, OrgUnit
from services.pagination import AnySelect, Page, decode_cursor, encode_cursor
from services.read_ahead import read_ahead
from services.registry import unit_for_record

TARGET = "comparison"
OUTCOMES = ("missing_here", "missing_there", "conflict")


@dataclass(frozen=True)
class Side:
    """Where a nature's records live and how their fields read as text."""

    table: str
    active: str
    kind_column: str
    unit: str
    key: str
    file_key: str
    field: Callable[[Template, str], str]


def _detailed_field(chosen: Template, key: str) -> str:
    if key in chosen.detail_keys:
        return f"r.details ->> '{key}'"
    return f'r."{key}"::text'


_DOCUMENT = (
    "concat_ws(':', f.v ->> 'document_type', f.v ->> 'nationality', f.v ->> 'document_number')"
)
SIDES: dict[Nature, Side] = {
    Nature.PERSON: Side(
        table="people",
        active=Status.ACTIVE,
        kind_column="kind",
        unit="r.grid_id",
        key="r.id_number",
        # Overseas people are known by their document (domain.people.establish_identity).
        file_key=f"coalesce(f.identity, upper({_DOCUMENT}))",
        field=_detailed_field,
    ),
    Nature.TAG: Side(
        table="person_tags",
        active=FollowStatus.FOLLOWED,
        kind_column="kind",
        unit="r.grid_id",
        key="r.id_number",
        file_key="f.identity",
        field=_detailed_field,
    ),
    Nature.ORGANISATION: Side(
        table="organisations",
        active=Status.ACTIVE,
        kind_column="category",
        unit="coalesce(r.grid_id, r.unit_id)",
        key="r.licence_no",
        file_key="f.identity",
        field=lambda _chosen, key: f'r."{key}"::text',
    ),
}

_FILE_TABLE = """
CREATE TEMP TABLE comparison_file (
    row_no integer, grid_code text, name text, identity text, v jsonb, errors jsonb
) ON COMMIT DROP
"""


def _compared(chosen: Template) -> list[str]:
    return [c.key for c in chosen.columns if c.key not in (GRID_CODE, chosen.identity_key)]


def _statements(chosen: Template) -> dict[str, str]:
    """The three INSERT … SELECTs writing a comparison's lines."""
    side = SIDES[chosen.nature]
    registry = (
        f"SELECT r.*, {side.key} AS key, {side.unit} AS unit FROM {side.table} r "
        f"WHERE r.status = '{side.active}' AND r.{side.kind_column} = :kind "
        "AND r.path <@ CAST(:path AS ltree)"
    )
    file = (
        f"SELECT f.*, {side.file_key} AS key, g.id AS grid_id, g.path AS grid_path "
        "FROM comparison_file f LEFT JOIN org_units g ON g.code = f.grid_code "
        "AND g.level = 'grid' AND g.deleted_at IS NULL AND g.path <@ CAST(:path AS ltree) "
        "WHERE f.errors IS NULL"
    )
    columns = (
        "INSERT INTO comparison_lines (comparison_id, unit_id, path, outcome, key, name, "
        "field, here, there, row_no, record_id) "
    )
    values = ", ".join(
        f"('{key}', {side.field(chosen, key)}, f.v ->> '{key}')" for key in _compared(chosen)
    )
    return {
        "missing_here": columns + f"WITH reg AS ({registry}), fil AS ({file}) "
        "SELECT :id, coalesce(f.grid_id, :unit_id), coalesce(f.grid_path, CAST(:path AS ltree)), "
        "'missing_here', f.key, f.name, NULL, NULL, NULL, f.row_no, NULL FROM fil f "
        "WHERE f.key IS NOT NULL AND f.key <> '' "
        "AND NOT EXISTS (SELECT 1 FROM reg r WHERE r.key = f.key)",
        "missing_there": columns + f"WITH reg AS ({registry}), fil AS ({file}) "
        "SELECT :id, r.unit, r.path, 'missing_there', r.key, r.name, NULL, NULL, NULL, NULL, "
        "r.id FROM reg r WHERE r.key IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM fil f WHERE f.key = r.key)",
        "conflict": columns + f"WITH reg AS ({registry}), fil AS ({file}) "
        "SELECT :id, r.unit, r.path, 'conflict', r.key, r.name, c.field, c.here, c.there, "
        "f.row_no, r.id FROM fil f JOIN reg r ON r.key = f.key "
        f"CROSS JOIN LATERAL (VALUES {values}) AS c(field, here, there) "
        "WHERE c.there IS NOT NULL AND c.here IS DISTINCT FROM c.there",
    }


async def _copy(session: AsyncSession, records: list[tuple[Any, ...]]) -> None:
    raw = await (await session.connection()).get_raw_connection()
    await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
        "comparison_file", records=records
    )


def _view(record: Comparison) -> dict[str, Any]:
    return {
        "id": record.id,
        "registry": record.registry_code,
        "unit_id": record.unit_id,
        "source": record.source,
        "filename": record.filename,
        "rows_read": record.rows_read,
        "missing_here": record.missing_here,
        "missing_there": record.missing_there,
        "conflicts": record.conflicts,
        "created_by": record.created_by,
        "created_at": record.created_at,
    }


async def run_comparison(
    ctx: Ctx, *, registry: str, unit_id: uuid.UUID, source: str, filename: str, upload: IO[bytes]
) -> dict[str, Any]:
    """Compare the department's file with the active records of the unit's subtree and keep
    the report (R-CMP-2). The file is refused whole like an import's (422); registries
    without a comparison are unknown here."""
    chosen = template(registry)
    if chosen.nature not in SIDES:
        raise Invalid("registry_unknown", errors=[FieldError("registry", "registry_unknown")])
    unit = await unit_for_record(ctx, unit_id)
    fmt = format_of(filename)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"file.{fmt}"
        await asyncio.to_thread(store_upload, upload, path)
        rows = await _load(ctx, chosen, path, fmt)
    record = Comparison(
        id=uuid.uuid4(),
        registry_code=chosen.registry,
        unit_id=unit.id,
        path=unit.path,
        source=source,
        filename=filename[:255],
        rows_read=rows,
        missing_here=0,
        missing_there=0,
        conflicts=0,
        created_by=ctx.principal.user_id,
        created_at=ctx.now(),
    )
    ctx.session.add(record)
    await ctx.session.flush()
    params = {"id": record.id, "unit_id": unit.id, "path": unit.path, "kind": chosen.kind}
    counts = {}
    for outcome, statement in _statements(chosen).items():
        result = await ctx.session.execute(text(statement), params)
        counts[outcome] = result.rowcount  # type: ignore[attr-defined]
    # Dropped now rather than at commit: a second comparison in the same transaction
    # (a batch, a caller's savepoint) creates it afresh.
    await ctx.session.execute(text("DROP TABLE comparison_file"))
    record.missing_here = counts["missing_here"]
    record.missing_there = counts["missing_there"]
    record.conflicts = counts["conflict"]
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="comparison.create",
        target_type=TARGET,
        target_id=record.id,
        unit_path=unit.path,
        after={"registry": chosen.registry, "source": source, **counts},
    )
    return _view(record)


async def _load(ctx: Ctx, chosen: Template, path: Path, fmt: str) -> int:
    """The file's rows in the temporary table; their number."""
    await ctx.session.execute(text(_FILE_TABLE))
    read = 0
    async with opened_table(path, fmt) as table:
        check_columns(chosen, table.headers)
        batches = staged_batches(chosen, table.rows, ctx.today())
        async with aclosing(read_ahead(lambda: next(batches, None))) as ahead:
            async for records in ahead:
                read += len(records)
                await _copy(ctx.session, records)
    return read


async def _visible(ctx: Ctx, comparison_id: uuid.UUID) -> Comparison:
    found = (
        await ctx.session.execute(
            select(Comparison).where(
                Comparison.id == comparison_id, in_scope(Comparison.path, ctx.principal)
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("comparison_not_found")
    return found


async def get_comparison(ctx: Ctx, comparison_id: uuid.UUID) -> dict[str, Any]:
    """The report's totals and, per unit in the caller's jurisdiction, its counts."""
    record = await _visible(ctx, comparison_id)
    per_unit = await ctx.session.execute(
        select(
            ComparisonLine.unit_id,
            OrgUnit.code,
            OrgUnit.name,
            ComparisonLine.outcome,
            func.count().label("lines"),
        )
        .join(OrgUnit, OrgUnit.id == ComparisonLine.unit_id)
        .where(
            ComparisonLine.comparison_id == record.id,
            in_scope(ComparisonLine.path, ctx.principal),
        )
        .group_by(ComparisonLine.unit_id, OrgUnit.code, OrgUnit.name, ComparisonLine.outcome)
        .order_by(OrgUnit.code)
    )
    units: dict[uuid.UUID, dict[str, Any]] = {}
    for row in per_unit:
        unit = units.setdefault(
            row.unit_id,
            {"unit_id": row.unit_id, "code": row.code, "name": row.name}
            | dict.fromkeys(OUTCOMES, 0),
        )
        unit[row.outcome] = row.lines
    return {**_view(record), "units": list(units.values())}


@dataclass(frozen=True)
class LineFilters:
    outcome: str | None = None
    unit_id: uuid.UUID | None = None


def lines_query(record: Comparison, ctx: Ctx, filters: LineFilters) -> AnySelect:
    stmt = (
        select(
            ComparisonLine.id,
            ComparisonLine.unit_id,
            OrgUnit.code.label("unit_code"),
            ComparisonLine.outcome,
            ComparisonLine.key,
            ComparisonLine.name,
            ComparisonLine.field,
            ComparisonLine.here,
            ComparisonLine.there,
            ComparisonLine.row_no,
            ComparisonLine.record_id,
        )
        .join(OrgUnit, OrgUnit.id == ComparisonLine.unit_id)
        .where(
            ComparisonLine.comparison_id == record.id,
            in_scope(ComparisonLine.path, ctx.principal),
        )
    )
    if filters.outcome is not None:
        stmt = stmt.where(ComparisonLine.outcome == filters.outcome)
    if filters.unit_id is not None:
        stmt = stmt.where(ComparisonLine.unit_id == filters.unit_id)
    return stmt


def line_view(ctx: Ctx, record: Comparison) -> Callable[[Any], dict[str, Any]]:
    """A line as the caller may see it (R-JUR-3): keys, names and sensitive fields masked
    without `pii:read`; the field named by its header."""
    chosen = template(record.registry_code)
    masked = not sees_pii(ctx.principal)
    personal = chosen.nature != Nature.ORGANISATION
    key_mask = Mask.ID_NUMBER if personal else None

    def convert(row: Any) -> dict[str, Any]:
        data = dict(row._mapping)
        data["header"] = header_of(chosen, data["field"]) if data["field"] else None
        if masked:
            if key_mask is not None:
                data["key"] = mask_value(key_mask, data["key"])
            if personal:
                data["name"] = mask_value(Mask.NAME, data["name"])
            if (mask := VALUE_MASKS.get(data["field"] or "")) is not None:
                data["here"] = mask_value(mask, data["here"])
                data["there"] = mask_value(mask, data["there"])
        return data

    return convert


async def lines_page(
    ctx: Ctx,
    comparison_id: uuid.UUID,
    filters: LineFilters,
    *,
    limit: int,
    cursor: str | None,
) -> Page[dict[str, Any]]:
    """A keyset page of the report's lines in jurisdiction."""
    record = await _visible(ctx, comparison_id)
    stmt = lines_query(record, ctx, filters)
    total = (
        await ctx.session.execute(select(func.count()).select_from(stmt.subquery()))
    ).scalar_one()
    if cursor:
        (last,) = decode_cursor(cursor, 1)
        stmt = stmt.where(ComparisonLine.id > int(last))
    rows = (await ctx.session.execute(stmt.order_by(ComparisonLine.id).limit(limit + 1))).all()
    convert = line_view(ctx, record)
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return Page(items=[convert(r) for r in rows[:limit]], next_cursor=next_cursor, total=total)


async def export_source(
    ctx: Ctx, comparison_id: uuid.UUID, filters: LineFilters
) -> tuple[AnySelect, Callable[[Any], dict[str, Any]]]:
    """The statement and row view behind the downloadable report."""
    record = await _visible(ctx, comparison_id)
    return lines_query(record, ctx, filters).order_by(ComparisonLine.id), line_view(ctx, record)


def comparisons_query(ctx: Ctx, registry: str | None) -> AnySelect:
    stmt = select(Comparison).where(in_scope(Comparison.path, ctx.principal))
    if registry is not None:
        stmt = stmt.where(Comparison.registry_code == registry)
    return stmt


def comparison_row(row: Any) -> dict[str, Any]:
    return _view(row[0])
