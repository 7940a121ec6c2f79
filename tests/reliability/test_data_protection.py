"""R-JUR-3 beyond the responses of `tests/api/test_masking_scan.py`: no valid full ID number
or mobile number in the logs, in the job payloads (the arq queue in Redis, the outbox in
PostgreSQL) or in any error body, for any role; every unmasked read is audited, naming the
reader and the record, and the audit trail itself is read masked without `pii:read`.

Logs are captured at DEBUG for every logger — SQLAlchemy's statement and row echo, arq's job
lines, the SMS gateway — while people are created, changed, searched, revealed and refused,
a file is imported by a real arq worker and texts go out; `leaks` (python-stdnum's check, not
the product's) looks for the numbers in everything captured."""

import json
import logging
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from domain.masking import Mask, mask_value
from domain.permissions import Role
from domain.principal import SYSTEM_SCOPE
from services.db import set_scope
from services.models import AuditEntry, OutboxMessage
from services.outbox import drain_once
from services.sms import LoggingGateway, SmsSender
from services.webhooks import fan_out
from tests import territory
from tests.conftest import MovableClock
from tests.factories import World, auth, make_user
from tests.pii import exported_text, leaks
from tests.reliability.fault_territory import fault_territory
from tests.reliability.fuzzing import role_home
from tests.reliability.harness import api_server
from tests.routes import collect, prepare
from tests.routes.api_keys import make_key, make_subscription
from tests.routes.events import event_body
from tests.routes.imports import REGISTRY, burst_worker, csv_file, template_row
from tests.routes.people import make_person, resident_id
from tests.territory import ImportTerritory, import_territory

PEOPLE = "/api/v1/people"
IMPORTS = "/api/v1/imports"
STAFF_PHONE = "13955550001"
PHONES = ("13955550002", "13955550003", "13955550004")
TABLE = collect()
real_client = territory.real_client


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG. Tests name it first, so that it is set before their
    connections are made: SQLAlchemy decides per connection whether it echoes statements and
    rows."""
    caplog.set_level(logging.DEBUG)
    for name in sorted({"sqlalchemy", "arq", "grid", *logging.root.manager.loggerDict}):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def assert_clean_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Everything captured, as a log file would hold it (exceptions included), and each
    record's message: no full number; and the capture did see the database's row echo."""
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    text = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert leaks(text) == [], [line for line in text.splitlines() if leaks(line)][:5]


@pytest.fixture
def joined(conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test's connection, for a sender reading the users the test wrote."""
    return async_sessionmaker(bind=conn, join_transaction_mode="create_savepoint")


def person_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "grid_id": str(world.g1.id),
        "kind": "registered",
        "id_number": resident_id(),
        "name": "艾力·买买提",
        "phone": PHONES[0],
        "no_house_reason": "借住亲友家",
        **values,
    }


async def redis_texts(redis: Any) -> list[str]:
    """Every key of the app's Redis database with its value, whatever its type: the arq
    queue, its jobs and results, and anything else kept there."""
    texts = []
    async for key in redis.scan_iter():
        kind = (await redis.type(key)).decode()
        values: Any
        if kind == "string":
            values = [await redis.get(key)]
        elif kind == "hash":
            values = [v for pair in (await redis.hgetall(key)).items() for v in pair]
        elif kind == "list":
            values = await redis.lrange(key, 0, -1)
        elif kind == "set":
            values = list(await redis.smembers(key))
        else:
            assert kind == "zset", f"{key!r} is a {kind}: a kind this scan cannot read"
            values = await redis.zrange(key, 0, -1)
        texts.append(key.decode() + " " + " ".join(v.decode(errors="replace") for v in values))
    return texts


async def outbox_texts(session: AsyncSession) -> list[str]:
    await set_scope(session, SYSTEM_SCOPE)
    rows = (await session.execute(select(OutboxMessage))).scalars().all()
    return [json.dumps(m.payload, ensure_ascii=False) + (m.last_error or "") for m in rows]


# Logs and job payloads.


