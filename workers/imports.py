"""Imports (R-IMP-1) as arq jobs: the upload enqueues `run_import` once it has committed, and
a cron takes back imports whose worker died and enqueues any import still queued, in case
Redis lost its job. The work lives in `services.imports`."""

import uuid
from typing import Any

from services.imports import JOB, job_id, queued_imports, reclaim_stalled
from services.imports import run_import as read_import


async def run_import(ctx: dict[str, Any], import_id: str) -> str:
    """Read one queued import into the pool; the state it ends in is the job result."""
    return await read_import(ctx["sessionmaker"], ctx["clock"], uuid.UUID(import_id))


async def requeue_imports(ctx: dict[str, Any]) -> dict[str, int]:
    """Take back the running imports whose heartbeat stopped, then enqueue the job of every
    import queued; a job already waiting is not doubled (its id is the import's run)."""
    reclaimed = await reclaim_stalled(ctx["sessionmaker"], ctx["clock"])
    waiting = await queued_imports(ctx["sessionmaker"])
    enqueued = 0
    for import_id, attempts in waiting:
        if await ctx["redis"].enqueue_job(JOB, str(import_id), _job_id=job_id(import_id, attempts)):
            enqueued += 1
    return {**reclaimed, "queued": len(waiting), "enqueued": enqueued}
