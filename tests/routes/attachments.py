"""Route table of uploads, attachments and likely duplicates (R-JUR-1), and the factories
their tests share: photos with a GPS position in their EXIF, finished uploads of a user and
attachments on an event of grid G1."""

import io
from typing import Any

from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from services import attachments, attachments_uploads
from services.auth import load_principal
from services.clock import Clock
from services.context import Ctx
from services.models import User
from services.settings import get_settings
from services.storage import Storage, storage_from
from tests.factories import World
from tests.routes import Call, Setup
from tests.routes.events import make_event

GPS_IFD = 0x8825
# Where the photo says it was taken: 39°28'N 75°59'E (喀什).
GPS = {1: "N", 2: (39.0, 28.0, 12.5), 3: "E", 4: (75.0, 59.0, 30.25)}


def photo(fmt: str = "JPEG", *, size: tuple[int, int] = (64, 48), gps: bool = True) -> bytes:
    """A small photo, by default with GPS coordinates and a camera model in its EXIF."""
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x0110] = "GridPhone X1"
    if gps:
        exif[GPS_IFD] = GPS
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def default_storage() -> Storage:
    """The storage the test app was built with (GRID_STORAGE_DIR of the run)."""
    return storage_from(get_settings())


async def user_ctx(session: AsyncSession, clock: Clock, user: User) -> Ctx:
    return Ctx(session=session, principal=await load_principal(session, user.id), clock=clock)


async def ready_upload(
    session: AsyncSession,
    clock: Clock,
    user: User,
    data: bytes | None = None,
    *,
    filename: str = "scene.jpg",
    content_type: str = "image/jpeg",
) -> dict[str, Any]:
    """A finished upload of `user`, ready to attach."""
    ctx = await user_ctx(session, clock, user)
    return await attachments_uploads.simple_upload(
        ctx,
        default_storage(),
        filename=filename,
        content_type=content_type,
        data=photo() if data is None else data,
    )


async def attached(
    session: AsyncSession, clock: Clock, world: World, user: User | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An event in G1 and a photo attached to it by `user` (the district's admin)."""
    uploader = user or world.admin_d
    event = await make_event(session, clock, world)
    upload = await ready_upload(session, clock, uploader)
    ctx = await user_ctx(session, clock, uploader)
    attachment = await attachments.attach(ctx, event["id"], upload["id"])
    return event, attachment


def _on_event(path: str) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        event = await make_event(session, clock, world)
        return Call(path.format(id=event["id"]))

    return setup


async def _attach(session: AsyncSession, world: World, clock: Clock) -> Call:
    event = await make_event(session, clock, world)
    upload = await ready_upload(session, clock, world.admin_d)
    return Call(f"/api/v1/events/{event['id']}/attachments", {"upload_id": str(upload["id"])})


def _on_attachment(suffix: str) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        event, attachment = await attached(session, clock, world)
        return Call(f"/api/v1/events/{event['id']}/attachments/{attachment['id']}{suffix}")

    return setup


# An upload is its sender's own until attached: anyone else gets 404 (test_uploads.py).
UNSCOPED = {
    ("POST", "/api/v1/uploads"),
    ("POST", "/api/v1/uploads/file"),
    ("GET", "/api/v1/uploads/{upload_id}"),
    ("PUT", "/api/v1/uploads/{upload_id}"),
    ("POST", "/api/v1/uploads/{upload_id}/finish"),
}

SCOPED: dict[tuple[str, str], Setup] = {
    ("GET", "/api/v1/events/{event_id}/attachments"): _on_event("/api/v1/events/{id}/attachments"),
    ("POST", "/api/v1/events/{event_id}/attachments"): _attach,
    ("GET", "/api/v1/events/{event_id}/attachments/{attachment_id}/content"): _on_attachment(
        "/content"
    ),
    ("DELETE", "/api/v1/events/{event_id}/attachments/{attachment_id}"): _on_attachment(""),
    ("GET", "/api/v1/events/{event_id}/duplicates"): _on_event("/api/v1/events/{id}/duplicates"),
}
