"""Route table of the grid worker's app and the handbooks (R-JUR-1, R-MOB-1), and the
factories the field-work tests share: records are made in grid G1 (street S1) by its
worker, through the services."""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.mobile import TrackBatchIn, VisitIn
from services import handbooks, tracks, visits
from services.auth import load_principal
from services.clock import Clock
from services.context import Ctx
from services.models import User
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup

IN_G1 = (75.921, 39.421)
VISITED = "2026-11-23T09:30:00+08:00"
DAY = date(2026, 11, 23)


def at(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


async def as_user(session: AsyncSession, clock: Clock, user: User) -> Ctx:
    return Ctx(session=session, principal=await load_principal(session, user.id), clock=clock)


def visit_body(world: World, **values: Any) -> dict[str, Any]:
    return {
        "grid_id": str(world.g1.id),
        "visited_at": VISITED,
        "topic": "visit",
        "content": "走访独居老人，了解生活情况",
        **values,
    }


async def make_visit(
    session: AsyncSession, clock: Clock, world: World, **values: Any
) -> dict[str, Any]:
    ctx = await as_user(session, clock, world.worker_g1)
    return await visits.create_visit(ctx, VisitIn.model_validate(visit_body(world, **values)))


async def make_track(session: AsyncSession, clock: Clock, world: World) -> None:
    ctx = await as_user(session, clock, world.worker_g1)
    points = [
        {"recorded_at": datetime(2026, 11, 23, 1, minute, tzinfo=UTC), "lon": lon, "lat": 39.42}
        for minute, lon in ((0, 75.91), (10, 75.92), (20, 75.93))
    ]
    await tracks.upload_track(ctx, TrackBatchIn.model_validate({"points": points}))


async def make_handbook(session: AsyncSession, clock: Clock, world: World) -> dict[str, Any]:
    ctx = await system_ctx(session, clock)
    return await handbooks.create_handbook(
        ctx,
        {
            "unit_id": world.s1.id,
            "category": "dispute",
            "title": "矛盾纠纷调处手册",
            "body": "一、",
        },
    )


async def _seed_visit(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_visit(session, clock, world))["id"]]


async def _seed_handbook(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    return [(await make_handbook(session, clock, world))["id"]]


def _on_visit(path: str, json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        visit = await make_visit(session, clock, world)
        return Call(path.format(id=visit["id"]), json)

    return setup


def _on_handbook(path: str, json: dict[str, Any] | None = None) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        handbook = await make_handbook(session, clock, world)
        return Call(path.format(id=handbook["id"]), json)

    return setup


async def _track_call(session: AsyncSession, world: World, clock: Clock) -> Call:
    await make_track(session, clock, world)
    return Call(f"/api/v1/mobile/tracks/{world.worker_g1.id}", params={"day": DAY.isoformat()})


def _event_body(**values: Any) -> dict[str, Any]:
    return {
        "title": "路灯损坏",
        "category": "city_component",
        "subtype": "street_light",
        "occurred_at": VISITED,
        "location": at(*IN_G1),
        **values,
    }


UNSCOPED = {
    # The caller's own: summary, check-ins, track upload and history.
    ("GET", "/api/v1/mobile/summary"),
    ("POST", "/api/v1/mobile/check-ins"),
    ("POST", "/api/v1/mobile/check-ins/check-out"),
    ("GET", "/api/v1/mobile/check-ins"),
    ("POST", "/api/v1/mobile/tracks"),
    ("GET", "/api/v1/mobile/history"),
    # Each operation goes through its own use case, scoped like its route (test_sync.py).
    ("POST", "/api/v1/sync"),
    # Lists filtered by jurisdiction (LISTS below).
    ("GET", "/api/v1/mobile/visits"),
    ("GET", "/api/v1/handbooks"),
}

LISTS: list[ListEntry] = [
    ("/api/v1/mobile/visits", _seed_visit),
    ("/api/v1/handbooks", _seed_handbook),
]

SCOPED: dict[tuple[str, str], Setup] = {
    ("POST", "/api/v1/mobile/events"): lambda w: Call("/api/v1/mobile/events", _event_body()),
    ("POST", "/api/v1/mobile/alarms"): lambda w: Call(
        "/api/v1/mobile/alarms", {"location": at(*IN_G1)}
    ),
    ("POST", "/api/v1/mobile/visits"): lambda w: Call("/api/v1/mobile/visits", visit_body(w)),
    ("GET", "/api/v1/mobile/visits/{visit_id}"): _on_visit("/api/v1/mobile/visits/{id}"),
    ("PATCH", "/api/v1/mobile/visits/{visit_id}"): _on_visit(
        "/api/v1/mobile/visits/{id}", {"content": "补记：已联系其子女"}
    ),
    ("GET", "/api/v1/mobile/tracks/{user_id}"): _track_call,
    ("POST", "/api/v1/handbooks"): lambda w: Call(
        "/api/v1/handbooks",
        {"unit_id": str(w.s1.id), "category": "general", "title": "网格员工作手册", "body": "一、"},
    ),
    ("GET", "/api/v1/handbooks/{handbook_id}"): _on_handbook("/api/v1/handbooks/{id}"),
    ("PATCH", "/api/v1/handbooks/{handbook_id}"): _on_handbook(
        "/api/v1/handbooks/{id}", {"title": "网格员工作手册（修订）"}
    ),
}
