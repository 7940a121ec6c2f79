"""Events (R-EVT-1, R-EVT-2): reporting, reading with steps and lights (R-SUP-7), the work
boxes (R-WF-6) and the pieces the workflow actions share: opening a step, storing its
supervision deadlines and writing the action history (R-WF-5)."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from geoalchemy2.shape import from_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    Uuid,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased, defer

from domain.errors import DomainError, FieldError, Invalid, NotFound
from domain.events import CATEGORY_NAMES, SUBTYPES, Category, check_subtype, service_number
from domain.masking import Mask
from domain.notices import Notice, arrival_notice
from domain.permissions import Perm
from domain.principal import Principal, within
from domain.supervision import ReminderKind, Rule, StepTimes, deadlines, light, reminders
from domain.workcalendar import WorkCalendar
from domain.workflow import DEFAULT_PROCESS, OPEN_STATES, State, arrival_state
from services import appeals, audit, event_notices, routing, settings_store
from services.calendar import work_calendar
from services.context import Ctx
from services.event_filing import FILING, filing_params
from services.jurisdiction import in_scope, in_scope_param, scope_params
from services.masking import MaskSpec, present, present_one
from services.models import (
    Department,
    Event,
    EventAction,
    EventStep,
    OrgUnit,
    Place,
    Supervision,
)
from services.models.base import new_id
from services.pagination import AnySelect, Page, paginate
from services.registry import LIVE_UNIT, grid_in_scope, unit_not_found
from services.settings_store import EVENT_PROCESSES

# Responsible persons and their phones are personal data (R-JUR-3); the parties too.
EVENT_MASK: MaskSpec = {"parties": Mask.NAME}
STEP_MASK: MaskSpec = {"responsible_person": Mask.NAME, "responsible_phone": Mask.PHONE}

Current = aliased(EventStep, name="current_step")

EVENT_COLUMNS = (
    Event.id,
    Event.service_no,
    Event.title,
    Event.category,
    Event.subtype,
    Event.grid_id,
    Event.occurred_at,
    Event.place_id,
    func.ST_AsGeoJSON(Event.location, 7).label("location"),
    Event.address,
    Event.description,
    Event.parties,
    Event.involved_count,
    Event.is_major,
    Event.is_urgent,
    Event.source,
    Event.state,
    Event.process,
    Event.current_step_id,
    Event.expedited,
    Event.legacy,
    Event.typical,
    Event.duplicate_of,
    Event.reporter_id,
    Event.closed_at,
    Event.version,
    Event.created_at,
    Event.updated_at,
    Current.unit_id.label("current_unit_id"),
    Current.department_id.label("current_department_id"),
    Current.assigned_at.label("current_assigned_at"),
    Current.accepted_at.label("current_accepted_at"),
    Current.first_feedback_at.label("current_first_feedback_at"),
    Current.finished_at.label("current_finished_at"),
)
STEP_COLUMNS = (
    EventStep.id,
    EventStep.seq,
    EventStep.unit_id,
    EventStep.department_id,
    EventStep.assigned_at,
    EventStep.accepted_at,
    EventStep.first_feedback_at,
    EventStep.last_feedback_at,
    EventStep.finished_at,
    EventStep.responsible_person,
    EventStep.responsible_phone,
    EventStep.outcome,
    EventStep.result,
    EventStep.accept_yellow_at,
    EventStep.accept_red_at,
    EventStep.handle_yellow_at,
    EventStep.handle_red_at,
    EventStep.accept_remind_at,
    EventStep.handle_remind_at,
    EventStep.routing_rule_id,
)

# When the responsible unit is reminded (R-SUP-6); the reminder sweep reads them.
REMINDER_COLUMNS: dict[ReminderKind, str] = {
    ReminderKind.ACCEPT_SOON: "accept_remind_at",
    ReminderKind.HANDLE_SOON: "handle_remind_at",
}
# Which stored column holds each automatic card's deadline (R-SUP-2); the sweep reads them.
DEADLINE_COLUMNS: dict[Rule, str] = {
    Rule.ACCEPT_24H: "accept_yellow_at",
    Rule.ACCEPT_48H: "accept_red_at",
    Rule.ACCEPT_12H_PRIORITY: "accept_red_at",
    Rule.HANDLE_5WD: "handle_yellow_at",
    Rule.HANDLE_10WD: "handle_red_at",
}


class Box(StrEnum):
    TODO = "todo"
    DONE = "done"
    SUB_TODO = "sub_todo"
    CLOSED = "closed"
    LEGACY = "legacy"
    TYPICAL = "typical"
    # The manual dispatch queue (R-WF-3): unrouted events waiting at my unit or below.
    DISPATCH = "dispatch"


@dataclass(frozen=True)
class EventFilter:
    box: Box | None = None
    category: Category | None = None
    state: State | None = None
    q: str | None = None
    # Reported at or after / before (R-WF-6 "filters by time").
    since: datetime | None = None
    until: datetime | None = None
    is_major: bool | None = None
    is_urgent: bool | None = None
    expedited: bool | None = None
    # With an open supervision card on the current step (the list's coloured flag).
    supervised: bool | None = None


@dataclass(frozen=True)
class Handler:
    """Who a step is assigned to: a unit or a department, and the unit path it sits at;
    `rule_id` names the routing rule that chose it, when one did (R-WF-3)."""

    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    path: str
    rule_id: uuid.UUID | None = None


def subtype_dictionary() -> list[dict[str, Any]]:
    """The shipped sub-type dictionary (R-EVT-1), category by category."""
    return [
        {"category": category.value, "category_name": CATEGORY_NAMES[category], **item}
        for category, subtypes in SUBTYPES.items()
        for item in ({"code": code, "name": name} for code, name in subtypes.items())
    ]


def visible(principal: Principal) -> ColumnElement[bool]:
    """Events in the caller's jurisdiction; a department user sees only the events that were
    dispatched to the department (R-JUR-2)."""
    scoped = in_scope(Event.path, principal)
    if principal.department_id is None:
        return scoped
    return and_(scoped, _dispatched_to(literal(principal.department_id)))


def _dispatched_to(department_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    # An alias of its own: a query already joining the event's current step would otherwise
    # correlate this subquery away to nothing (the command centre's red list did).
    step = aliased(EventStep)
    return exists().where(step.event_id == Event.id, step.department_id == department_id)


def store_deadlines(step: EventStep, *, priority: bool, calendar: WorkCalendar) -> None:
    """Recompute the step's card deadlines for its current phase (R-SUP-2) and when its
    unit is reminded before the first of them (R-SUP-6)."""
    times = _times(step, priority)
    for column in (*set(DEADLINE_COLUMNS.values()), *REMINDER_COLUMNS.values()):
        setattr(step, column, None)
    for deadline in deadlines(times, calendar):
        setattr(step, DEADLINE_COLUMNS[deadline.rule], deadline.due_at)
    for reminder in reminders(times, calendar):
        setattr(step, REMINDER_COLUMNS[reminder.kind], reminder.at)


def _times(step: EventStep, priority: bool) -> StepTimes:
    return StepTimes(
        assigned_at=step.assigned_at,
        accepted_at=step.accepted_at,
        first_feedback_at=step.first_feedback_at,
        finished_at=step.finished_at,
        priority=priority,
    )


def open_step(
    ctx: Ctx, event: Event, handler: Handler, *, seq: int, calendar: WorkCalendar
) -> EventStep:
    """A new step assigned now; the caller flushes and makes it the event's current step."""
    step = new_step(ctx, event, handler, seq=seq, calendar=calendar)
    ctx.session.add(step)
    return step


