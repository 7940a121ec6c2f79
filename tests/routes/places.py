"""Route table of organisations, key places, service teams, jurisdiction information, city
components and video points (R-JUR-1), and the factories their tests share. Records are made
in grid G1 (street S1) through the services as the system, with real-looking personal data
so the masking sweep has something to find."""

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum.cn import ric, uscc

from domain.places import (
    AttentionLevel,
    ComponentCategory,
    OrganisationCategory,
    PlaceKind,
    TeamCategory,
)
from domain.principal import SYSTEM_SCOPE
from services import components, organisations, places, teams, video_points
from services.clock import Clock
from services.db import set_scope
from services.models import Address, AuditEntry, OrgUnit, PersonTag
from services.places import KindSpec
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# An active address's full text is unique: numbered in turn, never drawn at random.
_HOUSE_NUMBERS = itertools.count(1)
REPRESENTATIVE_PHONE = "13912345678"
PRINCIPAL_PHONE = "13698765432"
MEMBER_PHONE = "15809876543"


def resident_id(serial: int, born: str = "19800101") -> str:
    first17 = f"653101{born}{serial % 1000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


REPRESENTATIVE_ID = resident_id(7)


def licence(serial: int) -> str:
    """A valid 18-character unified social credit code (GB 32100-2015)."""
    body = f"91653101MA{serial % 100_000_000:08d}"[:17]
    return body + uscc.calc_check_digit(body)


async def make_organisation(
    session: AsyncSession,
    clock: Clock,
    unit: OrgUnit,
    *,
    category: OrganisationCategory = OrganisationCategory.ACTUAL_UNIT,
    **values: Any,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "name": f"喀什市{uuid.uuid4().hex[:4]}商贸有限公司",
        "org_type": "企业" if category == OrganisationCategory.ACTUAL_UNIT else None,
        "licence_no": licence(uuid.uuid4().int),
        "legal_representative": "王建国",
        "legal_representative_id_number": REPRESENTATIVE_ID,
        "legal_representative_phone": REPRESENTATIVE_PHONE,
        "phone": PRINCIPAL_PHONE,
    }
    if category == OrganisationCategory.SOCIAL:
        fields.update(org_type="社会团体", licence_no=None)
    if category == OrganisationCategory.NEW_ECONOMIC:
        fields.update(org_type="私营企业")
    if category == OrganisationCategory.LARGE_ENTERPRISE:
        fields.update(org_type="私营企业", industry="化工", hazardous_chemicals=True)
    fields.update(values)
    return await organisations.create_organisation(
        ctx, category=category, unit_id=unit.id, values=fields
    )


async def make_place(
    session: AsyncSession,
    clock: Clock,
    grid: OrgUnit,
    *,
    kinds: list[KindSpec] | None = None,
    **values: Any,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "name": f"平安旅馆{uuid.uuid4().hex[:4]}",
        "address": "喀什市人民路8号",
        "location": Point(75.92, 39.42),
        "principal": "李红",
        "phone": PRINCIPAL_PHONE,
        **values,
    }
    return await places.create_place(
        ctx,
        grid_id=grid.id,
        values=fields,
        kinds=kinds
        or [KindSpec(PlaceKind.PUBLIC_SECURITY, AttentionLevel.MEDIUM, {"subtype": "旅馆"})],
    )


async def make_team(
    session: AsyncSession,
    clock: Clock,
    unit: OrgUnit,
    *,
    category: TeamCategory = TeamCategory.VOLUNTEER,
    **values: Any,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "name": f"志愿服务队{uuid.uuid4().hex[:4]}",
        "leader": "赵队长",
        "phone": PRINCIPAL_PHONE,
        **values,
    }
    return await teams.create_team(ctx, unit_id=unit.id, category=category, values=fields)


