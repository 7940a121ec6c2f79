"""Imports (R-IMP-1) as an arq job, enqueued by the upload once it has committed; the work
lives in `services.imports`."""

import uuid
from typing import Any

from services.imports import run_import as read_import


async def run_import(ctx: dict[str, Any], import_id: str) -> str:
    """Read one queued import into the pool; the state it ends in is the job result."""
    return await read_import(ctx["sessionmaker"], ctx["clock"], uuid.UUID(import_id))
