"""The daily registry rules (R-KEY-2) as an arq cron job; the work lives in
`services.lifecycle`, shared with `gridctl lifecycle`."""

from typing import Any

from services.lifecycle import run_as_system


async def lifecycle_daily(ctx: dict[str, Any]) -> dict[str, int]:
    """Run the tag life-cycle rules as of today (business time zone); returns the counts per
    rule, which arq keeps as the job result."""
    return await run_as_system(ctx["sessionmaker"], ctx["clock"])