async def test_people_work_and_texts_leave_no_full_number_in_logs_or_the_outbox(
    every_log: pytest.LogCaptureFixture,
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    joined: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(session, roles=["community_staff"], unit=world.c1, phone=STAFF_PHONE)
    admin, worker = auth(world.admin_d, clock), auth(world.worker_g1, clock)
    first, second = resident_id(), resident_id()
    created = await client.post(PEOPLE, json=person_body(world, id_number=first), headers=admin)
    assert created.status_code == 201, created.text
    other = person_body(world, id_number=second, phone=PHONES[1])
    assert (await client.post(PEOPLE, json=other, headers=worker)).status_code == 201
    url = f"{PEOPLE}/{created.json()['id']}"
    changed = await client.patch(
        url,
        json={"phone": PHONES[2], "current_address": "喀什市团结路3号"},
        headers={**admin, "If-Match": created.headers["etag"]},
    )
    assert changed.status_code == 200, changed.text
    duplicate = await client.post(PEOPLE, json=person_body(world, id_number=first), headers=worker)
    assert duplicate.status_code == 409
    bad_phone = person_body(world, phone="1395555000")
    assert (await client.post(PEOPLE, json=bad_phone, headers=worker)).status_code == 422
    for headers in (admin, worker):
        found = await client.get(PEOPLE, params={"q": first}, headers=headers)
        assert found.json()["total"] == 1
    revealed = await client.post(f"{url}/reveal", json={"reason": "入户核对"}, headers=worker)
    assert revealed.json()["id_number"] == first
    # An event tells the community's staff, by SMS too; the logging gateway sends it.
    reported = await client.post("/api/v1/events", json=event_body(world.g1.id), headers=worker)
    assert reported.status_code == 201, reported.text
    senders = {"sms": SmsSender(joined, LoggingGateway())}
    assert (await drain_once(session, senders, clock.now(), batch=10))["sent"] == 1

    [sms] = [r for r in every_log.records if r.name == "grid.sms"]
    assert str(mask_value(Mask.PHONE, STAFF_PHONE)) in sms.getMessage()
    # The statements' rows were echoed (SQLAlchemy at DEBUG) with the numbers masked.
    rows = [r.getMessage() for r in every_log.records if r.getMessage().startswith("Row ")]
    assert any(str(mask_value(Mask.ID_NUMBER, first)) in row for row in rows)
    assert_clean_logs(every_log)
    texts = await outbox_texts(session)
    assert texts and all(leaks(text) == [] for text in texts), texts


async def test_webhook_messages_carry_no_full_number(
    every_log: pytest.LogCaptureFixture,
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
) -> None:
    """The other kind the outbox carries: an event change for an agency's subscription, the
    step accepted with its responsible person's phone."""
    key = await make_key(session, clock, world)
    await make_subscription(session, clock, key)
    worker = auth(world.worker_g1, clock)
    reported = await client.post("/api/v1/events", json=event_body(world.g1.id), headers=worker)
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    accepted = await client.post(
        f"/api/v1/events/{reported.json()['id']}/actions/accept",
        json={"responsible_person": "古丽", "responsible_phone": PHONES[0]},
        headers=auth(staff, clock),
    )
    assert accepted.status_code == 200, accepted.text
    assert await fan_out(session, clock) == 2
    texts = await outbox_texts(session)
    assert len([t for t in texts if '"delivery_id"' in t]) == 2
    assert all(leaks(text) == [] for text in texts), texts
    assert_clean_logs(every_log)


@pytest.fixture
async def place(app: FastAPI, clock: MovableClock) -> AsyncIterator[ImportTerritory]:
    async with import_territory(app, clock, region="654025", west=89.0, south=46.0) as found:
        yield found


def upload(place: ImportTerritory, body: bytes) -> dict[str, Any]:
    return {
        "data": {"registry": REGISTRY, "district_id": str(place.district_id)},
        "files": {"file": ("人口.csv", body, "application/octet-stream")},
    }


async def test_an_import_leaves_no_full_number_in_the_queue_its_results_or_the_logs(
    every_log: pytest.LogCaptureFixture,
    real_client: AsyncClient,
    app: FastAPI,
    place: ImportTerritory,
) -> None:
    """The upload enqueues its job, a real arq worker runs it: the job names the import, and
    the rows refused (a wrong check character next to a valid phone, a bad phone next to a
    valid ID) are reported by row and field, never by value."""
    good, other = resident_id(region="654025"), resident_id(region="654025")
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows = [
        template_row(grid_code=place.grid_code, name="张三", id_number=good, phone=PHONES[0]),
        template_row(grid_code=place.grid_code, name="李四", id_number=wrong, phone=PHONES[1]),
        template_row(grid_code=place.grid_code, name="王五", id_number=other, phone="139555"),
    ]
    r = await real_client.post(IMPORTS, headers=place.headers, **upload(place, csv_file(rows)))
    assert r.status_code == 202, r.text
    queued = await redis_texts(app.state.redis)
    assert any(r.json()["id"] in text for text in queued)  # the job, by the import's id
    await burst_worker()
    done = (await real_client.get(f"{IMPORTS}/{r.json()['id']}", headers=place.headers)).json()
    assert (done["state"], done["rows_accepted"], done["rows_rejected"]) == ("done", 1, 2)
    results = await redis_texts(app.state.redis)
    assert any("arq:result:" in text for text in results)
    for text in queued + results:
        assert leaks(text) == [], text
    assert any(r.name.startswith("arq") for r in every_log.records)
    assert_clean_logs(every_log)


async def test_the_served_api_logs_requests_with_the_numbers_masked(
    app: FastAPI, clock: MovableClock, tmp_path: Path
) -> None:
    """The API as `gridctl serve` runs it, uvicorn's access log on: a search by a full ID
    number (SPEC: matching is done on the server) and a registration are logged, their
    query string masked, and nothing else the process writes holds a full number."""
    async with fault_territory(app, clock, region="654025", west=89.0, south=46.0) as place:
        number = resident_id(region="654025")
        log = tmp_path / "api.log"
        with log.open("wb") as sink, api_server(os.environ.copy(), sink, access_log=True) as base:
            async with httpx.AsyncClient(base_url=base, timeout=60) as http:
                found = await http.get(PEOPLE, params={"q": number}, headers=place.reporter)
                assert found.status_code == 200, found.text
                body = {
                    "grid_id": str(place.grid_id),
                    "kind": "registered",
                    "id_number": number,
                    "name": "张三",
                    "phone": PHONES[0],
                    "no_house_reason": "借住",
                }
                made = await http.post(PEOPLE, json=body, headers=place.reporter)
                assert made.status_code == 201, made.text
                refused = await http.post(PEOPLE, json=body, headers=place.reporter)
                assert refused.status_code == 409, refused.text
        written = log.read_text()
    assert f"GET /api/v1/people?q={mask_value(Mask.ID_NUMBER, number)}" in written, written
    assert written.count("POST /api/v1/people") == 2
    assert leaks(written) == [], written


# Error bodies, for every role: whoever sent the numbers sees the refusal, and clients and
# proxies log and keep it.


async def refusals(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, role: Role
) -> list[Response]:
    """Requests carrying full ID and phone numbers that must all be refused (4xx), each as
    `role` would send them."""
    user = await make_user(session, roles=[role.value], **role_home(world, role))
    headers = auth(user, clock)
    taken, mine = resident_id(), resident_id()
    await make_person(session, clock, world.g1, id_number=taken, phone=PHONES[0])
    person = await make_person(session, clock, world.g1, id_number=mine, phone=PHONES[1])
    await make_user(session, roles=["grid_worker"], unit=world.g1, username=PHONES[2])
    url = f"{PEOPLE}/{person['id']}"
    # A file saved without its header row: the first person's cells are taken for headers.
    headless = csv_file([], headers=template_row(name="张三", id_number=mine, phone=PHONES[1]))
    sends: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", PEOPLE, {"json": person_body(world, id_number=taken)}),  # 409 duplicate
        ("POST", PEOPLE, {"json": person_body(world, phone="1395555000")}),  # bad phone
        ("POST", PEOPLE, {"json": person_body(world, birth_date="2001-01-01")}),  # mismatch
        ("POST", PEOPLE, {"json": person_body(world, mobile=PHONES[0])}),  # unknown field
        ("POST", PEOPLE, {"json": person_body(world, id_number=int(mine[:17]))}),  # not text
        ("POST", PEOPLE, {"json": person_body(world, kind="overseas")}),  # an ID, overseas
        ("PATCH", url, {"json": {"id_number": taken}, "headers": {"If-Match": '"1"'}}),  # 409
        ("PATCH", url, {"json": {"phone": PHONES[0]}, "headers": {"If-Match": '"9"'}}),  # 412
        ("GET", PEOPLE, {"params": {"q": taken, "limit": 9999}}),
        (
            "POST",
            "/api/v1/users",
            {
                "json": {
                    "username": PHONES[2],
                    "password": "Secret2026",
                    "full_name": "王小明",
                    "phone": PHONES[0],
                    "unit_id": str(world.g1.id),
                    "roles": ["grid_worker"],
                }
            },
        ),
        (
            "POST",
            IMPORTS,
            {
                "data": {"registry": REGISTRY, "district_id": str(world.district.id)},
                "files": {"file": ("人口.csv", headless, "text/csv")},
            },
        ),
        ("GET", f"/open311/v2/requests/{PHONES[0]}.json", {}),
    ]
    answers = []
    for method, path, options in sends:
        sent_headers = {**headers, **options.pop("headers", {})}
        answers.append(await client.request(method, path, headers=sent_headers, **options))
    return answers


