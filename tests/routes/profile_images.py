"""Route table entries (tests/api/test_routes.py) for the photos of jurisdiction profiles."""

from sqlalchemy.ext.asyncio import AsyncSession

from services import jurisdiction_info
from services.clock import Clock
from tests.factories import World
from tests.routes import Call, Setup
from tests.routes.attachments import photo, ready_upload, user_ctx


async def _profile_photo(session: AsyncSession, world: World, clock: Clock) -> Call:
    """A photo on the profile of S1's community, uploaded and placed by S1's admin."""
    upload = await ready_upload(session, clock, world.admin_s1, photo())
    await jurisdiction_info.put_profile(
        await user_ctx(session, clock, world.admin_s1),
        world.c1.id,
        sections={},
        images=[{"upload_id": str(upload["id"])}],
        expected_version=None,
    )
    return Call(jurisdiction_info.image_url(world.c1.id, str(upload["id"])))


SCOPED: dict[tuple[str, str], Setup] = {
    ("GET", "/api/v1/org-units/{unit_id}/profile/images/{upload_id}"): _profile_photo,
}
