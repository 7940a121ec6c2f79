"""Imports (R-IMP-1) as arq jobs: the upload enqueues `run_import` once it has committed, and
a cron enqueues any import still queued, in case Redis lost its job. The work lives in
`services.imports`."""

import uuid
from typing import Any

from services.imports import JOB, job_id, queued_imports
from services.imports import run_import as read_import


async def run_import(ctx: dict[str, Any], import_id: str) -> str:
    """Read one queued import into the pool; the state it ends in is the job result."""
    return await read_import(ctx["sessionmaker"], ctx["clock"], uuid.UUID(import_id))


async def requeue_imports(ctx: dict[str, Any]) -> dict[str, int]:
    """Enqueue the job of every import still queued; a job already waiting is not doubled
    (its id is the import's)."""
    waiting = await queued_imports(ctx["sessionmaker"])
    enqueued = 0
    for import_id in waiting:
        if await ctx["redis"].enqueue_job(JOB, str(import_id), _job_id=job_id(import_id)):
            enqueued += 1
    return {"queued": len(waiting), "enqueued": enqueued}
