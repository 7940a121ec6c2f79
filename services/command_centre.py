"""The command centre's dashboard (R-CMD-1): counts per state and per child unit, the events
under a red card, grid workers on duty with their last positions and the caller's notices.

Hundreds of screens poll this every few seconds, so it is a handful of set-based queries
(events are grouped once by child unit and state, with their card flags as FILTER counts),
and the document carries no clock reading. An unchanged poll must not build it at all: its
ETag digests the board's fingerprint — the committed changes under the caller's scope
(counted by the database, migration 0043), the workers inside the on-duty window and the
caller's unread notices — one indexed round trip, and 304 when it still matches."""

import hashlib
from datetime import timedelta
from functools import cache
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Uuid,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    select,
)

from domain.supervision import Level
from domain.workflow import OPEN_STATES
from services.context import Ctx
from services.events import visible
from services.jurisdiction import in_scope, in_scope_param, scope_params
from services.models import (
    BoardVersion,
    Event,
    EventStep,
    Notification,
    OrgUnit,
    Supervision,
    WorkerPosition,
)
from services.models.base import Ltree
from services.prepared import Prepared

# A worker whose last report is this recent counts as on duty.
ON_DUTY_WINDOW = timedelta(minutes=30)
# How many of the red events and notices the board lists.
RED_LIST_SIZE = 20
NOTICE_LIST_SIZE = 5
_OPEN = frozenset(state.value for state in OPEN_STATES)
# Part of every fingerprint: a release that changes the document's shape changes every tag.
BOARD_FORMAT = 1


def _card(*levels: Level) -> ColumnElement[bool]:
    """An open card of one of these levels on the event's current step."""
    return exists().where(
        Supervision.step_id == Event.current_step_id,
        Supervision.cleared_at.is_(None),
        Supervision.level.in_([level.value for level in levels]),
    )


def _child_units(ctx: Ctx) -> Any:
    """The units one level below the caller's home (the top units for the whole tree)."""
    depth = (
        literal(1)
        if ctx.principal.sees_everything
        else func.nlevel(cast(literal(ctx.principal.scope), Ltree())) + 1
    )
    return (
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.path)
        .where(
            in_scope(OrgUnit.path, ctx.principal),
            func.nlevel(OrgUnit.path) == depth,
            OrgUnit.deleted_at.is_(None),
        )
        .subquery("child")
    )


async def _event_counts(ctx: Ctx) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """Events per state, and open / overdue (any open card) / red per child unit, from one
    grouped query."""
    child = _child_units(ctx)
    is_open = Event.state.in_(_OPEN)
    rows = (
        await ctx.session.execute(
            select(
                child.c.id,
                Event.state,
                func.count().label("total"),
                func.count().filter(and_(is_open, _card(Level.YELLOW, Level.RED))).label("overdue"),
                func.count().filter(and_(is_open, _card(Level.RED))).label("red"),
            )
            .select_from(Event)
            .outerjoin(child, Event.path.op("<@", return_type=None)(child.c.path))
            .where(visible(ctx.principal))
            .group_by(child.c.id, Event.state)
        )
    ).all()
    units = {
        row.id: {"unit_id": row.id, "code": row.code, "name": row.name}
        for row in await ctx.session.execute(select(child).order_by(child.c.code))
    }
    per_state: dict[str, int] = {}
    per_unit = {
        unit_id: {**unit, "total": 0, "open": 0, "overdue": 0, "red": 0}
        for unit_id, unit in units.items()
    }
    for row in rows:
        per_state[row.state] = per_state.get(row.state, 0) + row.total
        entry = per_unit.get(row.id)
        if entry is None:
            # Reported at the caller's own unit (a grid worker's board): no child to show.
            continue
        entry["total"] += row.total
        entry["open"] += row.total if row.state in _OPEN else 0
        entry["overdue"] += row.overdue
        entry["red"] += row.red
    return dict(sorted(per_state.items())), list(per_unit.values())


async def _red_events(ctx: Ctx) -> list[dict[str, Any]]:
    """Open events under a red card, the longest-standing first."""
    red_since = (
        select(func.min(Supervision.issued_at))
        .where(
            Supervision.step_id == Event.current_step_id,
            Supervision.cleared_at.is_(None),
            Supervision.level == Level.RED.value,
        )
        .scalar_subquery()
    )
    holder = select(OrgUnit.name).where(OrgUnit.id == EventStep.unit_id).scalar_subquery()
    rows = await ctx.session.execute(
        select(
            Event.id,
            Event.service_no,
            Event.title,
            Event.category,
            Event.state,
            EventStep.unit_id.label("holder_unit_id"),
            EventStep.department_id.label("holder_department_id"),
            holder.label("holder_name"),
            red_since.label("red_since"),
        )
        .join(EventStep, EventStep.id == Event.current_step_id)
        .where(
            visible(ctx.principal),
            Event.state.in_(_OPEN),
            _card(Level.RED),
        )
        .order_by(red_since, Event.service_no)
        .limit(RED_LIST_SIZE)
    )
    return [dict(row._mapping) for row in rows]


