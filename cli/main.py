"""`gridctl`: the operations command line (API.md, "CLI gridctl").

Heavy imports (the web app, uvicorn, arq, the bootstrap services) happen inside the commands,
so `gridctl --help` and the small commands start quickly.
"""

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import typer

from domain.errors import DomainError
from domain.messages import render
from services.settings import get_settings

T = TypeVar("T")

# Long enough for a cold PostgreSQL start; `make services` relies on it.
WAIT_SECONDS = 60.0

app = typer.Typer(
    help="网格化社会服务管理平台运维命令 / Grid governance platform operations.",
    no_args_is_help=True,
    add_completion=False,
    # Tracebacks must not print local variables: `create-admin` holds a password.
    pretty_exceptions_show_locals=False,
)
seed_app = typer.Typer(help="加载数据 / Load data.", no_args_is_help=True)
app.add_typer(seed_app, name="seed")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; a domain error becomes a Chinese message on stderr and exit code 1."""
    try:
        return asyncio.run(coro)
    except DomainError as exc:
        typer.echo(f"错误 / error: {render(exc.code, exc.params, 'zh')}", err=True)
        raise typer.Exit(1) from exc


def _as_system(job: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run a system job `job(sessionmaker, clock)` against the configured database."""
    from services.clock import SystemClock
    from services.db import make_engine, make_sessionmaker

    async def run() -> T:
        engine = make_engine(get_settings().database_url)
        try:
            return await job(make_sessionmaker(engine), SystemClock())
        finally:
            await engine.dispose()

    return _run(run())


def _instant(value: datetime | None) -> datetime | None:
    """An `--as-of` instant; one given without an offset is read in the business zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=ZoneInfo(get_settings().timezone))


AsOf = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
        help="视同当前时刻（ISO 8601，缺省时区为业务时区）/ The instant to run as of.",
    ),
]


@app.command()
def migrate() -> None:
    """创建（如缺失）并迁移数据库 / Create the database if missing and migrate it to head."""
    from services.database_setup import setup

    setup(get_settings().owner_url)
    typer.echo("数据库已迁移到最新版本 / Database migrated to head.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="进程数 / Worker processes.")] = 1,
) -> None:
    """运行 API 服务 / Serve the API (uvicorn)."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
def worker() -> None:
    """运行后台任务进程 / Run the arq background worker."""
    from workers.runner import run
    from workers.settings import WorkerSettings

    run(WorkerSettings)


@app.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Option(help="用户名 / Username.")],
    password: Annotated[str, typer.Option(help="密码 / Password.")],
) -> None:
    """创建根组织的超级管理员 / Create a superuser at the root unit."""
    from services import bootstrap

    user_id = _run(bootstrap.create_admin(username, password))
    typer.echo(f"已创建管理员 {username}（{user_id}）")
    typer.echo(f"Created administrator {username} ({user_id}).")


@seed_app.command("demo")
def seed_demo(
    people: Annotated[
        int, typer.Option(min=0, help="合成人口数量 / Synthetic people to generate.")
    ] = 50_000,
    events: Annotated[
        int, typer.Option(min=0, help="近一年演示事件数量 / Demo events over the last year.")
    ] = 600,
) -> None:
    """加载演示城市数据（仅首次）/ Load the demo city (first run only)."""
    from services import bootstrap, demo_data

    if _run(bootstrap.seed_demo(people, events, demo_data.stderr_progress())):
        typer.echo("演示数据已加载 / Demo data loaded.")
    else:
        typer.echo("演示数据已存在，未重复加载 / Demo data already present; nothing loaded.")


@app.command()
def lifecycle(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="业务日期，默认今天 / Business date (YYYY-MM-DD), default today.",
        ),
    ] = None,
) -> None:
    """执行业务人员生命周期规则 / Run the daily tag life-cycle rules (R-KEY-2) as of a date.

    Prints one JSON line with the counts per rule. Idempotent.
    """
    from services.lifecycle import run_as_system

    day = as_of.date() if as_of else None
    typer.echo(json.dumps(_as_system(lambda maker, clock: run_as_system(maker, clock, day))))