@pytest.mark.parametrize("role", list(Role), ids=str)
async def test_no_error_body_echoes_a_full_number_for_any_role(
    every_log: pytest.LogCaptureFixture,
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    role: Role,
) -> None:
    answers = await refusals(client, session, world, clock, role)
    for r in answers:
        assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)
        assert leaks(r.text) == [], (r.request.method, r.request.url, r.text)
    if role == Role.ADMIN:
        # The admin reaches the refusals that quote what they were sent, masked: the header
        # row taken from a person's cells, the username taken, the request asked for.
        problems = {
            r.json()["code"]: r.json()
            for r in answers
            if r.headers["content-type"].startswith("application/problem+json")
        }
        assert {"duplicate_active_record", "validation_failed"} <= set(problems)
        masked = str(mask_value(Mask.PHONE, PHONES[1]))
        assert masked in problems["import_columns_mismatch"]["unexpected_columns"]
        assert str(mask_value(Mask.PHONE, PHONES[2])) in problems["username_taken"]["detail"]
        open311 = answers[-1].json()
        assert str(mask_value(Mask.PHONE, PHONES[0])) in open311[0]["description"]
    assert_clean_logs(every_log)


def _with_numbers(value: Any, number: str) -> Any:
    """Every text of a request body that is not a record id replaced by `number`."""
    if isinstance(value, dict):
        return {key: _with_numbers(item, number) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_numbers(item, number) for item in value]
    if isinstance(value, str):
        try:
            uuid.UUID(value)
        except ValueError:
            return number
    return value


