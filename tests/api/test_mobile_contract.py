"""The Android app's contract (`clients/mobile-contract/`, R-MOB-1, R-MOB-2, R-WF-4): the
OpenAPI subset and the workflow table match their sources, every operation of the subset
has examples, and every example is replayed against the live API: a response that differs
from the example in status, shape or any value (ids and tokens aside) fails.

Examples name the user they act as and the records they need (`given`); `{{name}}` in a
request stands for a record of the scene below, and in a response for that record's id.
`MOBILE_CONTRACT_RECORD=1` rewrites the examples' responses from the live API instead (for
a deliberate change of the contract; review the diff)."""

import base64
import hashlib
import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from shapely.geometry import Point
from sqlalchemy.ext.asyncio import AsyncSession

from cli.mobile_contract import APP_OPERATIONS, CONTRACT, expected_files
from domain.mobile import TrackBatchIn, VisitPatch
from services import attachments_uploads, tracks, visits
from services.models import Notification, User
from tests.conftest import MovableClock
from tests.factories import PASSWORD, World, auth, make_user
from tests.routes.attachments import default_storage, user_ctx
from tests.routes.events import make_event
from tests.routes.houses import make_house
from tests.routes.mobile import make_handbook, make_visit
from tests.routes.people import make_person, resident_id
from tests.routes.places import make_place

SUBSET = json.loads((CONTRACT / "openapi.json").read_text(encoding="utf-8"))
EXAMPLES = sorted((CONTRACT / "examples").glob("*.json"))
RECORD = os.environ.get("MOBILE_CONTRACT_RECORD") == "1"
# A 1×1 PNG the upload examples send (its size and SHA-256 are in them).
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# Values that differ on every run, whatever the key's record.
_VOLATILE = {
    "access_token": "<token>",
    "refresh_token": "<token>",
    "service_no": "<service_no>",
    "next_cursor": "<cursor>",
}


def test_the_app_subset_and_the_workflow_table_match_their_sources() -> None:
    """`python -m cli.mobile_contract` regenerates both whenever the API or the workflow
    changes."""
    for path, expected in expected_files().items():
        assert path.read_text(encoding="utf-8") == expected, f"{path.name} drifted"


def test_every_operation_of_the_app_has_examples() -> None:
    covered = {(e["request"]["method"].lower(), e["operation"]) for e in map(_load, EXAMPLES)}
    assert covered == set(APP_OPERATIONS)


