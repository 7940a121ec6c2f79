"""Route table of business tags, system settings and notifications (R-JUR-1), and the
factories the tag tests share (resident ID numbers, people, tags)."""

import itertools
import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.id_numbers import check_char
from domain.tags import TagKind
from services import tags
from services.clock import Clock
from services.db import set_scope
from services.models import Notification, OrgUnit, Person, User
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# Sensitive details a grid worker must never read in full (R-JUR-3).
GUARDIAN_PHONE = "13912345678"
MENTAL_DETAILS: dict[str, Any] = {
    "guardian_name": "张大山",
    "guardian_phone": GUARDIAN_PHONE,
    "risk_level": 3,
    "treated": True,
}


# Sequence numbers taken in turn: IDs made in one test never collide.
_SEQUENCES = itertools.count()


def resident_id(born: date, *, female: bool = False, region: str = "653101") -> str:
    """A valid 18-digit resident ID (GB 11643-1999) for a birth date and gender."""
    sequence = next(_SEQUENCES) % 500 * 2 + (0 if female else 1)
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


async def make_person(
    session: AsyncSession,
    grid: OrgUnit,
    *,
    born: date = date(1980, 6, 1),
    female: bool = False,
    id_number: str | None = None,
    name: str = "王芳",
    status: str = "active",
) -> Person:
    """An actual person created directly (the population registry is another feature)."""
    await set_scope(session, "*")
    person = Person(
        grid_id=grid.id,
        path=grid.path,
        kind="registered",
        id_number=id_number or resident_id(born, female=female),
        name=name,
        birth_date=born,
        gender="female" if female else "male",
        no_house_reason="无",
        status=status,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(person)
    await session.flush()
    return person


async def make_tag(
    session: AsyncSession,
    clock: Clock,
    grid: OrgUnit,
    *,
    kind: TagKind = TagKind.MENTAL_PATIENT,
    details: dict[str, Any] | None = None,
    id_number: str | None = None,
    born: date = date(1980, 6, 1),
    name: str = "张伟",
) -> dict[str, Any]:
    """A followed tag created through the service as the system (unmasked result)."""
    ctx = await system_ctx(session, clock)
    return await tags.create_tag(
        ctx,
        grid_id=grid.id,
        kind=kind,
        id_number=id_number or resident_id(born),
        name=name,
        details=MENTAL_DETAILS if details is None else details,
        person_kind="registered",
    )


async def make_notification(
    session: AsyncSession, user: User, *, title: str = "通知", at: datetime = EPOCH
) -> Notification:
    await set_scope(session, "*")
    notification = Notification(
        user_id=user.id, kind="test", title=title, body=f"{title}内容", created_at=at
    )
    session.add(notification)
    await session.flush()
    return notification


async def _tag_call(session: AsyncSession, world: World, clock: Clock, suffix: str = "") -> Call:
    tag = await make_tag(session, clock, world.g1)
    return Call(f"/api/v1/tags/{tag['id']}{suffix}")


async def _history(session: AsyncSession, world: World, clock: Clock) -> Call:
    return await _tag_call(session, world, clock, "/history")


async def _patch(session: AsyncSession, world: World, clock: Clock) -> Call:
    call = await _tag_call(session, world, clock)
    return Call(call.path, {"name": "李四"})


async def _unfollow(session: AsyncSession, world: World, clock: Clock) -> Call:
    call = await _tag_call(session, world, clock, "/unfollow")
    return Call(call.path, {"reason": "已迁出"})


async def _refollow(session: AsyncSession, world: World, clock: Clock) -> Call:
    tag = await make_tag(session, clock, world.g1)
    ctx = await system_ctx(session, clock)
    await tags.unfollow_tag(ctx, tag["id"], reason="已迁出", expected_version=None)
    return Call(f"/api/v1/tags/{tag['id']}/refollow", {"reason": "已迁回"})


CORRECTION_DETAILS: dict[str, Any] = {
    "correction_type": "缓刑",
    "start_date": "2024-01-01",
    "end_date": "2027-06-30",
    "original_sentence": "有期徒刑二年缓刑三年",
}
RELEASED_DETAILS: dict[str, Any] = {
    "release_date": "2026-11-20",
    "original_crime": "盗窃罪",
    "sentence": "有期徒刑二年",
}


async def _convert(session: AsyncSession, world: World, clock: Clock) -> Call:
    tag = await make_tag(
        session, clock, world.g1, kind=TagKind.COMMUNITY_CORRECTION, details=CORRECTION_DETAILS
    )
    return Call(
        f"/api/v1/tags/{tag['id']}/convert",
        {"kind": "released_prisoner", "details": RELEASED_DETAILS},
    )


async def _person_tags(session: AsyncSession, world: World, clock: Clock) -> Call:
    person = await make_person(session, world.g1)
    assert person.id_number is not None
    await make_tag(session, clock, world.g1, id_number=person.id_number)
    return Call(f"/api/v1/people/{person.id}/tags")


SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/tags"): lambda w: Call(
        "/api/v1/tags",
        {
            "grid_id": str(w.g1.id),
            "kind": "disabled",
            "id_number": resident_id(date(1970, 5, 5)),
            "name": "李强",
            "details": {"disability_type": "肢体残疾", "grade": 2},
        },
    ),
    ("GET", "/api/v1/tags/{tag_id}"): _tag_call,
    ("PATCH", "/api/v1/tags/{tag_id}"): _patch,
    ("POST", "/api/v1/tags/{tag_id}/unfollow"): _unfollow,
    ("POST", "/api/v1/tags/{tag_id}/refollow"): _refollow,
    ("POST", "/api/v1/tags/{tag_id}/convert"): _convert,
    ("GET", "/api/v1/tags/{tag_id}/history"): _history,
    ("GET", "/api/v1/people/{person_id}/tags"): _person_tags,
}

UNSCOPED = {
    ("GET", "/api/v1/tag-kinds"),
    ("GET", "/api/v1/tags"),
    ("GET", "/api/v1/tags/export"),
    ("GET", "/api/v1/settings"),
    ("PUT", "/api/v1/settings/{key}"),
    ("GET", "/api/v1/notifications"),
    ("GET", "/api/v1/notifications/export"),
    ("POST", "/api/v1/notifications/read-all"),
    ("POST", "/api/v1/notifications/{notification_id}/read"),
}


async def _seed_tags(session: AsyncSession, world: World, clock: Clock) -> list[uuid.UUID]:
    return [(await make_tag(session, clock, grid))["id"] for grid in (world.g1, world.g2)]


async def _seed_notifications(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    # Notifications are the caller's own: the district admin's are never the sibling's.
    return [(await make_notification(session, world.admin_d)).id]


LISTS: list[ListEntry] = [
    ("/api/v1/tags", _seed_tags),
    ("/api/v1/notifications", _seed_notifications),
]
