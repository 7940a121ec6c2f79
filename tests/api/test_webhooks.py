"""R-API-3 webhooks: subscriptions per API key, event changes fanned out from the change feed
into the outbox exactly once, delivered signed to a real HTTP receiver on loopback (reachable
only through the operator's allowlist), retried with backoff, logged for the key's
administrators; the SSRF guard refuses internal targets, follows no redirect, caps the
answer and bounds the time."""

import asyncio
import hashlib
import hmac
import ipaddress
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.messages import render
from domain.principal import SYSTEM_SCOPE
from services import ssrf
from services.db import set_scope
from services.models import OutboxMessage
from services.outbox import drain_once
from services.settings import get_settings
from services.webhooks import KIND, WebhookSender, fan_out, fan_out_as_system
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth
from tests.routes.api_keys import PUBLIC_TARGET, URL, make_key, make_subscription
from tests.routes.events import make_event
from tests.territory import SUPERUSER_DSN, committed_territory, real_client, remove_events
from workers.settings import WorkerSettings

__all__ = ["real_client"]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An agency's webhook endpoint on loopback: records each request, answers as told."""

    status: int = 200
    location: str | None = None
    answer_bytes: int = 0
    hang: bool = False
    received: list[Received] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}/hooks/grid"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                if receiver.hang:
                    receiver.released.wait(10)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(receiver.answer_bytes))
                self.end_headers()
                self.wfile.write(b"x" * receiver.answer_bytes)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


def _start(receiver: Receiver) -> threading.Thread:
    receiver.server = ThreadingHTTPServer(("127.0.0.1", 0), receiver.handler())
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    return thread


def _stop(receiver: Receiver) -> None:
    assert receiver.server is not None
    receiver.released.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    _start(server)
    yield server
    _stop(server)


@pytest.fixture
def other_receiver() -> Iterator[Receiver]:
    server = Receiver()
    _start(server)
    yield server
    _stop(server)


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's explicit allowlist setting opens 127.0.0.1 (only) for these tests."""
    monkeypatch.setattr(get_settings(), "webhook_allow_networks", "127.0.0.1/32")


def sender(conn: AsyncConnection, clock: MovableClock, **limits: Any) -> dict[str, WebhookSender]:
    """The webhook sender over the test's transaction."""
    return {
        KIND: WebhookSender(
            lambda: AsyncSession(bind=conn, join_transaction_mode="create_savepoint"),
            clock,
            limits=ssrf.Limits(**limits),
        )
    }


async def webhook_messages(session: AsyncSession) -> list[OutboxMessage]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == KIND).order_by(OutboxMessage.id)
    )
    return list(rows)