@app.command()
def escalate(as_of: AsOf = None) -> None:
    """执行一次超时督办扫描 / Run one supervision sweep (R-SUP-2) as of an instant.

    Prints one JSON line {"issued", "yellow", "red", "deductions"}. Idempotent.
    """
    from services.supervision import sweep_as_system

    instant = _instant(as_of)
    typer.echo(json.dumps(_as_system(lambda maker, clock: sweep_as_system(maker, clock, instant))))


@app.command()
def assess(as_of: AsOf = None) -> None:
    """记入自动考核扣分与加分 / Write the automatic assessment lines (R-ASM-3/4) due by an instant.

    Prints one JSON line {"lines", "deductions", "bonuses", "reversals", "joint"}. Idempotent.
    """
    from services.assessment_accrual import accrue_as_system

    instant = _instant(as_of)
    typer.echo(json.dumps(_as_system(lambda maker, clock: accrue_as_system(maker, clock, instant))))


@app.command()
def remind(as_of: AsOf = None) -> None:
    """发送时限到期前提醒 / Send the reminders due before deadlines (R-SUP-6) as of an instant.

    Prints one JSON line {"reminded", "notified"}. Idempotent.
    """
    from services.reminders import remind_as_system

    instant = _instant(as_of)
    typer.echo(json.dumps(_as_system(lambda maker, clock: remind_as_system(maker, clock, instant))))


@app.command("drain-outbox")
def drain_outbox() -> None:
    """投递待发短信、事件推送等消息 / Deliver the due outbox messages (SMS, webhooks) once,
    after queueing the new event changes for webhook subscribers.

    Prints one JSON line {"queued", "sent", "retried", "failed"}.
    """
    from services.outbox import Sender, drain
    from services.sms import SmsSender, gateway_from
    from services.webhooks import WebhookSender, fan_out_as_system

    async def run(maker: Any, clock: Any) -> dict[str, int]:
        senders: dict[str, Sender] = {
            "sms": SmsSender(maker, gateway_from(get_settings())),
            "webhook": WebhookSender(maker, clock),
        }
        queued = await fan_out_as_system(maker, clock)
        return {**queued, **await drain(maker, senders, clock)}

    typer.echo(json.dumps(_as_system(run)))


def openapi_document() -> str:
    """The OpenAPI document exactly as `gridctl openapi` prints it (trailing newline included),
    i.e. the expected content of the committed `openapi/openapi.json`."""
    from api.app import create_app

    # Creating the app touches neither the database nor Redis: the lifespan is not entered.
    document = create_app().openapi()
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


@app.command()
def openapi() -> None:
    """输出 OpenAPI 文档 / Print the OpenAPI document."""
    typer.echo(openapi_document(), nl=False)


async def _services_answer() -> bool:
    """True when both PostgreSQL (its `postgres` database, as the owner) and Redis answer."""
    import asyncpg
    from redis.asyncio import Redis
    from redis.exceptions import RedisError
    from sqlalchemy.engine import make_url

    settings = get_settings()
    dsn = make_url(settings.owner_url).set(drivername="postgresql", database="postgres")
    try:
        conn = await asyncpg.connect(dsn.render_as_string(False), timeout=5)
        await conn.close()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=5)
    try:
        return bool(await redis.ping())
    except (OSError, RedisError):
        return False
    finally:
        await redis.aclose()


@app.command("wait-services")
def wait_services() -> None:
    """等待 PostgreSQL 与 Redis 就绪（最多 60 秒）/ Wait up to 60 s for PostgreSQL and Redis."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not asyncio.run(_services_answer()):
        if time.monotonic() > deadline:
            typer.echo(
                "PostgreSQL 或 Redis 在 60 秒内未就绪 / PostgreSQL or Redis not ready within 60 s.",
                err=True,
            )
            raise typer.Exit(1)
        time.sleep(1)
    typer.echo("PostgreSQL 与 Redis 已就绪 / PostgreSQL and Redis are ready.")