def new_step(
    ctx: Ctx, event: Event, handler: Handler, *, seq: int, calendar: WorkCalendar
) -> EventStep:
    """A step assigned now, not yet in the session; its id is known at once."""
    step = EventStep(
        id=new_id(),
        event_id=event.id,
        seq=seq,
        unit_id=handler.unit_id,
        department_id=handler.department_id,
        path=event.path,
        handler_path=handler.path,
        assigned_at=ctx.now(),
        routing_rule_id=handler.rule_id,
    )
    store_deadlines(step, priority=event.is_major or event.is_urgent, calendar=calendar)
    return step


def history(
    ctx: Ctx,
    event: Event,
    *,
    step_id: uuid.UUID | None,
    action: str,
    from_state: str | None,
    to_state: str,
    payload: dict[str, Any],
) -> EventAction:
    """The history row of an action the caller takes now (R-WF-5)."""
    return EventAction(
        id=new_id(),
        event_id=event.id,
        step_id=step_id,
        path=event.path,
        action=action,
        actor_id=ctx.principal.user_id,
        actor_unit_id=ctx.principal.unit_id,
        actor_department_id=ctx.principal.department_id,
        from_state=from_state,
        to_state=to_state,
        payload=payload,
        at=ctx.now(),
    )


async def record_action(ctx: Ctx, event: Event, row: EventAction) -> None:
    """One history row (R-WF-5) and one audit entry (R-AUD-1) per action. The row's serial
    is drawn again at commit, in commit order, which the change feed relies on (migration
    0040)."""
    ctx.session.add(row)
    await ctx.session.flush()
    await _audit_action(ctx, event, row)


