"""R-MOB-1 / R-MOB-2 uploads: small files in one multipart request, larger ones resumably in
chunks with a checksum; the type is sniffed from the content and must agree with the label;
size limits hold before and after the bytes arrive; photos lose their EXIF (GPS above all);
an upload is its sender's alone; abandoned sessions do not stay."""

import hashlib
import io
import os
import wave
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import AsyncClient, Response
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.attachments import CHUNK_MAX, MIB, SIMPLE_MAX
from domain.principal import SYSTEM_SCOPE
from services import attachments_uploads
from services.db import set_scope
from services.models import Upload
from tests.conftest import MovableClock
from tests.factories import World, assert_problem, auth, make_user
from tests.routes.attachments import GPS_IFD, photo
from tests.routes.places import audit_actions, count_rows
from workers.jobs import purge_abandoned_uploads
from workers.settings import WorkerSettings

URL = "/api/v1/uploads"


def noisy_photo() -> bytes:
    """A JPEG of random pixels (tens of kilobytes, so it takes several chunks), with GPS."""
    image = Image.frombytes("RGB", (240, 180), os.urandom(240 * 180 * 3))
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (39.0, 28.0, 1.0), 3: "E", 4: (75.0, 59.0, 2.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def recording() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(os.urandom(16000))
    return out.getvalue()


async def start(
    client: AsyncClient,
    headers: dict[str, str],
    data: bytes,
    *,
    filename: str = "scene.jpg",
    content_type: str | None = "image/jpeg",
    sha256: str | None = None,
) -> dict[str, Any]:
    r = await client.post(
        URL,
        json={
            "filename": filename,
            "content_type": content_type,
            "size": len(data),
            "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert body["state"] == "receiving" and body["received"] == 0
    return body


async def put(
    client: AsyncClient,
    headers: dict[str, str],
    upload_id: str,
    data: bytes,
    start_at: int,
    end_at: int,
    *,
    body: bytes | None = None,
) -> Response:
    """Send bytes [start_at, end_at) of `data` (or another body under that range)."""
    return await client.put(
        f"{URL}/{upload_id}",
        content=data[start_at:end_at] if body is None else body,
        headers={**headers, "Content-Range": f"bytes {start_at}-{end_at - 1}/{len(data)}"},
    )


async def send_all(
    client: AsyncClient, headers: dict[str, str], upload_id: str, data: bytes, chunk: int
) -> None:
    for offset in range(0, len(data), chunk):
        r = await put(client, headers, upload_id, data, offset, min(offset + chunk, len(data)))
        assert r.status_code == 200, r.text


async def simple(
    client: AsyncClient,
    headers: dict[str, str],
    data: bytes,
    filename: str = "scene.jpg",
    content_type: str = "image/jpeg",
) -> Response:
    return await client.post(
        f"{URL}/file", files={"file": (filename, data, content_type)}, headers=headers
    )


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif()


async def test_r_mob_1_a_chunked_upload_resumes_after_a_dropped_chunk(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    data = noisy_photo()
    size = 8192
    assert len(data) > 3 * size
    upload = await start(client, headers, data)
    uid = upload["id"]
    assert (await put(client, headers, uid, data, 0, size)).json()["received"] == size
    # The second chunk is cut off on the way: refused whole, nothing of it kept.
    cut = await put(client, headers, uid, data, size, 2 * size, body=data[size : size + 5000])
    assert assert_problem(cut, 400, "upload_chunk_incomplete")["offset"] == size
    # The client, unaware, goes on with the third chunk: told where to resume.
    ahead = await put(client, headers, uid, data, 2 * size, 3 * size)
    body = assert_problem(ahead, 409, "upload_offset_mismatch")
    assert body["offset"] == size
    # After a reconnect it asks the server and resumes from there.
    status = await client.get(f"{URL}/{uid}", headers=headers)
    assert status.json()["received"] == size and status.json()["state"] == "receiving"
    for offset in range(size, len(data), size):
        r = await put(client, headers, uid, data, offset, min(offset + size, len(data)))
        assert r.status_code == 200, r.text
    finished = await client.post(f"{URL}/{uid}/finish", headers=headers)
    assert finished.status_code == 200, finished.text
    done = finished.json()
    assert done["state"] == "ready" and done["kind"] == "photo" and done["mime"] == "image/jpeg"
    assert done["received"] == len(data) and done["sha256"] == hashlib.sha256(data).hexdigest()
    # Finishing twice is harmless; a chunk after the end is refused.
    again = await client.post(f"{URL}/{uid}/finish", headers=headers)
    assert again.json() == done
    late = await put(client, headers, uid, data, 0, size)
    assert_problem(late, 409, "upload_not_receiving")
    assert await audit_actions(session, uid) == [
        "upload.create",
        *["upload.chunk"] * -(-len(data) // size),
        "upload.finish",
    ]


async def test_r_mob_1_finishing_early_or_with_a_wrong_checksum_is_refused(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    data = photo()
    upload = await start(client, headers, data, sha256=hashlib.sha256(b"other").hexdigest())
    uid = upload["id"]
    await put(client, headers, uid, data, 0, 100)
    early = await client.post(f"{URL}/{uid}/finish", headers=headers)
    assert_problem(early, 409, "upload_incomplete")
    await put(client, headers, uid, data, 100, len(data))
    wrong = await client.post(f"{URL}/{uid}/finish", headers=headers)
    assert assert_problem(wrong, 422, "upload_checksum_mismatch")["offset"] == 0
    # The bytes were not the file announced: the session starts over, nothing is usable.
    status = (await client.get(f"{URL}/{uid}", headers=headers)).json()
    assert status["received"] == 0 and status["state"] == "receiving" and status["kind"] is None
    bad_range = await client.put(
        f"{URL}/{uid}", content=b"x", headers={**headers, "Content-Range": "bytes 0-0/7"}
    )
    assert_problem(bad_range, 400, "upload_range_invalid")
    missing = await client.put(f"{URL}/{uid}", content=b"x", headers=headers)
    assert missing.status_code == 422


async def test_r_mob_1_oversize_uploads_are_refused_before_and_after_the_bytes(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    before = await count_rows(session, Upload)
    digest = "0" * 64
    for content_type, size, limit in (
        ("image/jpeg", 20 * MIB + 1, 20),
        ("video/mp4", 200 * MIB + 1, 200),
        (None, 200 * MIB + 1, 200),
    ):
        r = await client.post(
            URL,
            json={"filename": "f", "content_type": content_type, "size": size, "sha256": digest},
            headers={**headers, "Accept-Language": "en"},
        )
        body = assert_problem(r, 413, "attachment_too_large")
        assert f"{limit} MB" in body["detail"]
    # One request carries at most SIMPLE_MAX; a chunk at most CHUNK_MAX.
    big = photo() + b"\0" * (SIMPLE_MAX + 1)
    assert_problem(await simple(client, headers, big), 413, "attachment_too_large")
    data = b"\0" * (CHUNK_MAX + 10)
    upload = await start(client, headers, data, filename="clip.mp4", content_type="video/mp4")
    claimed = await client.put(
        f"{URL}/{upload['id']}",
        content=b"\0" * 10,
        headers={**headers, "Content-Range": f"bytes 0-{CHUNK_MAX}/{len(data)}"},
    )
    assert_problem(claimed, 413, "upload_chunk_too_large")
    sent = await put(client, headers, upload["id"], data, 0, len(data))
    assert_problem(sent, 413, "upload_chunk_too_large")
    assert await count_rows(session, Upload) == before + 1


async def test_r_mob_1_mislabelled_or_unsupported_content_is_refused(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    before = await count_rows(session, Upload)
    jpeg = photo()
    # A photo sent as a video, a PNG named .jpg, a script dressed as a photo.
    as_video = await simple(client, headers, jpeg, "clip.mp4", "video/mp4")
    body = assert_problem(as_video, 422, "attachment_type_mismatch")
    assert "image/jpeg" in body["detail"]
    png_named_jpg = await simple(client, headers, photo("PNG"), "scene.jpg", "image/png")
    assert_problem(png_named_jpg, 422, "attachment_type_mismatch")
    script = await simple(client, headers, b"#!/bin/sh\nrm -rf /\n" * 10, "a.jpg", "image/jpeg")
    assert_problem(script, 422, "attachment_type_unsupported")
    exe = await client.post(
        URL,
        json={
            "filename": "a.exe",
            "content_type": "application/x-msdownload",
            "size": 10,
            "sha256": "0" * 64,
        },
        headers=headers,
    )
    assert_problem(exe, 422, "attachment_type_unsupported")
    # A truncated photo has the right signature but no picture.
    broken = await simple(client, headers, jpeg[:200])
    assert_problem(broken, 422, "attachment_image_invalid")
    assert await count_rows(session, Upload) == before
    # The same check closes a chunked upload: the label said audio.
    upload = await start(client, headers, jpeg, filename="voice.mp3", content_type="audio/mpeg")
    await send_all(client, headers, upload["id"], jpeg, 4096)
    finished = await client.post(f"{URL}/{upload['id']}/finish", headers=headers)
    assert_problem(finished, 422, "attachment_type_mismatch")


async def test_r_mob_1_photos_lose_their_exif_and_gps_audio_is_kept_as_is(
    client: AsyncClient, world: World, clock: MovableClock
) -> None:
    headers = auth(world.worker_g1, clock)
    original = photo()
    assert GPS_IFD in exif_of(original) and b"GridPhone" in original
    for fmt, mime, name in (("JPEG", "image/jpeg", "a.jpg"), ("WEBP", "image/webp", "a.webp")):
        r = await simple(client, headers, photo(fmt), name, mime)
        assert r.status_code == 201, r.text
        assert r.json()["kind"] == "photo" and r.json()["mime"] == mime
    chunked = noisy_photo()
    upload = await start(client, headers, chunked)
    await send_all(client, headers, upload["id"], chunked, 8192)
    done = (await client.post(f"{URL}/{upload['id']}/finish", headers=headers)).json()
    assert done["stored_sha256"] != done["sha256"]
    audio = recording()
    sound = await simple(client, headers, audio, "voice.wav", "audio/wav")
    assert sound.status_code == 201, sound.text
    assert sound.json()["kind"] == "audio"
    assert sound.json()["stored_sha256"] == hashlib.sha256(audio).hexdigest()
    assert sound.json()["stored_size"] == len(audio)
    # The stored bytes themselves are read back in test_attachments.py, through the download.


async def test_r_mob_2_an_upload_is_its_senders_alone(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    data = photo()
    upload = await start(client, auth(world.worker_g1, clock), data)
    colleague = await make_user(session, roles=["grid_worker"], unit=world.g1)
    for other in (colleague, world.admin_d):
        headers = auth(other, clock)
        assert_problem(
            await client.get(f"{URL}/{upload['id']}", headers=headers), 404, "upload_not_found"
        )
        assert_problem(
            await put(client, headers, upload["id"], data, 0, 10), 404, "upload_not_found"
        )
        assert_problem(
            await client.post(f"{URL}/{upload['id']}/finish", headers=headers),
            404,
            "upload_not_found",
        )
    auditor = await make_user(session, roles=["auditor"], unit=world.district)
    refused = await simple(client, auth(auditor, clock), data)
    assert_problem(refused, 403, "permission_denied")


def _conn_maker(session: AsyncSession) -> async_sessionmaker[AsyncSession]:
    """System sessions inside the test's transaction (rolled back with it)."""
    return async_sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint")


async def test_r_mob_2_abandoned_sessions_go_with_their_chunks_after_24_hours(
    app: FastAPI, client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock
) -> None:
    """A receiving session untouched for 24 h is deleted with its stored chunks, audited;
    a second before it is kept, as are a finished upload of the same age and a session fed
    an hour ago; the sender then finds it gone (404)."""
    headers = auth(world.worker_g1, clock)
    data, size = noisy_photo(), 8192
    fed = await start(client, headers, data)
    for offset in (0, size):
        fed_chunk = await put(client, headers, fed["id"], data, offset, offset + size)
        assert fed_chunk.status_code == 200, fed_chunk.text
    empty = await start(client, headers, data)
    done = await start(client, headers, data)
    await send_all(client, headers, done["id"], data, size)
    assert (await client.post(f"{URL}/{done['id']}/finish", headers=headers)).status_code == 200
    clock.advance(timedelta(hours=23))
    headers = auth(world.worker_g1, clock)
    recent = await start(client, headers, data)
    assert (await put(client, headers, recent["id"], data, 0, size)).status_code == 200
    storage = app.state.storage
    chunks = [f"uploads/{fed['id']}/{n:06d}" for n in range(2)]
    assert [len(await storage.get(key)) for key in chunks] == [size, size]

    maker = _conn_maker(session)
    clock.advance(timedelta(hours=1) - timedelta(seconds=1))
    await attachments_uploads.purge_abandoned(maker, storage, clock)
    still = await client.get(f"{URL}/{fed['id']}", headers=auth(world.worker_g1, clock))
    assert still.status_code == 200
    clock.advance(timedelta(seconds=2))
    ctx = {"sessionmaker": maker, "storage": storage, "clock": clock}
    assert await purge_abandoned_uploads(ctx) >= 2
    headers = auth(world.worker_g1, clock)
    for gone in (fed, empty):
        missing = await client.get(f"{URL}/{gone['id']}", headers=headers)
        assert_problem(missing, 404, "upload_not_found")
        assert (await audit_actions(session, gone["id"]))[-1] == "upload.abandoned"
    for key in chunks:
        with pytest.raises(FileNotFoundError):
            await storage.get(key)
    for kept in (done, recent):
        assert (await client.get(f"{URL}/{kept['id']}", headers=headers)).status_code == 200
    assert await attachments_uploads.purge_abandoned(maker, storage, clock) == 0


async def test_r_mob_2_abandoned_sessions_are_purged_a_batch_at_a_time(
    app: FastAPI,
    client: AsyncClient,
    session: AsyncSession,
    world: World,
    clock: MovableClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Five abandoned sessions in batches of two: all go in one run, each audited once; the
    cron is registered with arq, unique."""
    monkeypatch.setattr(attachments_uploads, "PURGE_BATCH", 2)
    headers = auth(world.worker_g1, clock)
    data = noisy_photo()
    ids = [(await start(client, headers, data))["id"] for _ in range(5)]
    clock.advance(attachments_uploads.ABANDONED_AFTER + timedelta(minutes=1))
    maker = _conn_maker(session)
    assert await attachments_uploads.purge_abandoned(maker, app.state.storage, clock) >= 5
    await set_scope(session, SYSTEM_SCOPE)
    left = await session.scalar(select(func.count()).select_from(Upload).where(Upload.id.in_(ids)))
    assert left == 0
    for upload_id in ids:
        assert (await audit_actions(session, upload_id)).count("upload.abandoned") == 1
    [job] = [j for j in WorkerSettings.cron_jobs or () if j.name == "cron:purge_abandoned_uploads"]
    assert job.unique