async def make_member(
    session: AsyncSession,
    clock: Clock,
    team_id: uuid.UUID,
    *,
    name: str = "孙志愿",
    posts: list[str] | None = None,
    person_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    return await teams.add_member(
        ctx,
        team_id,
        person_id=person_id,
        name=name,
        phone=MEMBER_PHONE,
        posts=posts or ["队员"],
        joined_on=None,
    )


async def make_tag(
    session: AsyncSession, grid: OrgUnit, *, kind: str = "elderly", serial: int = 1
) -> PersonTag:
    """A business person (tag) made with the ORM (the tags feature is someone else's)."""
    await set_scope(session, SYSTEM_SCOPE)
    tag = PersonTag(
        grid_id=grid.id,
        path=grid.path,
        kind=kind,
        id_number=resident_id(serial, "19500101"),
        name="周大爷",
        details={},
        status="followed",
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(tag)
    await session.flush()
    return tag


async def make_record(
    session: AsyncSession, clock: Clock, world: World
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A team of G1 with one member who served one elderly person: (team, member, record)."""
    team = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"])
    tag = await make_tag(session, world.g1)
    ctx = await system_ctx(session, clock)
    record = await teams.create_record(
        ctx,
        team_id=team["id"],
        member_ids=[member["id"]],
        tag_ids=[tag.id],
        served_at=EPOCH,
        title="上门走访",
        content="了解生活情况",
    )
    return team, member, record


async def make_address(
    session: AsyncSession,
    grid: OrgUnit,
    full_text: str | None = None,
    *,
    location: Point | None = None,
    status: str = "active",
) -> Address:
    """A standard address made with the ORM (the address feature is someone else's)."""
    await set_scope(session, SYSTEM_SCOPE)
    address = Address(
        grid_id=grid.id,
        path=grid.path,
        full_text=full_text or f"喀什市解放北路{next(_HOUSE_NUMBERS)}号",
        location=from_shape(location, srid=4326) if location else None,
        status=status,
        created_at=EPOCH,
        updated_at=EPOCH,
    )
    session.add(address)
    await session.flush()
    return address


async def make_component(
    session: AsyncSession, clock: Clock, grid: OrgUnit, **values: Any
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "code": f"CMP{uuid.uuid4().hex[:10]}",
        "name": "人民路井盖",
        "location": Point(75.921, 39.421),
        **values,
    }
    return await components.create_component(
        ctx,
        grid_id=grid.id,
        category=ComponentCategory.PUBLIC,
        kind=fields.pop("kind", "manhole_cover"),
        values=fields,
    )


async def make_video_point(
    session: AsyncSession, clock: Clock, grid: OrgUnit, **values: Any
) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    fields: dict[str, Any] = {
        "name": "人民路口摄像头",
        "source": "public_security",
        "location": Point(75.922, 39.422),
        "stream_url": "rtsp://video.example.cn:554/live/101",
        "owner": "喀什市公安局",
        **values,
    }
    return await video_points.create_video_point(ctx, grid_id=grid.id, values=fields)


# --- setups: one request per route touching a record in S1's subtree ------------------------


async def _organisation(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return await make_organisation(session, clock, world.g1)


async def _deregistered_organisation(
    session: AsyncSession, world: World, clock: Clock
) -> dict[str, Any]:
    org = await _organisation(session, world, clock)
    ctx = await system_ctx(session, clock)
    return await organisations.ORGANISATIONS.deregister(
        ctx, org["id"], reason="歇业", expected_version=None
    )


def _on(factory: Any, path: str, body: dict[str, Any] | None = None) -> Setup:
    """A setup making a record with `factory(session, world, clock)` and calling `path`
    (formatted with the record as `r`)."""

    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        record = await factory(session, world, clock)
        return Call(path.format(r=record), body)

    return setup


async def _place(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return await make_place(
        session,
        clock,
        world.g1,
        kinds=[
            KindSpec(PlaceKind.PUBLIC_SECURITY, AttentionLevel.MEDIUM, {"subtype": "旅馆"}),
            KindSpec(PlaceKind.FIRE_SAFETY, AttentionLevel.NORMAL, {"subtype": "重点单位"}),
        ],
    )


async def _unfollowed_place(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    place = await _place(session, world, clock)
    ctx = await system_ctx(session, clock)
    await places.unfollow_place(ctx, place["id"], reason="已停业", expected_version=None)
    return place


async def _team(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return await make_team(session, clock, world.c1, category=TeamCategory.PARTY)


async def _dissolved_team(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    team = await _team(session, world, clock)
    ctx = await system_ctx(session, clock)
    await teams.dissolve_team(ctx, team["id"], reason="换届", expected_version=None)
    return team


async def _member(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    team = await _team(session, world, clock)
    return await make_member(session, clock, team["id"])


async def _deregistered_member(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    member = await _member(session, world, clock)
    ctx = await system_ctx(session, clock)
    await teams.MEMBERS.deregister(ctx, member["id"], reason="离任", expected_version=None)
    return member


async def _record_call(session: AsyncSession, world: World, clock: Clock) -> Call:
    team = await make_team(session, clock, world.g1)
    member = await make_member(session, clock, team["id"])
    tag = await make_tag(session, world.g1)
    return Call(
        "/api/v1/service-records",
        {
            "team_id": str(team["id"]),
            "member_ids": [str(member["id"])],
            "tag_ids": [str(tag.id)],
            "served_at": "2026-11-20T10:00:00+08:00",
            "title": "上门走访",
        },
    )


async def _record(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return (await make_record(session, clock, world))[2]


async def _component(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return await make_component(session, clock, world.g1)


async def _bind_call(session: AsyncSession, world: World, clock: Clock) -> Call:
    component = await _component(session, world, clock)
    address = await make_address(session, world.g1)
    return Call(f"/api/v1/components/{component['id']}/bind", {"address_id": str(address.id)})


async def _bound_component(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    component = await _component(session, world, clock)
    address = await make_address(session, world.g1)
    ctx = await system_ctx(session, clock)
    return await components.bind_component(ctx, component["id"], address.id, expected_version=None)


async def _deregistered_component(
    session: AsyncSession, world: World, clock: Clock
) -> dict[str, Any]:
    component = await _component(session, world, clock)
    ctx = await system_ctx(session, clock)
    return await components.COMPONENTS.deregister(
        ctx, component["id"], reason="已拆除", expected_version=None
    )


async def _video_point(session: AsyncSession, world: World, clock: Clock) -> dict[str, Any]:
    return await make_video_point(session, clock, world.g1)


async def _deregistered_video_point(
    session: AsyncSession, world: World, clock: Clock
) -> dict[str, Any]:
    point = await _video_point(session, world, clock)
    ctx = await system_ctx(session, clock)
    return await video_points.VIDEO_POINTS.deregister(
        ctx, point["id"], reason="已拆除", expected_version=None
    )


async def _seed_organisations(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [
        (await make_organisation(session, clock, world.g1))["id"],
        (await make_organisation(session, clock, world.c1, category=OrganisationCategory.SOCIAL))[
            "id"
        ],
    ]


async def _seed_places(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _place(session, world, clock))["id"]]


async def _seed_teams(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _team(session, world, clock))["id"]]


async def _seed_records(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _record(session, world, clock))["id"]]


async def _seed_components(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _component(session, world, clock))["id"]]


async def _seed_video_points(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await _video_point(session, world, clock))["id"]]


UNSCOPED = {
    ("GET", "/api/v1/organisations"),
    ("GET", "/api/v1/organisations/export"),
    ("GET", "/api/v1/places"),
    ("GET", "/api/v1/places/export"),
    ("GET", "/api/v1/teams"),
    ("GET", "/api/v1/teams/export"),
    ("GET", "/api/v1/service-records"),
    ("GET", "/api/v1/service-records/export"),
    ("GET", "/api/v1/components"),
    ("GET", "/api/v1/components/export"),
    ("GET", "/api/v1/video-points"),
    ("GET", "/api/v1/video-points/export"),
}

LISTS: list[ListEntry] = [
    ("/api/v1/organisations", _seed_organisations),
    ("/api/v1/places", _seed_places),
    ("/api/v1/teams", _seed_teams),
    ("/api/v1/service-records", _seed_records),
    ("/api/v1/components", _seed_components),
    ("/api/v1/video-points", _seed_video_points),
]

_ORG = "/api/v1/organisations/{r[id]}"
_PLACE = "/api/v1/places/{r[id]}"
_TEAM = "/api/v1/teams/{r[id]}"
_MEMBER = "/api/v1/team-members/{r[id]}"
_COMPONENT = "/api/v1/components/{r[id]}"
_VIDEO = "/api/v1/video-points/{r[id]}"
_PROFILE = {"overview": "辖区概况", "images": [{"url": "https://img.example.cn/a.jpg"}]}

SCOPED: dict[tuple[str, str], Setup] = {
    # organisations
    ("POST", "/api/v1/organisations"): lambda w: Call(
        "/api/v1/organisations",
        {
            "category": "actual_unit",
            "unit_id": str(w.g1.id),
            "name": "新单位",
            "licence_no": licence(1),
        },
    ),
    ("GET", "/api/v1/organisations/{organisation_id}"): _on(_organisation, _ORG),
    ("PATCH", "/api/v1/organisations/{organisation_id}"): _on(
        _organisation, _ORG, {"industry": "零售"}
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/reveal"): _on(
        _organisation, _ORG + "/reveal", {"reason": "核查法人信息"}
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/deregister"): _on(
        _organisation, _ORG + "/deregister", {"reason": "歇业"}
    ),
    ("POST", "/api/v1/organisations/{organisation_id}/restore"): _on(
        _deregistered_organisation, _ORG + "/restore"
    ),
    # key places
    ("POST", "/api/v1/places"): lambda w: Call(
        "/api/v1/places",
        {
            "grid_id": str(w.g1.id),
            "name": "新场所",
            "kinds": [{"kind": "work_safety", "level": "severe"}],
        },
    ),
    ("GET", "/api/v1/places/{place_id}"): _on(_place, _PLACE),
    ("PATCH", "/api/v1/places/{place_id}"): _on(_place, _PLACE, {"principal": "王经理"}),
    ("POST", "/api/v1/places/{place_id}/unfollow"): _on(
        _place, _PLACE + "/unfollow", {"reason": "已停业"}
    ),
    ("POST", "/api/v1/places/{place_id}/refollow"): _on(_unfollowed_place, _PLACE + "/refollow"),
    ("POST", "/api/v1/places/{place_id}/kinds"): _on(
        _place, _PLACE + "/kinds", {"kind": "other", "details": {"subtype": "加油点"}}
    ),
    ("PATCH", "/api/v1/places/{place_id}/kinds/{kind}"): _on(
        _place, _PLACE + "/kinds/fire_safety", {"level": "severe"}
    ),
    ("DELETE", "/api/v1/places/{place_id}/kinds/{kind}"): _on(
        _place, _PLACE + "/kinds/fire_safety"
    ),
    # service teams, members, records
    ("POST", "/api/v1/teams"): lambda w: Call(
        "/api/v1/teams", {"unit_id": str(w.c1.id), "name": "新团队", "category": "volunteer"}
    ),
    ("GET", "/api/v1/teams/{team_id}"): _on(_team, _TEAM),
    ("PATCH", "/api/v1/teams/{team_id}"): _on(_team, _TEAM, {"leader": "钱书记"}),
    ("POST", "/api/v1/teams/{team_id}/dissolve"): _on(
        _team, _TEAM + "/dissolve", {"reason": "换届"}
    ),
    ("POST", "/api/v1/teams/{team_id}/restore"): _on(_dissolved_team, _TEAM + "/restore"),
    ("POST", "/api/v1/teams/{team_id}/members"): _on(
        _team, _TEAM + "/members", {"name": "新成员", "posts": ["委员"]}
    ),
    ("GET", "/api/v1/teams/{team_id}/members"): _on(_team, _TEAM + "/members"),
    ("GET", "/api/v1/teams/{team_id}/members/export"): _on(_team, _TEAM + "/members/export"),
    ("GET", "/api/v1/team-members/{member_id}"): _on(_member, _MEMBER),
    ("PATCH", "/api/v1/team-members/{member_id}"): _on(
        _member, _MEMBER, {"posts": ["委员", "联络员"]}
    ),
    ("DELETE", "/api/v1/team-members/{member_id}"): _on(_member, _MEMBER),
    ("POST", "/api/v1/team-members/{member_id}/deregister"): _on(
        _member, _MEMBER + "/deregister", {"reason": "离任"}
    ),
    ("POST", "/api/v1/team-members/{member_id}/restore"): _on(
        _deregistered_member, _MEMBER + "/restore"
    ),
    ("POST", "/api/v1/service-records"): _record_call,
    ("GET", "/api/v1/service-records/{record_id}"): _on(_record, "/api/v1/service-records/{r[id]}"),
    # jurisdiction information
    ("GET", "/api/v1/org-units/{unit_id}/profile"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}/profile"
    ),
    ("PUT", "/api/v1/org-units/{unit_id}/profile"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}/profile", _PROFILE
    ),
    ("GET", "/api/v1/org-units/{unit_id}/roster"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}/roster"
    ),
    ("GET", "/api/v1/org-units/{unit_id}/roster/export"): lambda w: Call(
        f"/api/v1/org-units/{w.c1.id}/roster/export"
    ),
    # city components
    ("POST", "/api/v1/components"): lambda w: Call(
        "/api/v1/components",
        {
            "grid_id": str(w.g1.id),
            "code": "CMP-NEW-1",
            "name": "消防栓",
            "category": "public",
            "kind": "fire_hydrant",
            "location": {"type": "Point", "coordinates": [75.93, 39.43]},
        },
    ),
    ("GET", "/api/v1/components/{component_id}"): _on(_component, _COMPONENT),
    ("PATCH", "/api/v1/components/{component_id}"): _on(
        _component, _COMPONENT, {"condition": "damaged"}
    ),
    ("POST", "/api/v1/components/{component_id}/bind"): _bind_call,
    ("POST", "/api/v1/components/{component_id}/unbind"): _on(
        _bound_component, _COMPONENT + "/unbind"
    ),
    ("POST", "/api/v1/components/{component_id}/deregister"): _on(
        _component, _COMPONENT + "/deregister", {"reason": "已拆除"}
    ),
    ("POST", "/api/v1/components/{component_id}/restore"): _on(
        _deregistered_component, _COMPONENT + "/restore"
    ),
    # video points
    ("POST", "/api/v1/video-points"): lambda w: Call(
        "/api/v1/video-points",
        {
            "grid_id": str(w.g1.id),
            "name": "新摄像头",
            "source": "traffic",
            "location": {"type": "Point", "coordinates": [75.93, 39.43]},
            "stream_url": "https://video.example.cn/hls/1.m3u8",
            "owner": "交警大队",
        },
    ),
    ("GET", "/api/v1/video-points/{video_point_id}"): _on(_video_point, _VIDEO),
    ("PATCH", "/api/v1/video-points/{video_point_id}"): _on(
        _video_point, _VIDEO, {"owner": "城管局"}
    ),
    ("POST", "/api/v1/video-points/{video_point_id}/deregister"): _on(
        _video_point, _VIDEO + "/deregister", {"reason": "已拆除"}
    ),
    ("POST", "/api/v1/video-points/{video_point_id}/restore"): _on(
        _deregistered_video_point, _VIDEO + "/restore"
    ),
}


async def count_rows(session: AsyncSession, model: Any) -> int:
    """Rows of a table across every jurisdiction (to prove nothing was half-written)."""
    await set_scope(session, SYSTEM_SCOPE)
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def audit_actions(session: AsyncSession, target_id: Any) -> list[str]:
    """The audit trail's actions about one target, oldest first (R-AUD-1)."""
    await set_scope(session, SYSTEM_SCOPE)
    rows = await session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id)
    )
    return list(rows)
