"""R-EVT-1 / R-MOB-1 attachments: finished uploads attached when the event is reported and
by feedback, completion or verification; listed and downloaded inside the jurisdiction
(photos without their EXIF), through either storage backend; deleted with If-Match by the
uploader or a supervisor; every change audited and nothing half-done on a refusal."""

import base64
import hashlib
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fastapi import FastAPI
from httpx import AsyncClient
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from services.models import EventAttachment
from services.storage_s3 import S3Storage
from tests.api.test_uploads import noisy_photo, recording, send_all, simple, start
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.attachments import GPS_IFD, attached, photo, ready_upload
from tests.routes.events import event_body
from tests.routes.places import audit_actions, count_rows
from tests.s3 import s3_endpoint, s3_storage

__all__ = ["s3_endpoint", "s3_storage"]

EVENTS = "/api/v1/events"


async def _uploaded(client: AsyncClient, headers: dict[str, str], data: bytes, **kw: Any) -> str:
    r = await simple(client, headers, data, **kw)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _listed(client: AsyncClient, headers: dict[str, str], event_id: str) -> list[Any]:
    r = await client.get(f"{EVENTS}/{event_id}/attachments", headers=headers)
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    assert r.json()["total"] == len(items)
    return items


async def test_r_mob_1_photos_attached_at_report_time_come_back_without_gps(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    upload_ids = [
        await _uploaded(client, headers, photo(size=(640, 480))),
        await _uploaded(client, headers, recording(), filename="v.wav", content_type="audio/wav"),
    ]
    r = await client.post(
        EVENTS, json=event_body(world.g1.id, attachment_ids=upload_ids), headers=headers
    )
    assert r.status_code == 201, r.text
    event = r.json()
    assert sorted(a["kind"] for a in event["attachments"]) == ["audio", "photo"]
    items = await _listed(client, auth(world.admin_d, clock), event["id"])
    assert {i["kind"] for i in items} == {"photo", "audio"}
    assert {i["action"] for i in items} == {"report"}
    assert {i["step_id"] for i in items} == {event["steps"][0]["id"]}
    picture = next(i for i in items if i["kind"] == "photo")
    got = await client.get(
        f"{EVENTS}/{event['id']}/attachments/{picture['id']}/content", headers=headers
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert "scene.jpg" in got.headers["content-disposition"]
    digest = base64.b64encode(hashlib.sha256(got.content).digest()).decode()
    assert got.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert hashlib.sha256(got.content).hexdigest() == picture["sha256"]
    # The pixels are there, the EXIF (GPS position, camera) is not.
    with Image.open(io.BytesIO(got.content)) as image:
        assert image.size == (640, 480)
        assert GPS_IFD not in image.getexif() and len(image.getexif()) == 0
    assert b"GridPhone" not in got.content and b"Exif" not in got.content
    assert await audit_actions(session, picture["id"]) == ["event_attachment.create"]
    # An upload attaches once.
    again = await client.post(
        EVENTS, json=event_body(world.g1.id, attachment_ids=upload_ids[:1]), headers=headers
    )
    assert_problem(again, 422, "attachment_uploads_invalid")


async def test_r_mob_1_a_refused_attachment_reports_no_event(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    mine = await _uploaded(client, auth(world.admin_d, clock), photo())
    before = await count_rows(session, EventAttachment)
    # Someone else's upload cannot be attached, and the report is refused whole.
    r = await client.post(
        EVENTS,
        json=event_body(world.g1.id, attachment_ids=[mine]),
        headers=auth(world.worker_g1, clock),
    )
    body = assert_problem(r, 422, "attachment_uploads_invalid")
    assert body["errors"][0]["field"] == "attachment_ids"
    assert await count_rows(session, EventAttachment) == before
    unfinished = await start(client, auth(world.worker_g1, clock), photo())
    r = await client.post(
        EVENTS,
        json=event_body(world.g1.id, attachment_ids=[unfinished["id"]]),
        headers=auth(world.worker_g1, clock),
    )
    assert_problem(r, 422, "attachment_uploads_invalid")


@pytest.fixture
async def staff(session: AsyncSession, world: World) -> Any:
    return await make_user(session, roles=["community_staff"], unit=world.c1)


async def test_r_mob_1_feedback_and_completion_carry_their_photos(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: Any
) -> None:
    headers = auth(staff, clock)
    r = await client.post(EVENTS, json=event_body(world.g1.id), headers=headers)
    event_id = r.json()["id"]

    async def act(action: str, body: dict[str, Any]) -> Any:
        return await client.post(
            f"{EVENTS}/{event_id}/actions/{action}", json=body, headers=headers
        )

    accepted = await act(
        "accept", {"responsible_person": "王芳", "responsible_phone": "13900001111"}
    )
    assert accepted.status_code == 200, accepted.text
    step_id = accepted.json()["current_step"]["id"]
    progress = await _uploaded(client, headers, photo())
    refused = await act(
        "accept",
        {
            "responsible_person": "x",
            "responsible_phone": "13900001111",
            "attachment_ids": [progress],
        },
    )
    assert_problem(refused, 422, "event_action_invalid")
    fed = await act("feedback", {"note": "已清理一半", "attachment_ids": [progress]})
    assert fed.status_code == 200, fed.text
    clock.advance(timedelta(minutes=5))
    headers = auth(staff, clock)
    result_photo = await _uploaded(client, headers, noisy_photo())
    done = await act("complete", {"result": "杂物已清走", "attachment_ids": [result_photo]})
    assert done.status_code == 200, done.text
    items = await _listed(client, headers, event_id)
    assert sorted((i["action"], i["step_id"]) for i in items) == [
        ("complete", step_id),
        ("feedback", step_id),
    ]
    assert [a["action"] for a in done.json()["attachments"]] == ["feedback", "complete"]
    assert done.json()["state"] == "pending_verify"


async def test_r_evt_1_delete_takes_if_match_and_is_the_uploaders_or_a_supervisors(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, staff: Any
) -> None:
    event, attachment = await attached(session, clock, world, staff)
    url = f"{EVENTS}/{event['id']}/attachments/{attachment['id']}"
    worker = auth(world.worker_g1, clock)
    assert_problem(await client.delete(url, headers=worker), 403, "attachment_not_yours")
    stale = await client.delete(url, headers={**auth(staff, clock), "If-Match": '"7"'})
    assert_problem(stale, 412, "precondition_failed")
    gone = await client.delete(url, headers={**auth(staff, clock), "If-Match": '"1"'})
    assert gone.status_code == 204, gone.text
    assert await _listed(client, worker, event["id"]) == []
    assert_problem(await client.get(f"{url}/content", headers=worker), 404, "attachment_not_found")
    assert_problem(
        await client.delete(url, headers=auth(staff, clock)), 404, "attachment_not_found"
    )
    assert await audit_actions(session, attachment["id"]) == [
        "event_attachment.create",
        "event_attachment.delete",
    ]
    # A supervisor (the street's admin) may remove another's attachment.
    event2, other = await attached(session, clock, world, staff)
    r = await client.delete(
        f"{EVENTS}/{event2['id']}/attachments/{other['id']}", headers=auth(world.admin_s1, clock)
    )
    assert r.status_code == 204, r.text


async def test_r_jur_1_attachments_of_a_sibling_street_do_not_exist(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    event, attachment = await attached(session, clock, world)
    outsider = auth(world.admin_s2, clock)
    base = f"{EVENTS}/{event['id']}/attachments"
    assert_problem(await client.get(base, headers=outsider), 404, "event_not_found")
    assert_problem(
        await client.get(f"{base}/{attachment['id']}/content", headers=outsider),
        404,
        "event_not_found",
    )
    # Another event's id does not reach this attachment either.
    event2, _ = await attached(session, clock, world)
    crossed = await client.get(
        f"{EVENTS}/{event2['id']}/attachments/{attachment['id']}/content",
        headers=auth(world.admin_d, clock),
    )
    assert_problem(crossed, 404, "attachment_not_found")
    upload = await ready_upload(session, clock, world.admin_s2)
    r = await client.post(base, json={"upload_id": str(upload["id"])}, headers=outsider)
    assert_problem(r, 404, "event_not_found")


@pytest.fixture
async def on_s3(app: FastAPI, s3_storage: S3Storage) -> AsyncIterator[S3Storage]:
    """The API storing attachments in the S3-compatible server for one test."""
    local = app.state.storage
    app.state.storage = s3_storage
    yield s3_storage
    app.state.storage = local


async def test_r_evt_1_s3_backend_round_trip_through_the_api(
    client: AsyncClient, world: World, clock: MovableClock, on_s3: S3Storage
) -> None:
    headers = auth(world.worker_g1, clock)
    data = recording() * 3
    upload = await start(client, headers, data, filename="v.wav", content_type="audio/wav")
    await send_all(client, headers, upload["id"], data, 10_000)
    done = await client.post(f"/api/v1/uploads/{upload['id']}/finish", headers=headers)
    assert done.status_code == 200, done.text
    # The chunks are gone from the bucket once the file is assembled.
    assert await on_s3.get(f"files/{upload['id']}") == data
    with pytest.raises(ClientError):
        await on_s3.get(f"uploads/{upload['id']}/000000")
    r = await client.post(
        EVENTS, json=event_body(world.g1.id, attachment_ids=[upload["id"]]), headers=headers
    )
    [item] = await _listed(client, headers, r.json()["id"])
    got = await client.get(
        f"{EVENTS}/{r.json()['id']}/attachments/{item['id']}/content", headers=headers
    )
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "audio/wav"