async def _audit_action(ctx: Ctx, event: Event, row: EventAction) -> None:
    await audit.record(ctx, **_audited(event, row))


def _audited(event: Event, row: EventAction) -> dict[str, Any]:
    """What the audit entry of a history row says."""
    return {
        "action": f"event.{row.action}",
        "target_type": "event",
        "target_id": event.id,
        "unit_path": event.path,
        "before": {"state": row.from_state} if row.from_state else None,
        "after": {"state": row.to_state, **row.payload},
    }


# Built once, as every statement a report runs is. The grid reported in, its community
# (where routing starts) and the event's serial, in one round trip: no serial is drawn
# unless the grid is found.
_COMMUNITY = aliased(OrgUnit)
_GRID_COMMUNITY_SERIAL = (
    LIVE_UNIT.add_columns(_COMMUNITY, func.nextval("event_service_no_seq"))
    .join(_COMMUNITY, _COMMUNITY.id == OrgUnit.parent_id)
    .options(defer(_COMMUNITY.geom, raiseload=True))
)


async def report_event(
    ctx: Ctx, fields: dict[str, Any], *, resolve_on_spot: bool, result: str | None
) -> dict[str, Any]:
    """Report an event in a grid. Resolved on the spot (R-EVT-2), the grid's own step is
    recorded as accepted and finished and the event is closed at once. Otherwise the first
    step goes to the explicit target when one is named, else to where the routing rules of
    the grid's community send it (R-WF-3), else to the community itself (API.md), waiting in
    its manual dispatch queue; whoever receives it is notified (R-WF-5)."""
    values = dict(fields)
    target = {key: values.pop(key, None) for key in ("target_unit_id", "target_department_id")}
    attachment_ids = values.pop("attachment_ids", [])
    category = Category(values["category"])
    check_subtype(category, values["subtype"])
    found = (
        await ctx.session.execute(_GRID_COMMUNITY_SERIAL, {"unit_id": values["grid_id"]})
    ).one_or_none()
    if found is None:
        raise unit_not_found("grid_id")
    reported_in, community, serial = found
    grid = grid_in_scope(reported_in, ctx)
    if values.get("place_id") is not None:
        await _place_in_grid(ctx, values["place_id"], grid)
    location = values.pop("location", None)
    now = ctx.now()
    event = Event(
        # Known at once: the first step and the history row refer to it in the filing.
        id=new_id(),
        **{**values, "category": category.value},
        location=from_shape(location, srid=4326) if isinstance(location, BaseGeometry) else None,
        service_no=service_number(ctx.today(), serial),
        path=grid.path,
        state=State.CLOSED,
        process=await process_code(ctx, category),
        reporter_id=ctx.principal.user_id,
        closed_at=now if resolve_on_spot else None,
        created_at=now,
        updated_at=now,
    )
    calendar = await work_calendar(ctx)
    if resolve_on_spot:
        handler = Handler(grid.id, None, grid.path)
    elif target["target_unit_id"] or target["target_department_id"]:
        handler = await named_target(
            ctx,
            event,
            {"unit_id": target["target_unit_id"], "department_id": target["target_department_id"]},
        )
        event.state = State.PENDING_ACCEPT
    else:
        handler, event.state = await arrive(ctx, event, community)
    step = new_step(ctx, event, handler, seq=1, calendar=calendar)
    if resolve_on_spot:
        step.accepted_at = step.finished_at = now
        step.outcome, step.result = "resolved", result
        store_deadlines(step, priority=False, calendar=calendar)
    event.current_step_id = step.id
    payload: dict[str, Any] = {"result": result} if resolve_on_spot else {}
    if handler.rule_id is not None:
        payload["routing_rule_id"] = str(handler.rule_id)
    row = history(
        ctx,
        event,
        step_id=step.id,
        action="resolve" if resolve_on_spot else "report",
        from_state=None,
        to_state=event.state,
        payload=payload,
    )
    entry = audit.entry_values(ctx, **_audited(event, row))
    await ctx.session.execute(FILING, filing_params(event, step, row, entry))
    # Imported here: these build on this module.
    from services import attachments, duplicates

    attached = await attachments.attach_uploads(
        ctx, attachments.Target(event.id, event.path, step.id, "report"), attachment_ids
    )
    if not resolve_on_spot:
        await notify_holder(ctx, event, handler, arrival_notice(State(event.state)))
    # Nothing can hang off an event that exists only in this transaction but its one step
    # and its uploads: the answer is read without asking for the rest.
    data = await _shown(
        ctx,
        await _read(ctx, event.id, calendar),
        [{column.key: getattr(step, column.key) for column in STEP_COLUMNS}],
        supervisions=[],
        appeals=[],
        citizen=None,
        attachments=await attachments.of_event(ctx, event.id) if attached else [],
    )
    # R-EVT-3: what the new event may repeat, for the reporter to look at (an event without
    # a location repeats nothing, and is not read back to learn so).
    located = event.location is not None
    data["likely_duplicates"] = await duplicates.suggestions(ctx, event.id) if located else []
    return data


