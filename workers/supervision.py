"""The supervision sweep (R-SUP-2) and the assessment accrual (R-ASM-3/4) as arq cron jobs;
the work lives in `services.supervision` and `services.assessment_accrual`, shared with
`gridctl escalate` and `gridctl assess`."""

from typing import Any

from services.assessment_accrual import accrue_as_system
from services.supervision import sweep_as_system


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """Issue the cards due by the clock's now; returns the counts, kept by arq as the job
    result."""
    return await sweep_as_system(ctx["sessionmaker"], ctx["clock"])


async def assess(ctx: dict[str, Any]) -> dict[str, int]:
    """Write the automatic assessment lines due by the clock's now; the counts are the job
    result."""
    return await accrue_as_system(ctx["sessionmaker"], ctx["clock"])
