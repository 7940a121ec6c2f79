"""Imports and the import pool (R-IMP-1, R-IMP-2): templates, uploads to a district read by
a background job with progress and cancel, rejected rows, and claiming rows into grids; and
comparisons of a department's file with the registry (R-CMP-2)."""

import uuid
from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    Form,
    Header,
    Query,
    Request,
    Response,
    status,
)
from fastapi.responses import StreamingResponse

from api.deps import Paging, requires
from api.errors import language
from api.etag import expected_version, set_etag
from api.exporting import ExportFormat, export_list, export_response
from api.schemas.common import PROBLEM_RESPONSES, PageOut
from api.schemas.imports import (
    COMPARISON_COLUMNS,
    COMPARISON_LINE_COLUMNS,
    IMPORT_COLUMNS,
    POOL_COLUMNS,
    REJECTION_COLUMNS,
    ClaimIn,
    ClaimOut,
    ComparisonDetail,
    ComparisonIn,
    ComparisonLinePage,
    ComparisonOut,
    FixIn,
    ImportIn,
    ImportOut,
    MergeIn,
    Outcome,
    PoolRowDetail,
    PoolRowOut,
    RejectionPage,
    ResolutionOut,
    TemplateOut,
)
from domain.imports import TEMPLATES
from domain.permissions import Perm
from services import claims, compare, imports
from services.context import Ctx
from services.models import Comparison, Import, ImportRow
from services.pagination import paginate
from workers.queue import create_pool

router = APIRouter(prefix="/api/v1/imports", tags=["imports"], responses=PROBLEM_RESPONSES)
pool_router = APIRouter(prefix="/api/v1/import-pool", tags=["imports"], responses=PROBLEM_RESPONSES)
IfMatch = Annotated[str | None, Header()]


@router.get("/templates", response_model=list[TemplateOut])
async def list_templates(ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)]) -> list[TemplateOut]:
    """One template per registry: people of each kind, organisations of each category,
    business tags, houses, rentals, places, teams, components and video points."""
    return [
        TemplateOut(
            registry=t.registry,
            label=t.label,
            nature=t.nature,
            kind=t.kind,
            columns=[{"key": c.key, "header": c.header} for c in t.columns],
        )
        for t in TEMPLATES.values()
    ]


