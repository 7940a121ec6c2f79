"""Worker job pickup (issue target 8): no-op jobs through the product's worker, one process
(`bench.worker product`), against a bare arq worker with an empty function on the same
Redis (`bench.worker floor`).

Latency is enqueue → start of each job, with jobs offered at the target rate (1,000/s) for
the run's seconds; throughput is how fast the worker gets through a backlog: a batch
enqueued due at one moment, from the first start to the last finish. Times are arq's own
records (each job's result keeps when it was enqueued, started and finished)."""

import asyncio
import statistics
import time
from dataclasses import dataclass
from datetime import timedelta

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.constants import default_queue_name, result_key_prefix
from arq.jobs import Deserializer, JobResult, deserialize_result

from bench.harness import Harness
from bench.report import Outcome, Side
from bench.worker import FLOOR_QUEUE, NOOP
from services.settings import get_settings
from workers.queue import create_pool as product_pool
from workers.queue import deserialize

RATE = 1_000
MAX_JOBS = 20_000
MAX_P95_MS = 100
# A backlog waits this long plus its enqueueing before it is due.
DUE_AFTER_S = 1.0
READ_CHUNK = 1_000
# Jobs enqueued together, every TICK / RATE seconds: one by one, a busy machine falls behind.
TICK = 10


@dataclass(frozen=True)
class Pickup:
    latencies_ms: list[float]
    offered_rate: float
    throughput: float
    jobs: int
    ran: int

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies_ms, 95)

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies_ms, 50)


def percentile(values: list[float], p: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


async def _results(
    redis: ArqRedis, ids: list[str], deserializer: Deserializer | None
) -> list[JobResult]:
    found = []
    for start in range(0, len(ids), READ_CHUNK):
        keys = [result_key_prefix + job_id for job_id in ids[start : start + READ_CHUNK]]
        found += [raw for raw in await redis.mget(keys) if raw is not None]
        await redis.delete(*keys)
    return [deserialize_result(raw, deserializer=deserializer) for raw in found]


async def _settled(redis: ArqRedis, queue: str, deadline: float) -> None:
    """Until the queue is empty (a job leaves it when it finishes) or the deadline; what is
    left then is dropped."""
    while time.monotonic() < deadline:
        if not await redis.zcard(queue):
            break
        await asyncio.sleep(0.1)
    await redis.delete(queue)


async def _paced(redis: ArqRedis, queue: str, jobs: int) -> tuple[list[str], float]:
    """`jobs` enqueued at `RATE`, `TICK` at a time; their ids and the rate achieved."""
    ids = []
    started = time.monotonic()
    for n in range(0, jobs, TICK):
        await asyncio.sleep(max(0.0, started + n / RATE - time.monotonic()))
        batch = await asyncio.gather(
            *(redis.enqueue_job(NOOP, _queue_name=queue) for _ in range(min(TICK, jobs - n)))
        )
        ids += [job.job_id for job in batch if job is not None]
    return ids, jobs / (time.monotonic() - started)


async def _backlog(redis: ArqRedis, queue: str, jobs: int) -> list[str]:
    """`jobs` enqueued at once, all due at the same moment after the last is in."""
    due = timedelta(seconds=DUE_AFTER_S + jobs / (RATE * 4))
    ids = []
    for start in range(0, jobs, READ_CHUNK):
        batch = await asyncio.gather(
            *(
                redis.enqueue_job(NOOP, _queue_name=queue, _defer_by=due)
                for _ in range(start, min(jobs, start + READ_CHUNK))
            )
        )
        ids += [job.job_id for job in batch if job is not None]
    return ids


def _deadline(jobs: int) -> float:
    """Room for a worker ten times slower than the target."""
    return time.monotonic() + 60 + jobs / (RATE / 10)


async def _measure(
    redis: ArqRedis, queue: str, jobs: int, deserializer: Deserializer | None
) -> Pickup:
    await redis.delete(queue)
    paced, offered = await _paced(redis, queue, jobs)
    await _settled(redis, queue, _deadline(jobs))
    latencies = [
        (r.start_time - r.enqueue_time).total_seconds() * 1000
        for r in await _results(redis, paced, deserializer)
    ]
    backlog = await _backlog(redis, queue, jobs)
    await _settled(redis, queue, _deadline(jobs))
    done = await _results(redis, backlog, deserializer)
    span = (
        (max(r.finish_time for r in done) - min(r.start_time for r in done)).total_seconds()
        if done
        else 0.0
    )
    throughput = len(done) / span if span else 0.0
    return Pickup(latencies, offered, throughput, 2 * jobs, len(latencies) + len(done))


async def _product(jobs: int) -> Pickup:
    redis = await product_pool()
    try:
        return await _measure(redis, default_queue_name, jobs, deserialize)
    finally:
        await redis.aclose()


async def _floor(jobs: int) -> Pickup:
    redis = await create_pool(RedisSettings.from_dsn(get_settings().redis_url))
    try:
        return await _measure(redis, FLOOR_QUEUE, jobs, None)
    finally:
        await redis.aclose()


def _side(result: Pickup) -> Side:
    return Side(
        rate=result.throughput,
        p50_ms=result.p50_ms,
        p95_ms=result.p95_ms,
        failures=result.jobs - result.ran,
        detail=f"offered {result.offered_rate:,.0f}/s",
    )


@dataclass(frozen=True)
class PickupScenario:
    group: str = "8 worker"
    name: str = "job pickup, one worker process"

    def measure(self, h: Harness) -> Outcome:
        jobs = min(MAX_JOBS, RATE * h.seconds)
        notes: list[str] = []
        h.settle("product", notes)
        product = asyncio.run(_product(jobs))
        h.settle("floor", notes)
        floor = asyncio.run(_floor(jobs))
        ratio = floor.throughput / product.throughput if product.throughput else None
        return Outcome(
            self.group,
            f"{self.name}: {jobs:,} jobs offered at {RATE:,}/s, then a backlog of {jobs:,}",
            _side(product),
            _side(floor),
            ratio,
            [
                (f"all {product.jobs:,} jobs ran", product.ran == product.jobs),
                (f"pickup p95 ≤ {MAX_P95_MS} ms", product.p95_ms <= MAX_P95_MS),
                (f"≥ {RATE:,} jobs/s", product.throughput >= RATE),
            ],
            notes,
        )
