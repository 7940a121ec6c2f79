"""Route table of supervision and the assessment ledger (R-JUR-1): cards and ledger lines of
an event reported in G1 (street S1)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services import supervision
from services.clock import Clock
from services.models import LedgerLine, Supervision
from tests.factories import World, system_ctx
from tests.routes import Call, ListEntry, Setup
from tests.routes.events import make_event


async def overdue_event(session: AsyncSession, clock: Clock, world: World) -> dict[str, Any]:
    """An event of G1 left unaccepted for 48 hours and swept: a yellow and a red card, both
    charged to community C1."""
    event = await make_event(session, clock, world)
    ctx = await system_ctx(session, clock)
    await supervision.sweep(ctx, clock.now() + timedelta(hours=48))
    return event


async def _seed_ledger(session: AsyncSession, world: World, clock: Clock) -> list[Any]:
    event = await overdue_event(session, clock, world)
    return list(
        await session.scalars(select(LedgerLine.id).where(LedgerLine.event_id == event["id"]))
    )


def _on_event(path: str, json: dict[str, Any] | None = None, *, manual: bool = False) -> Setup:
    async def setup(session: AsyncSession, world: World, clock: Clock) -> Call:
        event = await make_event(session, clock, world)
        if manual:
            await system_ctx(session, clock)
            session.add(
                Supervision(
                    event_id=event["id"],
                    step_id=event["current_step"]["id"],
                    path=world.g1.path,
                    level="normal",
                    source="manual",
                    opinion="请尽快办理",
                    issued_at=clock.now(),
                )
            )
            await session.flush()
        return Call(path.format(id=event["id"]), json)

    return setup


UNSCOPED = {
    ("GET", "/api/v1/assessment/ledger"),
    ("GET", "/api/v1/assessment/ledger/export"),
}

LISTS: list[ListEntry] = [("/api/v1/assessment/ledger", _seed_ledger)]

SCOPED: dict[tuple[str, str], Setup] = {
    ("GET", "/api/v1/events/{event_id}/supervisions"): _on_event(
        "/api/v1/events/{id}/supervisions"
    ),
    ("POST", "/api/v1/events/{event_id}/actions/supervise"): _on_event(
        "/api/v1/events/{id}/actions/supervise", {"level": "yellow", "opinion": "限期办结"}
    ),
    ("POST", "/api/v1/events/{event_id}/actions/cancel-supervision"): _on_event(
        "/api/v1/events/{id}/actions/cancel-supervision", {}, manual=True
    ),
}
