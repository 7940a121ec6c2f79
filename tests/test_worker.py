"""The arq worker against the real Redis and PostgreSQL: the heartbeat job and JSON jobs."""

import pickle
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from arq.constants import default_queue_name, job_key_prefix
from arq.jobs import deserialize_job, serialize_job

from services.settings import get_settings
from workers.jobs import HEARTBEAT_KEY, HEARTBEAT_TTL_SECONDS, heartbeat
from workers.queue import create_pool, deserialize, serialize
from workers.settings import WorkerSettings, shutdown, startup

# The tests' Redis database; these tests remove only the keys they write.
TEST_REDIS_URL = "redis://127.0.0.1:6379/15"
FIXED_NOW = datetime(2025, 3, 1, 8, 30, 15, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return FIXED_NOW


@pytest.fixture
async def worker_ctx(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[dict[str, Any]]:
    """arq's ctx as a worker builds it (its pool, then `on_startup` against the test database),
    with a fixed clock."""
    monkeypatch.setenv("GRID_REDIS_URL", TEST_REDIS_URL)
    get_settings.cache_clear()
    redis = await create_pool()
    await redis.delete(HEARTBEAT_KEY)
    ctx: dict[str, Any] = {"redis": redis}
    await startup(ctx)
    ctx["clock"] = FixedClock()
    try:
        yield ctx
    finally:
        await shutdown(ctx)
        await redis.delete(HEARTBEAT_KEY)
        await redis.aclose()
        get_settings.cache_clear()


async def test_heartbeat_stores_the_clock_time_with_a_ttl(worker_ctx: dict[str, Any]) -> None:
    assert await heartbeat(worker_ctx) == FIXED_NOW.isoformat()

    redis = worker_ctx["redis"]
    assert await redis.get(HEARTBEAT_KEY) == FIXED_NOW.isoformat().encode()
    assert 0 < await redis.ttl(HEARTBEAT_KEY) <= HEARTBEAT_TTL_SECONDS


def test_worker_serialises_jobs_as_json_not_pickle() -> None:
    assert WorkerSettings.job_serializer is serialize
    assert WorkerSettings.job_deserializer is deserialize
    assert WorkerSettings.job_serializer is not pickle.dumps

    raw = serialize_job(
        "heartbeat",
        ("a", 1),
        {"unit": "x", "ids": [1, 2]},
        1,
        1_700_000_000_000,
        serializer=WorkerSettings.job_serializer,
    )
    assert orjson.loads(raw)["f"] == "heartbeat"  # plain JSON bytes, readable by anything
    job = deserialize_job(raw, deserializer=WorkerSettings.job_deserializer)
    # JSON has no tuples: positional arguments come back as a list.
    assert (job.function, list(job.args), job.kwargs) == (
        "heartbeat",
        ["a", 1],
        {"unit": "x", "ids": [1, 2]},
    )


def test_failed_job_results_keep_the_exception_text() -> None:
    raw = serialize({"s": False, "r": ValueError("boom")})
    assert deserialize(raw) == {"s": False, "r": "ValueError('boom')"}


async def test_enqueued_jobs_are_stored_as_json(worker_ctx: dict[str, Any]) -> None:
    redis = worker_ctx["redis"]
    job_id = f"json-check-{uuid.uuid4()}"
    job = await redis.enqueue_job("heartbeat", _job_id=job_id)
    assert job is not None
    try:
        stored = orjson.loads(await redis.get(job_key_prefix + job_id))
        assert (stored["f"], stored["a"], stored["k"]) == ("heartbeat", [], {})
    finally:
        await redis.delete(job_key_prefix + job_id)
        await redis.zrem(default_queue_name, job_id)


RUN_ONCE = """
import asyncio

from workers.queue import redis_settings
from workers.runner import run


async def startup(ctx):
    print(type(asyncio.get_running_loop()).__module__, flush=True)


async def nothing(ctx):
    pass


run({"functions": [nothing], "on_startup": startup, "burst": True,
     "queue_name": "test:runner", "redis_settings": redis_settings()})
"""


def test_a_worker_process_runs_on_uvloop_and_logs_as_arq_does() -> None:
    # burst: the worker stops once its (empty) queue is drained.
    done = subprocess.run(
        [sys.executable, "-c", RUN_ONCE], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["uvloop"]
    assert "Starting worker for 1 functions: nothing" in done.stderr
