"""R-WF-5 SMS through the outbox: messages written with the transition that caused them and
delivered afterwards through the configured gateway (here a real HTTP gateway on loopback),
retried with backoff, set aside after too many failures, each delivered once even when two
workers drain at the same time; and the worker's cron table runs reminders and the drain."""

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from domain.delivery import MAX_ATTEMPTS
from domain.principal import SYSTEM_SCOPE
from services.db import set_scope, system_session
from services.models import OutboxMessage, User
from services.outbox import drain, drain_once
from services.settings import Settings
from services.sms import HttpGateway, LoggingGateway, SmsSender, gateway_from
from tests.conftest import MovableClock
from tests.factories import World, make_user
from tests.routes.events import make_event
from tests.territory import SUPERUSER_DSN
from workers.messages import drain_outbox, remind
from workers.settings import WorkerSettings


class Gateway:
    """An SMS gateway's HTTP bridge on loopback: records what it is sent, answers `status`."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.received.append({**body, "auth": self.headers.get("Authorization")})
                self.send_response(gateway.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"

    def phones(self) -> list[str]:
        return [message["phone"] for message in self.received]


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def joined(conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection: a sender reads the recipients the test wrote."""
    return async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")


def gateways(server: Gateway, maker: async_sessionmaker[AsyncSession]) -> dict[str, SmsSender]:
    return {"sms": SmsSender(maker, HttpGateway(server.url, "secret-token"))}


async def queued(session: AsyncSession) -> list[OutboxMessage]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return list(rows)


async def test_r_wf_5_a_transition_queues_an_sms_that_the_gateway_receives_once(
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    gateway: Gateway,
    joined: async_sessionmaker[AsyncSession],
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900002222")
    await make_user(session, roles=["community_staff"], unit=world.c1)  # no phone: in-app only
    event = await make_event(session, clock, world)
    [message] = await queued(session)
    # The recipient by id, never the number (R-JUR-3): it is read as the text goes out.
    assert message.payload["user_id"] == str(staff.id)
    assert "13900002222" not in str(message.payload)
    assert event["service_no"] in message.payload["text"]
    counts = await drain_once(session, gateways(gateway, joined), clock.now(), batch=10)
    assert counts == {"sent": 1, "retried": 0, "failed": 0}
    assert gateway.phones() == ["13900002222"]
    assert gateway.received[0]["auth"] == "Bearer secret-token"
    assert gateway.received[0]["text"].startswith("【网格化服务管理平台】")
    assert (await drain_once(session, gateways(gateway, joined), clock.now(), batch=10))[
        "sent"
    ] == 0
    assert len(gateway.received) == 1


async def test_r_wf_5_the_number_texted_is_the_recipients_number_when_it_goes_out(
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    gateway: Gateway,
    joined: async_sessionmaker[AsyncSession],
) -> None:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900005555")
    await make_event(session, clock, world)
    await session.execute(update(User).where(User.id == staff.id).values(phone="13900006666"))
    assert (await drain_once(session, gateways(gateway, joined), clock.now(), batch=10))[
        "sent"
    ] == 1
    assert gateway.phones() == ["13900006666"]
    # A recipient left without a number is a failed attempt, tried again later.
    await make_event(session, clock, world)
    await session.execute(update(User).where(User.id == staff.id).values(phone=None))
    counts = await drain_once(session, gateways(gateway, joined), clock.now(), batch=10)
    assert counts == {"sent": 0, "retried": 1, "failed": 0}
    assert "no phone number" in ((await queued(session))[-1].last_error or "")


async def test_r_wf_5_a_failing_gateway_is_retried_with_backoff_then_set_aside(
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    gateway: Gateway,
    joined: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900003333")
    await make_event(session, clock, world)
    gateway.status = 503
    now = clock.now()
    assert (await drain_once(session, gateways(gateway, joined), now, batch=10))["retried"] == 1
    [message] = await queued(session)
    assert message.attempts == 1 and "HTTP 503" in (message.last_error or "")
    assert message.available_at == now + timedelta(seconds=30)
    # Not due again before its time.
    nothing = await drain_once(
        session, gateways(gateway, joined), now + timedelta(seconds=29), batch=10
    )
    assert nothing == {"sent": 0, "retried": 0, "failed": 0}
    for _ in range(MAX_ATTEMPTS - 1):
        now = message.available_at
        await drain_once(session, gateways(gateway, joined), now, batch=10)
    assert message.failed_at is not None and message.attempts == MAX_ATTEMPTS
    assert len(gateway.received) == MAX_ATTEMPTS
    # Set aside, never deleted, never sent again.
    gateway.status = 200
    later = await drain_once(session, gateways(gateway, joined), now + timedelta(days=1), batch=10)
    assert later["sent"] == 0 and len(await queued(session)) == 1


async def test_an_unreachable_gateway_counts_as_a_failed_attempt(
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    joined: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(session, roles=["community_staff"], unit=world.c1, phone="13900004444")
    await make_event(session, clock, world)
    nowhere = {"sms": SmsSender(joined, HttpGateway("http://127.0.0.1:9/sms", ""))}
    assert (await drain_once(session, nowhere, clock.now(), batch=10))["retried"] == 1


@pytest.fixture
async def committed_messages(app: FastAPI, clock: MovableClock) -> Any:
    """Twenty committed SMS messages to twenty users (no event needed), removed afterwards."""
    async with system_session(app.state.sessionmaker) as session:
        users = [
            await make_user(session, roles=[], superuser=True, phone=f"139{i:08d}")
            for i in range(20)
        ]
        rows = [
            OutboxMessage(
                kind="sms",
                payload={"user_id": str(user.id), "text": "并发投递"},
                created_at=clock.now(),
                available_at=clock.now(),
            )
            for user in users
        ]
        session.add_all(rows)
        await session.flush()
        ids = [row.id for row in rows]
    yield ids
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)
        await conn.execute("DELETE FROM users WHERE id = ANY($1::uuid[])", [u.id for u in users])
    finally:
        await conn.close()


async def test_two_workers_draining_at_once_deliver_each_message_once(
    app: FastAPI, clock: MovableClock, gateway: Gateway, committed_messages: list[int]
) -> None:
    maker = app.state.sessionmaker
    results = await asyncio.gather(
        drain(maker, gateways(gateway, maker), clock, batch=5),
        drain(maker, gateways(gateway, maker), clock, batch=5),
    )
    assert sum(r["sent"] for r in results) == 20
    assert sorted(gateway.phones()) == sorted(f"139{i:08d}" for i in range(20))


async def test_the_worker_cron_drains_and_reminds(
    app: FastAPI, clock: MovableClock, gateway: Gateway, committed_messages: list[int]
) -> None:
    names = {job.name for job in WorkerSettings.cron_jobs or ()}
    assert {"cron:remind", "cron:drain_outbox"} <= names
    maker = app.state.sessionmaker
    ctx = {"sessionmaker": maker, "clock": clock, "senders": gateways(gateway, maker)}
    assert (await drain_outbox(ctx))["sent"] == 20
    assert set(await remind(ctx)) == {"reminded", "notified"}


def test_the_gateway_is_chosen_by_configuration() -> None:
    assert isinstance(gateway_from(Settings(sms_gateway="log")), LoggingGateway)
    assert isinstance(
        gateway_from(Settings(sms_gateway="http", sms_url="http://sms.example/send")),
        HttpGateway,
    )
    for wrong in (Settings(sms_gateway="http"), Settings(sms_gateway="carrier-pigeon")):
        with pytest.raises(ValueError):
            gateway_from(wrong)