@router.get("/templates/{registry}", response_class=StreamingResponse)
async def download_template(
    registry: str,
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The registry's template (its Chinese header row) as XLSX or CSV; XML uploads use the
    same headers as element names."""
    chosen = imports.template(registry)
    return export_response(
        imports.no_rows(),
        imports.template_columns(chosen),
        fmt=format,
        filename=f"导入模板-{chosen.label}",
    )


async def _enqueue(import_id: uuid.UUID) -> None:
    pool = await create_pool()
    try:
        # The job id is the import's: a second enqueue of the same import is dropped.
        await pool.enqueue_job(imports.JOB, str(import_id), _job_id=imports.job_id(import_id))
    finally:
        await pool.aclose()


def _enqueue_after_commit(background: BackgroundTasks, import_id: uuid.UUID) -> None:
    # Background tasks run once the response is sent, so after the request's commit: the
    # job never starts before its import row is there to read.
    background.add_task(_enqueue, import_id)


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=ImportOut)
async def create_import(
    response: Response,
    background: BackgroundTasks,
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    body: Annotated[ImportIn, Form()],
) -> ImportOut:
    """Upload a file for a registry into a district (R-IMP-1). A file whose columns are not
    the template's is refused whole (422 `import_columns_mismatch`, naming the missing and
    unexpected columns); otherwise it is queued and read in the background."""
    record = await imports.create_import(
        ctx,
        registry=body.registry,
        district_id=body.district_id,
        filename=body.file.filename or "upload",
        upload=body.file.file,
        crs=body.crs,
    )
    _enqueue_after_commit(background, record["id"])
    response.headers["Location"] = f"/api/v1/imports/{record['id']}"
    set_etag(response, record["version"])
    return ImportOut.model_validate(record)


def _filters(
    district_id: uuid.UUID | None = None,
    registry: str | None = None,
    state: str | None = None,
) -> imports.ImportFilters:
    return imports.ImportFilters(district_id=district_id, registry=registry, state=state)


@router.get("", response_model=PageOut[ImportOut])
async def list_imports(
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    page: Paging,
    district_id: uuid.UUID | None = None,
    registry: str | None = None,
    state: str | None = None,
) -> PageOut[ImportOut]:
    page_data = await paginate(
        ctx.session,
        imports.imports_query(ctx, _filters(district_id, registry, state)),
        key=(Import.filename, Import.id),
        limit=page.limit,
        cursor=page.cursor,
        convert=imports.import_row,
    )
    return PageOut[ImportOut].model_validate(page_data, from_attributes=True)


@router.get("/export", response_class=StreamingResponse)
async def export_imports(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    district_id: uuid.UUID | None = None,
    registry: str | None = None,
    state: str | None = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    filters = _filters(district_id, registry, state)
    return await export_list(
        request,
        ctx,
        imports.imports_query(ctx, filters).order_by(Import.created_at, Import.id),
        IMPORT_COLUMNS,
        fmt=format,
        filename="导入任务",
        target_type=imports.TARGET,
        filters=vars(filters),
        convert=imports.import_row,
    )


@router.get("/{import_id}", response_model=ImportOut)
async def get_import(
    import_id: uuid.UUID, response: Response, ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)]
) -> ImportOut:
    """Progress: rows read, accepted and rejected, and the percent of the file read."""
    record = await imports.get_import(ctx, import_id)
    set_etag(response, record["version"])
    return ImportOut.model_validate(record)


@router.post("/{import_id}/cancel", response_model=ImportOut)
async def cancel_import(
    import_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)]
) -> ImportOut:
    """Stop a queued or running import; nothing of it stays in the pool (409 when over)."""
    return ImportOut.model_validate(await imports.cancel_import(ctx, import_id))


@router.get("/{import_id}/rejections", response_model=RejectionPage)
async def list_rejections(
    request: Request,
    import_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    page: Paging,
) -> RejectionPage:
    """The rejected rows: row number, field and reason, in row order."""
    result = await imports.rejections_page(
        ctx, import_id, language(request), limit=page.limit, cursor=page.cursor
    )
    return RejectionPage.model_validate(result, from_attributes=True)


@router.get("/{import_id}/rejections/export", response_class=StreamingResponse)
async def export_rejections(
    request: Request,
    import_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    record = await imports.visible_import(ctx, import_id)
    return await export_list(
        request,
        ctx,
        imports.rejections_query(record).order_by("row_no", "field"),
        REJECTION_COLUMNS,
        fmt=format,
        filename="退回数据",
        target_type=imports.TARGET,
        filters={"import_id": import_id},
        convert=imports.rejection_row(record, language(request)),
    )


# The pool.


def _pool_filters(
    district_id: uuid.UUID | None = None,
    registry: str | None = None,
    import_id: uuid.UUID | None = None,
    grid_id: Annotated[uuid.UUID | None, Query(description="the grid the file named")] = None,
    q: Annotated[str | None, Query(max_length=100, description="name, or a whole ID")] = None,
    claimed: bool = False,
) -> claims.PoolFilters:
    return claims.PoolFilters(
        district_id=district_id,
        registry=registry,
        import_id=import_id,
        grid_id=grid_id,
        q=q,
        claimed=claimed,
    )


@pool_router.get("", response_model=PageOut[PoolRowOut])
async def list_pool(
    ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)],
    page: Paging,
    filters: Annotated[claims.PoolFilters, Depends(_pool_filters)],
) -> PageOut[PoolRowOut]:
    """Unclaimed rows of finished imports in jurisdiction (`claimed=true`: those that left
    the pool), filtered by district, registry, import, grid and name or ID number."""
    result = await paginate(
        ctx.session,
        claims.pool_query(ctx, filters),
        key=(ImportRow.registry_code, ImportRow.id),
        limit=page.limit,
        cursor=page.cursor,
        convert=claims.pool_row,
    )
    items = await claims.present_rows(ctx, result.items)
    return PageOut[PoolRowOut].model_validate(
        {"items": items, "next_cursor": result.next_cursor, "total": result.total}
    )


@pool_router.get("/export", response_class=StreamingResponse)
async def export_pool(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: Annotated[claims.PoolFilters, Depends(_pool_filters)],
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        claims.pool_query(ctx, filters).order_by(ImportRow.registry_code, ImportRow.id),
        POOL_COLUMNS,
        fmt=format,
        filename="导入池",
        target_type=claims.TARGET,
        filters=vars(filters),
        mask=claims.POOL_MASKS,
        convert=claims.pool_row,
    )


@pool_router.post("/claims", response_model=ClaimOut)
async def claim_rows(body: ClaimIn, ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)]) -> ClaimOut:
    """Claim a batch of rows into a grid (R-IMP-2): `succeeded` (with the pool duplicates
    claimed along) and `failed` — `incomplete` (fix the row, then claim), `duplicate` (an
    active record exists: both side by side; merge or skip), or `claimed` already."""
    result = await claims.claim_rows(ctx, grid_id=body.grid_id, row_ids=body.row_ids)
    return ClaimOut.model_validate(result)


@pool_router.get("/{row_id}", response_model=PoolRowDetail)
async def get_pool_row(
    row_id: uuid.UUID,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)],
    grid_id: Annotated[
        uuid.UUID | None, Query(description="compare with this grid's records")
    ] = None,
) -> PoolRowDetail:
    row = await claims.get_row(ctx, row_id, grid_id)
    set_etag(response, row["version"])
    return PoolRowDetail.model_validate(row)


@pool_router.patch("/{row_id}", response_model=PoolRowDetail)
async def fix_pool_row(
    row_id: uuid.UUID,
    body: FixIn,
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)],
    if_match: IfMatch = None,
) -> PoolRowDetail:
    """Correct an unclaimed row; the values are checked as on import (422, nothing changed)."""
    row = await claims.fix_row(
        ctx, row_id, dict(body.values), expected_version=expected_version(if_match)
    )
    set_etag(response, row["version"])
    return PoolRowDetail.model_validate(row)


@pool_router.post("/{row_id}/merge", response_model=ResolutionOut)
async def merge_pool_row(
    row_id: uuid.UUID, body: MergeIn, ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)]
) -> ResolutionOut:
    """A `duplicate` resolved by writing the row's values onto the grid's active record."""
    return ResolutionOut.model_validate(await claims.merge_row(ctx, row_id, grid_id=body.grid_id))


@pool_router.post("/{row_id}/skip", response_model=ResolutionOut)
async def skip_pool_row(
    row_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.DATA_CLAIM)]
) -> ResolutionOut:
    """A `duplicate` resolved by dropping the row; the record stays as it is."""
    return ResolutionOut.model_validate(await claims.skip_row(ctx, row_id))


# Comparisons (R-CMP-2).

compare_router = APIRouter(
    prefix="/api/v1/comparisons", tags=["imports"], responses=PROBLEM_RESPONSES
)


@compare_router.post("", status_code=status.HTTP_201_CREATED, response_model=ComparisonOut)
async def create_comparison(
    response: Response,
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    body: Annotated[ComparisonIn, Form()],
) -> ComparisonOut:
    """Run a department's file against the registry: missing here, missing there and
    conflicting fields, per unit (R-CMP-2)."""
    record = await compare.run_comparison(
        ctx,
        registry=body.registry,
        unit_id=body.unit_id,
        source=body.source,
        filename=body.file.filename or "upload",
        upload=body.file.file,
    )
    response.headers["Location"] = f"/api/v1/comparisons/{record['id']}"
    return ComparisonOut.model_validate(record)


@compare_router.get("", response_model=PageOut[ComparisonOut])
async def list_comparisons(
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)], page: Paging, registry: str | None = None
) -> PageOut[ComparisonOut]:
    result = await paginate(
        ctx.session,
        compare.comparisons_query(ctx, registry),
        key=(Comparison.filename, Comparison.id),
        limit=page.limit,
        cursor=page.cursor,
        convert=compare.comparison_row,
    )
    return PageOut[ComparisonOut].model_validate(result, from_attributes=True)


@compare_router.get("/export", response_class=StreamingResponse)
async def export_comparisons(
    request: Request,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    registry: str | None = None,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    return await export_list(
        request,
        ctx,
        compare.comparisons_query(ctx, registry).order_by(Comparison.created_at, Comparison.id),
        COMPARISON_COLUMNS,
        fmt=format,
        filename="数据比对",
        target_type=compare.TARGET,
        filters={"registry": registry},
        convert=compare.comparison_row,
    )


@compare_router.get("/{comparison_id}", response_model=ComparisonDetail)
async def get_comparison(
    comparison_id: uuid.UUID, ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)]
) -> ComparisonDetail:
    """The totals and the counts per unit in jurisdiction."""
    return ComparisonDetail.model_validate(await compare.get_comparison(ctx, comparison_id))


def _line_filters(
    outcome: Outcome | None = None, unit_id: uuid.UUID | None = None
) -> compare.LineFilters:
    return compare.LineFilters(outcome=outcome, unit_id=unit_id)


LineFilters = Annotated[compare.LineFilters, Depends(_line_filters)]


@compare_router.get("/{comparison_id}/lines", response_model=ComparisonLinePage)
async def list_comparison_lines(
    comparison_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DATA_IMPORT)],
    page: Paging,
    filters: LineFilters,
) -> ComparisonLinePage:
    """The differences, filtered by outcome and unit, masked per R-JUR-3."""
    result = await compare.lines_page(
        ctx, comparison_id, filters, limit=page.limit, cursor=page.cursor
    )
    return ComparisonLinePage.model_validate(result, from_attributes=True)


@compare_router.get("/{comparison_id}/lines/export", response_class=StreamingResponse)
async def export_comparison(
    request: Request,
    comparison_id: uuid.UUID,
    ctx: Annotated[Ctx, requires(Perm.DATA_EXPORT)],
    filters: LineFilters,
    format: ExportFormat = ExportFormat.XLSX,
) -> StreamingResponse:
    """The report to download, with the list's filters."""
    stmt, view = await compare.export_source(ctx, comparison_id, filters)
    return await export_list(
        request,
        ctx,
        stmt,
        COMPARISON_LINE_COLUMNS,
        fmt=format,
        filename="数据比对结果",
        target_type=compare.TARGET,
        filters=vars(filters),
        convert=view,
    )