async def process_code(ctx: Ctx, category: Category) -> str:
    """The process a new event of the category follows (R-WF-4: bindings are a setting)."""
    bindings: dict[str, str] = await settings_store.get_value(ctx, EVENT_PROCESSES)
    return bindings.get(category.value, DEFAULT_PROCESS.code)


async def arrive(ctx: Ctx, event: Event, unit: OrgUnit) -> tuple[Handler, State]:
    """Where an event arriving at `unit` goes (R-WF-3): to the target of the unit's
    routing rule, waiting for acceptance, or into the unit's manual dispatch queue."""
    route = await routing.route(ctx, event, unit)
    if route is None:
        return Handler(unit.id, None, unit.path), arrival_state(matched=False)
    handler = Handler(route.unit_id, route.department_id, route.path, route.rule_id)
    return handler, arrival_state(matched=True)


async def notify_holder(ctx: Ctx, event: Event, handler: Handler, notice: Notice) -> None:
    """Tell the users acting for the step's unit or department (R-WF-5)."""
    await event_notices.deliver(
        ctx,
        [
            event_notices.delivery(
                notice,
                unit_id=handler.unit_id,
                department_id=handler.department_id,
                event_id=event.id,
                path=event.path,
                service_no=event.service_no,
                title=event.title,
            )
        ],
        permission=Perm.EVENT_HANDLE,
    )


def bad_target(payload: dict[str, Any]) -> DomainError:
    field = "unit_id" if payload.get("unit_id") else "department_id"
    return Invalid("event_target_invalid", errors=[FieldError(field, "event_target_invalid")])


async def named_target(ctx: Ctx, event: Event, payload: dict[str, Any]) -> Handler:
    """The unit or department named in the body. It must cover the event's grid, so that
    its users see the event (jurisdiction and row-level security follow the event's path)."""
    if payload.get("unit_id"):
        unit = await ctx.session.scalar(
            select(OrgUnit).where(OrgUnit.id == payload["unit_id"], OrgUnit.deleted_at.is_(None))
        )
        handler = Handler(unit.id, None, unit.path) if unit else None
    else:
        department = await ctx.session.scalar(
            select(Department).where(
                Department.id == payload["department_id"], Department.deleted_at.is_(None)
            )
        )
        handler = Handler(None, department.id, department.path) if department else None
    if handler is None or not within(event.path, handler.path):
        raise bad_target(payload)
    return handler