WRITES = sorted(
    (method, path)
    for (method, path) in TABLE.scoped
    if method in ("POST", "PUT", "PATCH") and not path.endswith("/reveal")
)
REFUSED: list[bool] = []


@pytest.mark.parametrize(("method", "path"), WRITES, ids=str)
async def test_a_write_whose_every_text_is_a_full_number_is_never_echoed_in_a_refusal(
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    method: str,
    path: str,
) -> None:
    """Every write of the route table with its texts (JSON or form fields) all a valid ID
    number, then all a mobile number, sent by the district admin (who reaches every
    handler): never a 5xx, and no refusal quotes the number. (What is accepted is the
    caller's own text, shown masked or not as its field is: `test_masking_scan.py`.)"""
    call = await prepare(TABLE.scoped[(method, path)], session, world, clock)
    for number in (resident_id(), PHONES[0]):
        r = await client.request(
            method,
            call.path,
            json=_with_numbers(call.json, number),
            data=_with_numbers(call.data, number),
            files=call.files,
            params=call.params,
            headers={**auth(world.admin_d, clock), **call.headers},
        )
        REFUSED.append(r.is_error)
        assert r.status_code < 500, r.text
        if r.is_error:
            assert leaks(r.text) == [], r.text[:2000]


def test_the_sweep_drew_refusals() -> None:
    """Runs after the sweep (file order): numbers in every text are refused often enough
    for the sweep to mean something."""
    assert sum(REFUSED) >= len(WRITES) // 2, (sum(REFUSED), len(REFUSED))


# Unmasked reads are audited, naming the reader and the record.


async def pii_entries(session: AsyncSession, target_id: str) -> list[AuditEntry]:
    await set_scope(session, SYSTEM_SCOPE)
    stmt = select(AuditEntry).where(
        AuditEntry.target_id == target_id, AuditEntry.action.like("pii.%")
    )
    return list((await session.execute(stmt.order_by(AuditEntry.id))).scalars())