async def subscribed(
    session: AsyncSession, clock: MovableClock, world: World, url: str, **values: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    key = await make_key(session, clock, world)
    return key, await make_subscription(session, clock, key, url=url, **values)


async def attempts(client: AsyncClient, world: World, clock: MovableClock, sub: Any) -> Any:
    r = await client.get(
        f"/api/v1/webhooks/{sub['id']}/attempts", headers=auth(world.admin_s1, clock)
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_r_api_3_a_loopback_target_is_refused_unless_the_operator_allows_it(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = await make_key(session, clock, world)
    admin = auth(world.admin_s1, clock)
    path = f"{URL}/{key['id']}/webhooks"
    port = receiver.url.split(":")[2].split("/")[0]
    for target in (
        receiver.url,
        f"http://localhost:{port}/hooks",
        f"http://[::1]:{port}/hooks",
        f"http://[::ffff:127.0.0.1]:{port}/hooks",
        f"http://2130706433:{port}/hooks",  # 127.0.0.1 as one decimal number
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/hooks",
    ):
        r = await client.post(path, json={"url": target}, headers=admin)
        body = assert_problem(r, 422, "webhook_invalid")
        forbidden = {"field": "url", "message": render("webhook_url_forbidden", {}, "zh")}
        assert body["errors"] == [forbidden], target
    for target in ("ftp://93.184.215.14/x", "https://user:pw@93.184.215.14/x", "not a url"):
        r = await client.post(path, json={"url": target}, headers=admin)
        body = assert_problem(r, 422, "webhook_invalid")
        assert body["errors"][0]["message"] == render("webhook_url_invalid", {}, "zh"), target
    r = await client.post(path, json={"url": "https://no-such-host.invalid/x"}, headers=admin)
    body = assert_problem(r, 422, "webhook_invalid")
    assert body["errors"][0]["message"] == render("webhook_url_unresolved", {}, "zh")
    assert receiver.received == []

    monkeypatch.setattr(get_settings(), "webhook_allow_networks", "127.0.0.1/32")
    created = await client.post(path, json={"url": receiver.url}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    shown = await client.get(f"/api/v1/webhooks/{created.json()['id']}", headers=admin)
    assert "secret" not in shown.json()


async def test_r_api_3_an_event_change_is_delivered_signed_once(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    _, sub = await subscribed(session, clock, world, receiver.url)
    event = await make_event(session, clock, world)  # G1, inside the key's street S1
    await make_event(session, clock, world, grid_id=world.g3.id)  # street S2: not the key's
    assert await fan_out(session, clock) == 1
    assert await fan_out(session, clock) == 0  # each change is queued once
    counts = await drain_once(session, sender(conn, clock), clock.now(), batch=10)
    assert counts == {"sent": 1, "retried": 0, "failed": 0}
    [request] = receiver.received
    assert request.path == "/hooks/grid"
    assert request.headers["Content-Type"] == "application/json"
    # The receiver checks the signature with nothing but the shared secret.
    timestamp, signature = (
        part.split("=", 1)[1] for part in request.headers["X-Grid-Signature"].split(",")
    )
    expected = hmac.new(
        sub["secret"].encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(signature, expected)
    assert int(timestamp) == int(clock.now().timestamp())
    payload = json.loads(request.body)
    assert payload["type"] == "event.report" == request.headers["X-Grid-Event"]
    assert payload["id"] == request.headers["X-Grid-Delivery"]
    assert payload["data"]["event_id"] == str(event["id"])
    assert payload["data"]["service_no"] == event["service_no"]
    assert payload["data"]["at"].endswith("+08:00")
    [logged] = await attempts(client, world, clock, sub)
    assert logged["ok"] and logged["status_code"] == 200 and logged["attempt"] == 1
    assert logged["delivery_id"] == payload["id"] and logged["event_id"] == str(event["id"])


async def test_r_api_3_a_failing_receiver_is_retried_with_backoff_under_one_delivery_id(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    await subscribed(session, clock, world, receiver.url)
    _, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    assert await fan_out(session, clock) == 2
    receiver.status = 500
    now = clock.now()
    assert (await drain_once(session, sender(conn, clock), now, batch=10))["retried"] == 2
    message = (await webhook_messages(session))[-1]
    assert message.attempts == 1 and "HTTP 500" in (message.last_error or "")
    assert message.available_at == now + timedelta(seconds=30)
    receiver.status = 200
    clock.advance(timedelta(seconds=30))
    assert (await drain_once(session, sender(conn, clock), clock.now(), batch=10))["sent"] == 2
    mine = [r for r in receiver.received if json.loads(r.body)["subscription_id"] == str(sub["id"])]
    assert len(mine) == 2
    assert mine[0].headers["X-Grid-Delivery"] == mine[1].headers["X-Grid-Delivery"]
    log = await attempts(client, world, clock, sub)
    assert [(a["attempt"], a["ok"], a["status_code"]) for a in log] == [
        (2, True, 200),
        (1, False, 500),
    ]
    assert log[1]["error"].startswith("HTTP 500")
    failed_only = await client.get(
        f"/api/v1/webhooks/{sub['id']}/attempts",
        params={"ok": "false"},
        headers=auth(world.admin_s1, clock),
    )
    assert [a["attempt"] for a in failed_only.json()["items"]] == [1]


async def test_r_api_3_subscriptions_receive_only_the_actions_and_categories_they_ask_for(
    session: AsyncSession, world: World, clock: MovableClock, allow_loopback: None
) -> None:
    await subscribed(session, clock, world, "http://127.0.0.1:9/a", actions=["accept"])
    await subscribed(session, clock, world, "http://127.0.0.1:9/b", categories=["livelihood"])
    await subscribed(session, clock, world, "http://127.0.0.1:9/c", actions=["report"])
    await make_event(session, clock, world)  # a dispute being reported
    assert await fan_out(session, clock) == 1
    [message] = await webhook_messages(session)
    assert message.payload["action"] == "report"


async def test_r_api_3_redirects_are_not_followed(
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    other_receiver: Receiver,
    allow_loopback: None,
    client: AsyncClient,
) -> None:
    receiver.status, receiver.location = 302, other_receiver.url
    _, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    await fan_out(session, clock)
    assert (await drain_once(session, sender(conn, clock), clock.now(), batch=10))["retried"] == 1
    assert len(receiver.received) == 1 and other_receiver.received == []
    [logged] = await attempts(client, world, clock, sub)
    assert logged["status_code"] == 302 and not logged["ok"]


async def test_r_api_3_an_oversized_answer_is_cut_off_and_counts_as_failed(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    receiver.answer_bytes = 200_000
    _, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    await fan_out(session, clock)
    limits = {"max_response_bytes": 1024}
    assert (await drain_once(session, sender(conn, clock, **limits), clock.now(), batch=10))[
        "retried"
    ] == 1
    [logged] = await attempts(client, world, clock, sub)
    assert logged["error"].startswith("ResponseTooLarge")


async def test_r_api_3_a_receiver_that_does_not_answer_times_out(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    receiver.hang = True
    _, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    await fan_out(session, clock)
    quick = sender(conn, clock, read_seconds=0.2)
    assert (await drain_once(session, quick, clock.now(), batch=10))["retried"] == 1
    [logged] = await attempts(client, world, clock, sub)
    assert logged["error"].startswith("ReadTimeout") and logged["status_code"] is None


async def test_r_api_3_without_the_allowlist_the_same_receiver_is_refused_at_delivery(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    await fan_out(session, clock)
    monkeypatch.setattr(get_settings(), "webhook_allow_networks", "")
    assert (await drain_once(session, sender(conn, clock), clock.now(), batch=10))["retried"] == 1
    assert receiver.received == []
    [logged] = await attempts(client, world, clock, sub)
    assert logged["error"] == "webhook_url_forbidden"


async def test_r_api_3_paused_subscriptions_and_revoked_keys_stop_deliveries(
    client: AsyncClient,
    conn: AsyncConnection,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    receiver: Receiver,
    allow_loopback: None,
) -> None:
    admin = auth(world.admin_s1, clock)
    key, sub = await subscribed(session, clock, world, receiver.url)
    await make_event(session, clock, world)
    await fan_out(session, clock)  # queued before the key is revoked
    r = await client.post(f"{URL}/{key['id']}/revoke", json={"reason": "停用"}, headers=admin)
    assert r.status_code == 200
    assert (await drain_once(session, sender(conn, clock), clock.now(), batch=10))["sent"] == 1
    assert receiver.received == []
    [logged] = await attempts(client, world, clock, sub)
    assert logged["error"].startswith("dropped") and not logged["ok"]
    await make_event(session, clock, world)
    assert await fan_out(session, clock) == 0

    _, paused = await subscribed(session, clock, world, receiver.url)
    r = await client.patch(
        f"/api/v1/webhooks/{paused['id']}",
        json={"enabled": False},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["enabled"] is False and r.json()["version"] == 2
    await make_event(session, clock, world)
    assert await fan_out(session, clock) == 0


async def test_r_api_3_subscribing_needs_an_active_key_that_reads_events(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    admin = auth(world.admin_s1, clock)
    body = {"url": "https://93.184.215.14/hooks"}
    reporter = await make_key(session, clock, world, operations=["event:report"])
    r = await client.post(f"{URL}/{reporter['id']}/webhooks", json=body, headers=admin)
    assert_problem(r, 422, "webhook_invalid")
    key = await make_key(session, clock, world)
    await client.post(f"{URL}/{key['id']}/revoke", json={"reason": "x"}, headers=admin)
    r = await client.post(f"{URL}/{key['id']}/webhooks", json=body, headers=admin)
    assert_problem(r, 409, "api_key_inactive")
    fresh = await make_key(session, clock, world)
    r = await client.post(
        f"{URL}/{fresh['id']}/webhooks", json={**body, "actions": ["explode"]}, headers=admin
    )
    assert_problem(r, 422, "webhook_invalid")
    r = await client.post(f"{URL}/{fresh['id']}/webhooks", json=body, headers=admin)
    assert r.status_code == 201
    listed = await client.get(f"{URL}/{fresh['id']}/webhooks", headers=admin)
    assert [s["id"] for s in listed.json()["items"]] == [r.json()["id"]]
    # Changing the URL is checked again; a stale If-Match is refused.
    one = f"/api/v1/webhooks/{r.json()['id']}"
    bad = await client.patch(one, json={"url": "http://192.168.0.10/"}, headers=admin)
    assert_problem(bad, 422, "webhook_invalid")
    stale = await client.patch(one, json={"enabled": False}, headers={**admin, "If-Match": '"9"'})
    assert_problem(stale, 412, "precondition_failed")


async def test_r_api_3_the_guard_connects_to_the_address_it_checked(receiver: Receiver) -> None:
    """DNS rebinding gains nothing: the request goes to the resolved, checked address with
    the original host name in the Host header."""
    port = receiver.url.split(":")[2].split("/")[0]
    target = ssrf.Target(
        url=httpx.URL(f"http://hooks.agency.example:{port}/in"),
        address=ipaddress.ip_address("127.0.0.1"),
    )
    reply = await ssrf.post(target, b"{}", {"Content-Type": "application/json"})
    assert reply.status_code == 200
    assert receiver.received[0].headers["Host"] == f"hooks.agency.example:{port}"


async def test_r_api_3_two_workers_fanning_out_at_once_queue_each_change_once(
    app: FastAPI, real_client: AsyncClient, clock: MovableClock
) -> None:
    async with committed_territory(app, clock, region="653123", west=79.0, south=43.0) as data:
        key_id = None
        try:
            r = await real_client.post(
                URL,
                json={
                    "unit_id": str(data.community_id),
                    "agency": "并发订阅",
                    "operations": ["event:read"],
                    "expires_at": (clock.now() + timedelta(days=1)).isoformat(),
                },
                headers=data.headers,
            )
            key_id = r.json()["id"]
            r = await real_client.post(
                f"{URL}/{key_id}/webhooks", json={"url": PUBLIC_TARGET}, headers=data.headers
            )
            assert r.status_code == 201, r.text
            subscription_id = r.json()["id"]
            for title in ("一", "二", "三"):
                r = await real_client.post(
                    "/api/v1/events",
                    json={
                        "title": f"并发推送{title}",
                        "category": "other",
                        "subtype": "other",
                        "grid_id": str(data.grid_id),
                        "occurred_at": "2026-11-22T10:00:00+08:00",
                        "description": "推送",
                    },
                    headers=data.headers,
                )
                assert r.status_code == 201, r.text
            maker = app.state.sessionmaker
            results = await asyncio.gather(
                fan_out_as_system(maker, clock), fan_out_as_system(maker, clock)
            )
            assert sum(result["queued"] for result in results) == 3
            assert (await fan_out_as_system(maker, clock))["queued"] == 0
            conn = await asyncpg.connect(SUPERUSER_DSN)
            try:
                events = await conn.fetch(
                    "SELECT payload->>'event_id' AS event_id FROM outbox "
                    "WHERE kind = 'webhook' AND payload->>'subscription_id' = $1",
                    subscription_id,
                )
            finally:
                await conn.close()
            assert len({row["event_id"] for row in events}) == len(events) == 3
        finally:
            await _remove_key(key_id)
            await remove_events(data.grid_id)


async def _remove_key(key_id: str | None) -> None:
    """Delete a committed key with its secrets, subscriptions and their messages."""
    if key_id is None:
        return
    conn = await asyncpg.connect(SUPERUSER_DSN)
    try:
        subscriptions = "SELECT id::text FROM webhook_subscriptions WHERE api_key_id = $1"
        await conn.execute(
            f"DELETE FROM outbox WHERE payload->>'subscription_id' IN ({subscriptions})",
            uuid.UUID(key_id),
        )
        for table in ("webhook_subscriptions", "api_key_secrets"):
            await conn.execute(f"DELETE FROM {table} WHERE api_key_id = $1", uuid.UUID(key_id))
        await conn.execute("DELETE FROM api_keys WHERE id = $1", uuid.UUID(key_id))
    finally:
        await conn.close()


def test_r_api_3_the_worker_fans_out_and_delivers_webhooks() -> None:
    names = {job.name for job in WorkerSettings.cron_jobs or ()}
    assert {"cron:fan_out_webhooks", "cron:drain_outbox"} <= names
