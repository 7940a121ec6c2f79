"""Job functions run by the arq worker. They stay thin: the work itself lives in `services`.

Each receives arq's `ctx`, which holds `redis` (the arq pool) and what `workers.settings`
puts there on startup: `engine`, `sessionmaker`, `clock` and `storage`.
"""

from typing import Any

from sqlalchemy import text

from services import attachments_uploads, idempotency

HEARTBEAT_KEY = "grid:worker:heartbeat"
# Three missed beats (one a minute) and the key expires: the worker counts as gone.
HEARTBEAT_TTL_SECONDS = 180


async def heartbeat(ctx: dict[str, Any]) -> str:
    """Prove the worker is alive and reaches the database: store the current time (ISO 8601)
    under `grid:worker:heartbeat` with a TTL. Returns the stored value."""
    async with ctx["sessionmaker"]() as session:
        await session.execute(text("SELECT 1"))
    now: str = ctx["clock"].now().isoformat()
    await ctx["redis"].set(HEARTBEAT_KEY, now, ex=HEARTBEAT_TTL_SECONDS)
    return now


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    """Delete the `Idempotency-Key` records older than their 24 h; how many went."""
    return await idempotency.purge_expired(ctx["sessionmaker"], ctx["clock"])


async def purge_abandoned_uploads(ctx: dict[str, Any]) -> int:
    """Delete the resumable upload sessions untouched for 24 h and their chunks; how many
    went."""
    return await attachments_uploads.purge_abandoned(
        ctx["sessionmaker"], ctx["storage"], ctx["clock"]
    )
