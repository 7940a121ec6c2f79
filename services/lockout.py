"""Login lockout after repeated failures (R-ORG-3), kept in Redis with the injected clock.

`login_max_failures` failures within `login_lock_minutes` (counted from the first of them) lock
the username for `login_lock_minutes`. The window start and the lock deadline are stored as
timestamps and compared with the clock, so tests move time; the Redis TTL only
garbage-collects.
"""

from datetime import datetime, timedelta

from redis.asyncio import Redis

from services.settings import get_settings

_KEY = "auth:failures:{username}"

# Atomically: restart the window when it has passed, count the failure, lock at the limit.
# KEYS[1] the hash; ARGV: now, window seconds, max failures, TTL seconds.
_REGISTER_FAILURE = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local since = tonumber(redis.call('HGET', KEYS[1], 'since'))
local count
if since == nil or now - since >= window then
    redis.call('HSET', KEYS[1], 'since', ARGV[1], 'count', 1)
    count = 1
else
    count = redis.call('HINCRBY', KEYS[1], 'count', 1)
end
if count >= tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], 'locked_until', tostring(now + window), 'count', 0)
    redis.call('HDEL', KEYS[1], 'since')
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return count
"""


def _key(username: str) -> str:
    return _KEY.format(username=username.lower())


async def is_locked(redis: Redis, username: str, now: datetime) -> bool:
    locked_until = await redis.hget(_key(username), "locked_until")  # type: ignore[misc]
    return locked_until is not None and float(locked_until) > now.timestamp()


async def register_failure(redis: Redis, username: str, now: datetime) -> None:
    settings = get_settings()
    window = int(timedelta(minutes=settings.login_lock_minutes).total_seconds())
    await redis.eval(  # type: ignore[misc]
        _REGISTER_FAILURE,
        1,
        _key(username),
        repr(now.timestamp()),
        str(window),
        str(settings.login_max_failures),
        str(window * 2),
    )


async def clear(redis: Redis, username: str) -> None:
    await redis.delete(_key(username))
