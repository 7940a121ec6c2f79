"""The supervision sweep (R-SUP-2) as an arq cron job; the work lives in
`services.supervision`, shared with `gridctl escalate`."""

from typing import Any

from services.supervision import sweep_as_system


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Issue the cards due by the clock's now; returns the counts, kept by arq as the job
    result."""
    return await sweep_as_system(ctx["sessionmaker"], ctx["clock"])