async def _workers(ctx: Ctx) -> list[dict[str, Any]]:
    """Workers in jurisdiction whose last position is recent enough to be on duty."""
    rows = await ctx.session.execute(
        select(
            WorkerPosition.id.label("user_id"),
            WorkerPosition.full_name,
            func.ST_AsGeoJSON(WorkerPosition.location, 7).label("location"),
            WorkerPosition.reported_at,
        )
        .where(
            in_scope(WorkerPosition.path, ctx.principal),
            WorkerPosition.reported_at >= ctx.now() - ON_DUTY_WINDOW,
        )
        .order_by(WorkerPosition.full_name, WorkerPosition.id)
    )
    return [{**row._mapping, "location": orjson.loads(row.location)} for row in rows]


async def _notices(ctx: Ctx) -> dict[str, Any]:
    """The caller's unread notices: how many, and the newest few."""
    user_id = ctx.principal.user_id
    if user_id is None:
        return {"unread": 0, "latest": []}
    mine = and_(Notification.user_id == user_id, Notification.read_at.is_(None))
    unread = await ctx.session.scalar(select(func.count()).where(mine)) or 0
    rows = await ctx.session.execute(
        select(
            Notification.id,
            Notification.kind,
            Notification.title,
            Notification.target_type,
            Notification.target_id,
            Notification.created_at,
        )
        .where(mine)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(NOTICE_LIST_SIZE)
    )
    return {"unread": unread, "latest": [dict(row._mapping) for row in rows]}


async def summary(ctx: Ctx) -> dict[str, Any]:
    """The dashboard document for the caller's jurisdiction."""
    per_state, per_unit = await _event_counts(ctx)
    workers = await _workers(ctx)
    return {
        "states": per_state,
        "open": sum(count for state, count in per_state.items() if state in _OPEN),
        "units": per_unit,
        "red_events": await _red_events(ctx),
        "workers_on_duty": len(workers),
        "workers": workers,
        "notices": await _notices(ctx),
    }


@cache
def _fingerprint(everything: bool) -> Prepared:
    """The counters and the two windows a board is made of, compiled once: every poll runs
    it, and building and keying the statement cost more than running it."""
    on_duty = and_(
        in_scope_param(WorkerPosition.path, everything=everything),
        WorkerPosition.reported_at >= bindparam("since", type_=DateTime(timezone=True)),
    )
    unread = and_(
        Notification.user_id == bindparam("user_id", type_=Uuid()),
        Notification.read_at.is_(None),
    )
    return Prepared(
        select(
            select(func.coalesce(func.sum(BoardVersion.version), 0))
            .where(in_scope_param(BoardVersion.path, everything=everything))
            .scalar_subquery()
            .label("changes"),
            # A worker leaving the window changes the earliest report, one entering the count.
            select(func.count()).where(on_duty).scalar_subquery().label("on_duty"),
            select(func.min(WorkerPosition.reported_at))
            .where(on_duty)
            .scalar_subquery()
            .label("earliest"),
            select(func.count()).where(unread).scalar_subquery().label("unread"),
            select(func.max(Notification.created_at))
            .where(unread)
            .scalar_subquery()
            .label("latest_unread"),
        )
    )


async def fingerprint(ctx: Ctx) -> str:
    """What the caller's board is made of. Taken before the document is built, so the
    document is never older than the fingerprint it is tagged with: at worst a change that
    lands in between is sent twice, never missed."""
    principal = ctx.principal
    # Scalar subqueries only: always one row.
    (row,) = await _fingerprint(principal.sees_everything).rows(
        ctx.session,
        {
            "since": ctx.now() - ON_DUTY_WINDOW,
            "user_id": principal.user_id,
            **scope_params(principal),
        },
    )
    identity = (BOARD_FORMAT, principal.scope, principal.user_id, principal.department_id)
    return repr((*identity, *row.values()))


def digest(body: bytes) -> str:
    """A strong ETag: equal input, equal tag."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """`If-None-Match` names this tag (or `*`); weak tags compare by their opaque part."""
    if if_none_match is None:
        return False
    given = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in given or tag in given
