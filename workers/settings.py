"""The arq worker's configuration; `gridctl worker` runs `workers.runner.run(WorkerSettings)`."""

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from arq import cron
from arq.cron import CronJob
from arq.typing import StartupShutdown, WorkerCoroutine
from arq.worker import Function

from services import heap, log_privacy
from services.clock import SystemClock
from services.db import make_engine, make_sessionmaker
from services.settings import get_settings
from services.sms import SmsSender, gateway_from
from services.storage import storage_from
from services.webhooks import WebhookSender
from workers.daily import remind_daily_reports
from workers.imports import requeue_imports, run_import
from workers.jobs import heartbeat, purge_abandoned_uploads, purge_idempotency_keys
from workers.lifecycle import lifecycle_daily
from workers.messages import drain_outbox, fan_out_webhooks, remind
from workers.queue import deserialize, redis_settings, serialize
from workers.supervision import assess, sweep


async def startup(ctx: dict[str, Any]) -> None:
    """Resources shared by every job of this worker process."""
    log_privacy.install()
    engine = make_engine(get_settings().database_url)
    ctx["engine"] = engine
    ctx["sessionmaker"] = make_sessionmaker(engine)
    ctx["clock"] = SystemClock()
    ctx["storage"] = storage_from(get_settings())
    # Outbox kinds and who delivers them; a misconfigured sender stops the worker at start.
    ctx["senders"] = {
        "sms": SmsSender(ctx["sessionmaker"], gateway_from(get_settings())),
        "webhook": WebhookSender(ctx["sessionmaker"], ctx["clock"]),
    }
    heap.settle()


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the database pool cleanly."""
    await ctx["engine"].dispose()


class WorkerSettings:
    """Read by arq as plain class attributes (its `Worker` keyword arguments)."""

    redis_settings = redis_settings()
    job_serializer = serialize
    job_deserializer = deserialize
    on_startup: StartupShutdown | None = startup
    on_shutdown: StartupShutdown | None = shutdown
    # Jobs enqueued by name (`workers.queue.create_pool().enqueue_job(...)`) register here.
    functions: Sequence[WorkerCoroutine | Function] = (run_import,)
    cron_jobs: Sequence[CronJob] | None = (
        cron(heartbeat, minute=None, second=0, unique=True, run_at_startup=True),
        # Idempotency keys live 24 h (API.md): the expired ones go hourly.
        cron(purge_idempotency_keys, minute=17, second=0, unique=True, run_at_startup=True),
        # R-MOB-2: resumable upload sessions untouched for 24 h go with their chunks, hourly.
        cron(purge_abandoned_uploads, minute=37, second=0, unique=True, run_at_startup=True),
        # R-KEY-2: the tag life cycle, daily at 01:05 business time. Idempotent, so it also
        # runs when a worker starts: a day missed while the worker was down is caught up. A
        # first run over a whole city writes many rows: it gets more than the default 300 s.
        cron(lifecycle_daily, hour=1, minute=5, unique=True, run_at_startup=True, timeout=1800),
        # R-SUP-2: supervision cards every minute; idempotent, so a worker starting after an
        # outage issues every card missed meanwhile, once, with its true due time.
        cron(sweep, second=0, unique=True, run_at_startup=True),
        # R-ASM-3/4: automatic assessment lines every ten minutes (month-end bulletins and
        # joint liability as soon as a month has ended); idempotent, so it catches up too.
        cron(assess, minute=set(range(2, 60, 10)), unique=True, run_at_startup=True),
        # R-SUP-6: reminders before the deadlines, every minute, idempotent likewise.
        cron(remind, second=30, unique=True, run_at_startup=True),
        # R-IMP-1: an upload whose job Redis lost is enqueued again, every minute.
        cron(requeue_imports, second=45, unique=True, run_at_startup=True),
        # R-DAY-1: reminders before the periodic reports are due, hourly; idempotent.
        cron(remind_daily_reports, minute=20, unique=True, run_at_startup=True),
        # R-WF-5: SMS and other outside deliveries, every five seconds.
        cron(drain_outbox, second=set(range(0, 60, 5)), unique=True, run_at_startup=True),
        # R-API-3: new event changes into the outbox for webhook subscribers, just before.
        cron(fan_out_webhooks, second=set(range(4, 60, 5)), unique=True, run_at_startup=True),
    )
    # Cron schedules (daily sweeps to come) follow the platform's local time, not the host's.
    timezone = ZoneInfo(get_settings().timezone)
    # Fewer jobs at once than the connections the worker's database pool keeps (16, and 4 more
    # at a peak, services.settings), so no job waits for one.
    max_jobs = 15
    # arq's defaults poll every 0.5 s and read at most 100 due jobs per poll: at most 200
    # jobs/s, and a job waits up to half a second before it starts. Polling is one ZRANGE.
    poll_delay = 0.02
    queue_read_limit = 1_000
    job_timeout = 300
    # arq's own liveness key (`arq:queue:health-check`), refreshed this often.
    health_check_interval = 60