async def _place_in_grid(ctx: Ctx, place_id: uuid.UUID, grid: OrgUnit) -> None:
    found = await ctx.session.scalar(
        select(Place.id).where(
            Place.id == place_id, Place.grid_id == grid.id, in_scope(Place.path, ctx.principal)
        )
    )
    if found is None:
        raise Invalid("event_place_invalid", errors=[FieldError("place_id", "event_place_invalid")])


_STEP_TIMES = ("assigned_at", "accepted_at", "first_feedback_at", "finished_at")


def _event_row(row: Any, calendar: WorkCalendar, now: datetime) -> dict[str, Any]:
    """A selected event as a dict with its GeoJSON location, current step and light."""
    data = dict(row._mapping)
    data["location"] = orjson.loads(data["location"]) if data["location"] else None
    times = {key: data.pop(f"current_{key}") for key in _STEP_TIMES}
    holder = {key: data.pop(f"current_{key}") for key in ("unit_id", "department_id")}
    step_id = data["current_step_id"]
    data["current_step"] = {"id": step_id, **holder} if step_id else None
    if data["state"] == State.CLOSED or times["assigned_at"] is None:
        data["light"] = None
    else:
        step = StepTimes(**times, priority=data["is_major"] or data["is_urgent"])
        data["light"] = light(step, now, calendar, expedited=data["expedited"]).value
    return data


async def row_converter(ctx: Ctx) -> Callable[[Any], dict[str, Any]]:
    """How a selected event row becomes the dict lists, reads and exports show (R-SUP-7:
    the light is computed now, with the stored working-day calendar)."""
    calendar, now = await work_calendar(ctx), ctx.now()
    return lambda row: _event_row(row, calendar, now)


_EVENTS = select(*EVENT_COLUMNS).outerjoin(Current, Current.id == Event.current_step_id)


def _base_query(ctx: Ctx) -> AnySelect:
    return _EVENTS.where(visible(ctx.principal))


def _one_event(*, everything: bool, department: bool) -> AnySelect:
    """`_base_query` of one event for a kind of caller, built once: the event, the scope and
    the department are bound (`visible`, with parameters)."""
    shown = in_scope_param(Event.path, everything=everything)
    if department:
        shown = and_(shown, _dispatched_to(bindparam("department_id", type_=Uuid())))
    return _EVENTS.where(shown, Event.id == bindparam("event_id", type_=Uuid()))


_ONE_EVENT = {
    (everything, department): _one_event(everything=everything, department=department)
    for everything in (False, True)
    for department in (False, True)
}


async def _read(ctx: Ctx, event_id: uuid.UUID, calendar: WorkCalendar) -> dict[str, Any]:
    """The event's row with its light; 404 outside the caller's jurisdiction."""
    principal = ctx.principal
    statement = _ONE_EVENT[principal.sees_everything, principal.department_id is not None]
    params = {
        **scope_params(principal),
        "department_id": principal.department_id,
        "event_id": event_id,
    }
    row = (await ctx.session.execute(statement, params)).one_or_none()
    if row is None:
        raise NotFound("event_not_found")
    return _event_row(row, calendar, ctx.now())


async def _shown(
    ctx: Ctx, data: dict[str, Any], steps: list[dict[str, Any]], **related: Any
) -> dict[str, Any]:
    """The event as the caller may see it (R-JUR-3), with its steps and related records."""
    shown = await present_one(ctx, data, EVENT_MASK, target_type="event", unit_path=None)
    shown["steps"] = await present(ctx, steps, STEP_MASK, target_type="event_step")
    return {**shown, **related}


