"""Reminders before the periodic reports' deadlines (R-DAY-1) as an arq cron job; the work
lives in `services.daily_reports`."""

from typing import Any

from services.daily_reports import remind_as_system


async def remind_daily_reports(ctx: dict[str, Any]) -> int:
    """Notify the communities whose due reports are not filed; how many were notified."""
    return await remind_as_system(ctx["sessionmaker"], ctx["clock"])
