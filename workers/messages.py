"""Reminders before deadlines (R-SUP-6), the outbox drain (R-WF-5) and the webhook fan-out
(R-API-3) as arq cron jobs; the work lives in `services.reminders`, `services.outbox` and
`services.webhooks`."""

from typing import Any

from services.outbox import drain
from services.reminders import remind_as_system
from services.webhooks import fan_out_as_system


async def remind(ctx: dict[str, Any]) -> dict[str, int]:
    """Send the reminders due by the clock's now; the counts are the job result."""
    return await remind_as_system(ctx["sessionmaker"], ctx["clock"])


async def drain_outbox(ctx: dict[str, Any]) -> dict[str, int]:
    """Deliver the due outbox messages through the configured gateways."""
    return await drain(ctx["sessionmaker"], ctx["senders"], ctx["clock"])


async def fan_out_webhooks(ctx: dict[str, Any]) -> dict[str, int]:
    """Queue the new event changes for every live webhook subscription."""
    return await fan_out_as_system(ctx["sessionmaker"], ctx["clock"])
