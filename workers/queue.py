"""The arq queue as seen from outside the worker: JSON job serialisation and a pool factory.

Jobs are serialised as JSON (orjson), never pickle: a payload read back from Redis can then
never execute code, and anything else can inspect the queue.
"""

from typing import Any

import orjson
from arq.connections import ArqRedis, RedisSettings
from arq.connections import create_pool as arq_create_pool

from services.settings import get_settings


def _default(obj: object) -> str:
    # arq stores the exception of a failed job as its result; keep its text rather than
    # losing the whole result record to a serialisation error.
    if isinstance(obj, BaseException):
        return repr(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def serialize(data: dict[str, Any]) -> bytes:
    """Job and result records → JSON bytes (datetimes, UUIDs and dataclasses included)."""
    return orjson.dumps(data, default=_default)


def deserialize(raw: bytes) -> dict[str, Any]:
    """JSON bytes → a job or result record."""
    data: dict[str, Any] = orjson.loads(raw)
    return data


def redis_settings() -> RedisSettings:
    """Connection settings from `GRID_REDIS_URL`."""
    return RedisSettings.from_dsn(get_settings().redis_url)


async def create_pool() -> ArqRedis:
    """A pool for enqueueing jobs from the API or the CLI, with the worker's serialisation."""
    return await arq_create_pool(
        redis_settings(), job_serializer=serialize, job_deserializer=deserialize
    )
