"""Request throttling in Redis, shared by every API process: a fixed window per subject
counted against the injected clock (so tests move time instead of waiting)."""

from datetime import datetime

from redis.asyncio import Redis

from domain.errors import RateLimited


async def hit(
    redis: Redis, *, name: str, subject: str, limit: int, window_seconds: int, now: datetime
) -> None:
    """Count one request of `subject` under `name`; over `limit` in the current window it is
    refused with 429 `rate_limited` and a Retry-After of the seconds left in the window."""
    stamp = int(now.timestamp())
    window = stamp // window_seconds
    key = f"throttle:{name}:{subject}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, window_seconds * 2)
        count, _ = await pipe.execute()
    if int(count) > limit:
        retry_after = (window + 1) * window_seconds - stamp
        raise RateLimited(extra={"headers": {"Retry-After": str(max(retry_after, 1))}})