async def get_event(ctx: Ctx, event_id: uuid.UUID) -> dict[str, Any]:
    """The event with its steps (oldest first), supervisions and current light; 404 outside
    the caller's jurisdiction."""
    data = await _read(ctx, event_id, await work_calendar(ctx))
    steps = [
        dict(r._mapping)
        for r in await ctx.session.execute(
            select(*STEP_COLUMNS).where(EventStep.event_id == event_id).order_by(EventStep.seq)
        )
    ]
    # Imported here: these build on this module.
    from services import attachments, citizens
    from services.supervision import cards_of

    return await _shown(
        ctx,
        data,
        steps,
        supervisions=await cards_of(ctx.session, event_id),
        appeals=await appeals.appeals_of(ctx, event_id),
        citizen=await citizens.of_event(ctx, event_id),
        attachments=await attachments.of_event(ctx, event_id),
    )


def _box(principal: Principal, box: Box) -> ColumnElement[bool]:
    is_open = Event.state.in_([s.value for s in OPEN_STATES])
    mine = []
    if principal.unit_id is not None:
        mine.append(Current.unit_id == principal.unit_id)
    if principal.department_id is not None:
        mine.append(Current.department_id == principal.department_id)
    if box == Box.TODO:
        return and_(is_open, ~Event.legacy, or_(*mine) if mine else false())
    if box == Box.DONE:
        acted = []
        if principal.unit_id is not None:
            acted.append(EventAction.actor_unit_id == principal.unit_id)
        if principal.department_id is not None:
            acted.append(EventAction.actor_department_id == principal.department_id)
        if not acted:
            return false()
        return exists().where(EventAction.event_id == Event.id, or_(*acted))
    if box == Box.SUB_TODO:
        below = (
            true()
            if principal.sees_everything
            else and_(
                in_scope(Current.handler_path, principal),
                Current.handler_path != func.text2ltree(principal.scope),
            )
        )
        sub = and_(is_open, ~Event.legacy, below)
        return and_(sub, ~or_(*mine)) if mine else sub
    if box == Box.CLOSED:
        return Event.state == State.CLOSED.value
    if box == Box.DISPATCH:
        return and_(Event.state == State.DISPATCH.value, in_scope(Current.handler_path, principal))
    return (Event.legacy if box == Box.LEGACY else Event.typical).is_(True)


def events_query(ctx: Ctx, flt: EventFilter) -> AnySelect:
    """Events in jurisdiction narrowed by box and filters (the list and its export)."""
    stmt = _base_query(ctx)
    if flt.box is not None:
        stmt = stmt.where(_box(ctx.principal, flt.box))
    if flt.category is not None:
        stmt = stmt.where(Event.category == flt.category.value)
    if flt.state is not None:
        stmt = stmt.where(Event.state == flt.state.value)
    if flt.q:
        pattern = f"%{flt.q}%"
        stmt = stmt.where(or_(Event.title.ilike(pattern), Event.service_no == flt.q.upper()))
    if flt.since is not None:
        stmt = stmt.where(Event.created_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(Event.created_at < flt.until)
    for column, wanted in (
        (Event.is_major, flt.is_major),
        (Event.is_urgent, flt.is_urgent),
        (Event.expedited, flt.expedited),
    ):
        if wanted is not None:
            stmt = stmt.where(column.is_(wanted))
    if flt.supervised is not None:
        card = exists().where(
            Supervision.step_id == Event.current_step_id, Supervision.cleared_at.is_(None)
        )
        stmt = stmt.where(card if flt.supervised else ~card)
    return stmt


async def list_events(
    ctx: Ctx, flt: EventFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    """A keyset page by service number, each item with its light (R-SUP-7)."""
    page = await paginate(
        ctx.session,
        events_query(ctx, flt),
        key=(Event.service_no, Event.id),
        limit=limit,
        cursor=cursor,
        convert=await row_converter(ctx),
    )
    return replace(page, items=await present(ctx, page.items, EVENT_MASK, target_type="event"))


async def box_counts(ctx: Ctx) -> dict[str, int]:
    """How many events each box holds, for the badges (R-WF-6)."""
    counts = {}
    for box in Box:
        stmt = events_query(ctx, EventFilter(box=box)).order_by(None).subquery()
        counts[box.value] = int(
            await ctx.session.scalar(select(func.count()).select_from(stmt)) or 0
        )
    return counts