def _write(path: Path, example: dict[str, Any]) -> None:
    path.write_text(json.dumps(example, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _load(path: Path) -> dict[str, Any]:
    example: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return example


@dataclass
class Scene:
    """The records every example may name: the world's units and users, a person, house
    and place of G1, an event, a visit, a handbook, a notification and a track."""

    ids: dict[str, str]
    users: dict[str, User]
    values: dict[str, str] = field(default_factory=dict)


async def _scene(session: AsyncSession, world: World, clock: MovableClock) -> Scene:
    staff = await make_user(session, roles=["community_staff"], unit=world.c1)
    person = await make_person(session, clock, world.g1, id_number=resident_id(serial=7))
    house = await make_house(session, clock, world.g1, house_no="3-2-301")
    place = await make_place(session, clock, world.g1, name="平安旅馆")
    event = await make_event(session, clock, world)
    visit = await make_visit(session, clock, world, person_id=person["id"])
    handbook = await make_handbook(session, clock, world)
    note = Notification(
        user_id=world.worker_g1.id,
        path=world.g1.path,
        kind="notice",
        title="关于开展矛盾纠纷排查的通知",
        body="请于本周内完成辖区走访排查。",
        created_at=clock.now(),
    )
    session.add(note)
    await session.flush()
    worker = await user_ctx(session, clock, world.worker_g1)
    await tracks.upload_track(
        worker,
        TrackBatchIn.model_validate(
            {
                "points": [
                    {
                        "recorded_at": datetime(2026, 11, 23, 1, m, tzinfo=UTC),
                        "lon": lon,
                        "lat": 39.42,
                    }
                    for m, lon in ((0, 75.91), (30, 75.92))
                ]
            }
        ),
    )
    ids = {
        "district": world.district.id,
        "s1": world.s1.id,
        "c1": world.c1.id,
        "g1": world.g1.id,
        "g2": world.g2.id,
        "worker": world.worker_g1.id,
        "staff": staff.id,
        "person": person["id"],
        "house": house["id"],
        "place": place["id"],
        "event": event["id"],
        "visit": visit["id"],
        "handbook": handbook["id"],
        "notification": note.id,
        **{f"op{i}": uuid.uuid4() for i in range(1, 6)},
    }
    return Scene(
        ids={k: str(v) for k, v in ids.items()},
        users={"worker": world.worker_g1, "staff": staff, "admin_s2": world.admin_s2},
        values={"worker_username": world.worker_g1.username, "password": PASSWORD},
    )


async def _given(
    name: str, scene: Scene, session: AsyncSession, client: AsyncClient, clock: MovableClock
) -> None:
    """Bring the scene to the state an example starts from."""
    worker = await user_ctx(session, clock, scene.users["worker"])
    if name == "checked_in":
        await tracks.check_in(worker, Point(75.921, 39.421))
    elif name == "visit_edited_elsewhere":
        await visits.update_visit(
            worker,
            uuid.UUID(scene.ids["visit"]),
            VisitPatch(content="社区更正"),
            expected_version=1,
        )
    elif name == "refresh_token":
        r = await client.post(
            "/api/v1/auth/token",
            json={"username": scene.values["worker_username"], "password": PASSWORD},
        )
        scene.values["refresh_token"] = r.json()["refresh_token"]
    elif name.startswith("upload_"):
        created = await attachments_uploads.create_upload(
            worker, filename="scene.png", content_type="image/png", size=len(PNG), sha256=_sha(PNG)
        )
        scene.ids["upload"] = str(created["id"])
        if name in ("upload_received", "upload_finished"):
            await attachments_uploads.put_chunk(
                worker, default_storage(), created["id"], f"bytes 0-{len(PNG) - 1}/{len(PNG)}", PNG
            )
        if name == "upload_finished":
            await attachments_uploads.finish_upload(worker, default_storage(), created["id"])
    else:
        raise AssertionError(f"unknown given {name}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fill(value: Any, scene: Scene) -> Any:
    """A request with the scene's records in place of their `{{names}}`."""
    if isinstance(value, str):
        known = {**scene.ids, **scene.values}
        return _PLACEHOLDER.sub(lambda m: known[m[1]], value)
    if isinstance(value, list):
        return [_fill(v, scene) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, scene) for k, v in value.items()}
    return value


def normalise(value: Any, scene: Scene, key: str | None = None) -> Any:
    """A response as the examples write it: the scene's ids by name, other ids and tokens
    by kind; everything else as it is."""
    if key in _VOLATILE and value is not None:
        return _VOLATILE[key]
    if key == "id" and isinstance(value, int):
        return "<serial>"
    if isinstance(value, str):
        names = {v: k for k, v in scene.ids.items()}
        if value == scene.values["worker_username"]:
            return "{{worker_username}}"
        return _UUID.sub(lambda m: "{{" + names[m[0]] + "}}" if m[0] in names else "<uuid>", value)
    if isinstance(value, list):
        return [normalise(v, scene) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, scene, k) for k, v in value.items()}
    return value


async def _send(
    client: AsyncClient, example: dict[str, Any], scene: Scene, clock: MovableClock
) -> Response:
    request = _fill(example["request"], scene)
    headers = dict(request.get("headers", {}))
    if example.get("as"):
        headers.update(auth(scene.users[example["as"]], clock))
    kwargs: dict[str, Any] = {"params": request.get("query"), "headers": headers}
    if "body" in request:
        kwargs["json"] = request["body"]
    if "content_base64" in request:
        kwargs["content"] = base64.b64decode(request["content_base64"])
    if "file" in request:
        upload = request["file"]
        kwargs["files"] = {
            "file": (
                upload["filename"],
                base64.b64decode(upload["content_base64"]),
                upload["content_type"],
            )
        }
    return await client.request(request["method"], request["path"], **kwargs)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_example_replays_against_the_live_api(
    client: AsyncClient, session: AsyncSession, world: World, clock: MovableClock, path: Path
) -> None:
    example = _load(path)
    scene = await _scene(session, world, clock)
    for name in example.get("given", []):
        await _given(name, scene, session, client, clock)
    response = await _send(client, example, scene, clock)
    body = normalise(response.json(), scene) if response.content else None
    actual = {"status": response.status_code, "body": body}
    documented = SUBSET["paths"][example["operation"]][example["request"]["method"].lower()]
    assert str(response.status_code) in documented["responses"], "status not in the contract"
    if RECORD:
        example["response"] = actual
        _write(path, example)
        return
    assert actual == example["response"]