REVEALS = sorted(path for method, path in TABLE.scoped if path.endswith("/reveal"))


@pytest.mark.parametrize("path", REVEALS)
async def test_every_unmasked_read_is_audited_naming_the_reader_and_the_record(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, path: str
) -> None:
    """A street operator (pii:reveal, no pii:read) reads the record masked — not audited —
    and reveals it with a reason; the district admin (pii:read) reads it whole. Each
    unmasked read is one entry: who, which record, why."""
    call = await prepare(TABLE.scoped[("POST", path)], session, world, clock)
    record_url = call.path.removesuffix("/reveal")
    record_id = record_url.rsplit("/", 1)[1]
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    # The setup made the record as the system, which reads it whole: audited already.
    made = await pii_entries(session, record_id)
    masked = await client.get(record_url, headers=auth(operator, clock))
    assert masked.status_code == 200, masked.text
    assert leaks(masked.text) == []
    assert await pii_entries(session, record_id) == made

    reason = "入户走访核对身份"
    revealed = await client.post(call.path, json={"reason": reason}, headers=auth(operator, clock))
    assert revealed.status_code == 200, revealed.text
    full = await client.get(record_url, headers=auth(world.admin_d, clock))
    assert full.status_code == 200, full.text
    assert leaks(full.text), full.text  # the record does hold full numbers
    entries = (await pii_entries(session, record_id))[len(made) :]
    assert [(e.action, e.actor_id, e.reason) for e in entries] == [
        ("pii.reveal", operator.id, reason),
        ("pii.read", world.admin_d.id, None),
    ]


async def test_the_audit_trail_is_read_masked_without_pii_read_and_audited_with_it(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """The trail keeps each change as it was: a person's creation holds the full ID and
    phone, a reveal's reason the number the operator called. An auditor (audit:read, no
    pii:read) reads it masked, lists and exports; the admin reads it whole, audited."""
    number = resident_id()
    person = await make_person(session, clock, world.g1, id_number=number, phone=PHONES[0])
    operator = await make_user(session, roles=["street_operator"], unit=world.s1)
    url = f"{PEOPLE}/{person['id']}"
    reason = f"致电{PHONES[1]}核实"
    revealed = await client.post(
        f"{url}/reveal", json={"reason": reason}, headers=auth(operator, clock)
    )
    assert revealed.status_code == 200, revealed.text
    params = {"target_id": str(person["id"])}

    auditor = await make_user(session, roles=["auditor"], unit=world.district)
    listed = await client.get("/api/v1/audit", params=params, headers=auth(auditor, clock))
    assert listed.status_code == 200, listed.text
    by_action = {e["action"]: e for e in listed.json()["items"]}
    assert {"pii.reveal", "person.create"} <= set(by_action)
    assert leaks(listed.text) == [], listed.text
    created = by_action["person.create"]["after"]
    assert created["id_number"] == mask_value(Mask.ID_NUMBER, number)
    assert by_action["pii.reveal"]["reason"] == f"致电{mask_value(Mask.PHONE, PHONES[1])}核实"
    # Export needs data:export too, which no shipped role holds without pii:read.
    exporter = await make_user(session, roles=["auditor", "leader"], unit=world.district)
    for fmt in ("csv", "xlsx"):
        exported = await client.get(
            "/api/v1/audit/export", params={**params, "format": fmt}, headers=auth(exporter, clock)
        )
        assert exported.status_code == 200, exported.text
        text = exported_text(exported.content, fmt)
        assert str(mask_value(Mask.ID_NUMBER, number)) in text
        assert leaks(text) == [], text

    whole = await client.get("/api/v1/audit", params=params, headers=auth(world.admin_d, clock))
    shown = {e["action"]: e for e in whole.json()["items"]}
    assert shown["person.create"]["after"]["id_number"] == number
    assert shown["pii.reveal"]["reason"] == reason
    await set_scope(session, SYSTEM_SCOPE)
    [read] = (
        await session.execute(
            # This reader's: other tests' committed reads stay in the append-only trail.
            select(AuditEntry).where(
                AuditEntry.action == "pii.read",
                AuditEntry.target_type == "audit_entry",
                AuditEntry.actor_id == world.admin_d.id,
            )
        )
    ).scalars()
    assert read.after == {"ids": [str(e["id"]) for e in whole.json()["items"]]}
