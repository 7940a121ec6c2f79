"""Workflow actions on an event (R-WF-1, R-WF-2, R-WF-5, R-WF-7): who the caller is to the
event, the transition `domain.workflow.decide` allows, and its application as one conditional
update so that two concurrent actions never both apply."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import select, update

from domain.errors import Conflict, FieldError, Invalid, NotFound, PermissionDenied
from domain.events import actors_of, check_action_payload, permission_for
from domain.notices import Audience, notice_for
from domain.org import Level
from domain.permissions import Perm
from domain.principal import within
from domain.versioning import check_version
from domain.workflow import (
    PROCESSES,
    Action,
    Actor,
    Satisfaction,
    State,
    Transition,
    decide,
    graph,
)
from services import appeals, attachments, duplicates, supervision
from services.calendar import work_calendar
from services.context import Ctx
from services.event_notices import deliver, delivery
from services.events import (
    Handler,
    arrive,
    bad_target,
    get_event,
    history,
    named_target,
    open_step,
    record_action,
    store_deadlines,
    visible,
)
from services.jurisdiction import path_in_scope
from services.models import Department, Event, EventAction, EventAppeal, EventStep, OrgUnit

# Manual supervision has routes and bodies of its own (services/supervision.py); it is
# offered with the others in the process view.
SUPPORTED = frozenset(Action) - {Action.SUPERVISE, Action.CANCEL_SUPERVISION}
OFFERED = frozenset(Action)
# Marks set by an action (R-WF-7): the event column and its new value.
MARKS: dict[Action, tuple[str, bool]] = {
    Action.EXPEDITE: ("expedited", True),
    Action.CANCEL_EXPEDITE: ("expedited", False),
    Action.MARK_LEGACY: ("legacy", True),
    Action.UNMARK_LEGACY: ("legacy", False),
    Action.MARK_TYPICAL: ("typical", True),
}
_TOP_LEVELS = {Level.CITY.value, Level.DISTRICT.value}


def parse_action(name: str) -> Action:
    """The action named in the path; unknown ones (and those with routes of their own) are
    404."""
    try:
        action = Action(name)
    except ValueError:
        action = None
    if action not in SUPPORTED:
        raise NotFound("event_action_unknown")
    assert action is not None
    return action


async def _load(ctx: Ctx, event_id: uuid.UUID) -> tuple[Event, EventStep]:
    event = (
        await ctx.session.execute(
            select(Event)
            .where(Event.id == event_id, visible(ctx.principal))
            # The identity map may hold the row from an earlier action in this session.
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if event is None or event.current_step_id is None:
        raise NotFound("event_not_found")
    step = await ctx.session.get_one(EventStep, event.current_step_id, populate_existing=True)
    return event, step


def _actors(ctx: Ctx, event: Event, step: EventStep) -> frozenset[Actor]:
    return actors_of(
        ctx.principal,
        event_path=event.path,
        handler_unit_id=step.unit_id,
        handler_department_id=step.department_id,
        handler_path=step.handler_path,
    )


@dataclass
class _Appeal:
    """What an appeal action works on: the contested verification and judged step, or the
    pending appeal being decided."""

    verification: EventAction | None = None
    judged: EventStep | None = None
    # The appeal filed, or the pending one being decided.
    filed: EventAppeal | None = None
    pending: EventAppeal | None = None


async def _standing(
    ctx: Ctx, action: Action, event: Event, step: EventStep, payload: dict[str, Any]
) -> tuple[frozenset[Actor], _Appeal]:
    """How the caller stands to the event for this action. Appeals are judged against the
    step a verification went against and the unit that verified, not the current step."""
    if action == Action.APPEAL:
        found = await appeals.contested(ctx, event, payload.get("verify_action_id"))
        if found is None:
            raise NotFound("verification_not_found")
        verification, judged = found
        mine = appeals.held_by(ctx.principal, judged)
        return frozenset({Actor.EVALUATED} if mine else ()), _Appeal(verification, judged)
    if action == Action.DECIDE_APPEAL:
        appeal = await appeals.pending(ctx, event, payload.get("appeal_id"))
        return appeals.deciders_of(ctx.principal, appeal), _Appeal(pending=appeal)
    return _actors(ctx, event, step), _Appeal()


async def take_action(
    ctx: Ctx,
    event_id: uuid.UUID,
    action: Action,
    payload: dict[str, Any],
    *,
    expected_version: int | None,
) -> dict[str, Any]:
    """Apply one action to the event's current step and answer the event as it now is.
    409 `transition_not_allowed` when the state does not allow it, 403 `action_not_yours`
    when the caller does not stand in a role that may take it, 409 `event_changed` when
    another action got there first. The next actor is notified (R-WF-5)."""
    if not ctx.principal.can(permission_for(action)):
        raise PermissionDenied(params={"permission": permission_for(action).value})
    check_action_payload(action, payload)
    event, step = await _load(ctx, event_id)
    check_version(expected_version, event.version)
    satisfaction = Satisfaction(payload["satisfaction"]) if action == Action.VERIFY else None
    actors, appeal = await _standing(ctx, action, event, step, payload)
    transition = decide(
        PROCESSES[event.process], State(event.state), action, actors, satisfaction=satisfaction
    )
    if action == Action.COPY:
        await copy_targets_exist(ctx, payload["unit_ids"])
    if action == Action.MARK_DUPLICATE:
        await duplicates.check_original(ctx, event, payload["duplicate_of"])
    target = await _next_handler(ctx, action, event, step, payload) if transition.new_step else None
    arrival = transition.target
    if target is not None and transition.routed:
        unit = await ctx.session.get_one(OrgUnit, target.unit_id)
        target, arrival = await arrive(ctx, event, unit)
    from_state = event.state
    await _apply(ctx, event, action, arrival)
    now = ctx.now()
    calendar = await work_calendar(ctx)
    _touch_step(step, action, transition, payload, now)
    if transition.finishes_step:
        await supervision.clear_step(ctx, step.id)
    priority = event.is_major or event.is_urgent
    store_deadlines(step, priority=priority, calendar=calendar)
    if target is not None:
        new = open_step(ctx, event, target, seq=step.seq + 1, calendar=calendar)
        await ctx.session.flush()
        await ctx.session.execute(
            update(Event).where(Event.id == event.id).values(current_step_id=new.id)
        )
    recorded = _jsonable(payload)
    if target is not None and target.rule_id is not None:
        recorded["routing_rule_id"] = str(target.rule_id)
    recorded.update(await _settle_appeal(ctx, event, action, appeal, payload))
    await record_action(
        ctx,
        event,
        history(
            ctx,
            event,
            step_id=step.id,
            action=action.value,
            from_state=from_state,
            to_state=arrival.value,
            payload=recorded,
        ),
    )
    await duplicates.on_transition(ctx, event, action, arrival, payload)
    if payload.get("attachment_ids"):
        await attachments.attach_uploads(
            ctx,
            attachments.Target(event.id, event.path, step.id, action.value),
            payload["attachment_ids"],
        )
    await _notify(ctx, event, action, arrival, target or _holder(step), payload, appeal)
    return await get_event(ctx, event_id)


def _holder(step: EventStep) -> Handler:
    return Handler(step.unit_id, step.department_id, step.handler_path)


async def _settle_appeal(
    ctx: Ctx, event: Event, action: Action, appeal: _Appeal, payload: dict[str, Any]
) -> dict[str, Any]:
    """File or decide the appeal; what the history row records of it."""
    if action == Action.APPEAL:
        assert appeal.verification is not None and appeal.judged is not None
        filed = await appeals.file_appeal(
            ctx, event, appeal.verification, appeal.judged, payload["reason"]
        )
        appeal.filed = filed
        return {"appeal_id": str(filed.id), "verify_action_id": str(appeal.verification.id)}
    if action == Action.DECIDE_APPEAL:
        assert appeal.pending is not None
        appeal_action_id = await appeals.decide(
            ctx, appeal.pending, upheld=payload["upheld"], note=payload.get("note")
        )
        return {"appeal_id": str(appeal.pending.id), "appeal_action_id": str(appeal_action_id)}
    return {}


async def _notify(
    ctx: Ctx,
    event: Event,
    action: Action,
    arrival: State,
    holder: Handler,
    payload: dict[str, Any],
    appeal: _Appeal,
) -> None:
    """R-WF-5: the next actor hears of the transition, in-app and by SMS."""
    notice = notice_for(action, arrival)
    if notice is None:
        return
    permission = Perm.EVENT_HANDLE
    if notice.audience == Audience.HOLDER:
        holders = [(holder.unit_id, holder.department_id)]
    elif notice.audience == Audience.ORIGINATOR:
        # The community verifies by phone, its grid's workers on site (R-WF-2).
        holders = [(community_of(event), None), (event.grid_id, None)]
    elif notice.audience == Audience.COPIED:
        holders = [(unit_id, None) for unit_id in payload["unit_ids"]]
    elif notice.audience == Audience.APPEAL_DECIDERS:
        assert appeal.filed is not None
        holders = [(appeals.decider_unit(appeal.filed), None)]
        permission = Perm.EVENT_SUPERVISE
    else:
        assert appeal.pending is not None
        pending = appeal.pending
        holders = [(pending.appellant_unit_id, pending.appellant_department_id)]
    deliveries = [
        delivery(
            notice,
            unit_id=unit_id,
            department_id=department_id,
            event_id=event.id,
            path=event.path,
            service_no=event.service_no,
            title=event.title,
        )
        for unit_id, department_id in holders
    ]
    await deliver(ctx, deliveries, permission=permission)


def community_of(event: Event) -> uuid.UUID:
    """The community containing the event's grid: the level that reported it (R-WF-2)."""
    return uuid.UUID(hex=event.path.split(".")[-2])


async def _apply(ctx: Ctx, event: Event, action: Action, target: State) -> None:
    """The guarded state change: only from the state and version that were read."""
    values: dict[str, Any] = {
        "state": target.value,
        "version": Event.version + 1,
        "updated_at": ctx.now(),
    }
    if action in MARKS:
        column, value = MARKS[action]
        values[column] = value
    if target == State.CLOSED and event.state != State.CLOSED:
        values["closed_at"] = ctx.now()
    applied = await ctx.session.execute(
        update(Event)
        .where(Event.id == event.id, Event.state == event.state, Event.version == event.version)
        .values(**values)
        .returning(Event.id)
        .execution_options(synchronize_session=False)
    )
    if applied.one_or_none() is None:
        raise Conflict("event_changed")


def _touch_step(
    step: EventStep,
    action: Action,
    transition: Transition,
    payload: dict[str, Any],
    now: datetime,
) -> None:
    """Record on the step what the action did to it (acceptance, feedback, result, end)."""
    if action == Action.ACCEPT:
        step.accepted_at = now
        step.responsible_person = payload["responsible_person"]
        step.responsible_phone = payload["responsible_phone"]
    elif action == Action.FEEDBACK:
        step.first_feedback_at = step.first_feedback_at or now
        step.last_feedback_at = now
    elif action == Action.COMPLETE:
        step.result = payload["result"]
    if transition.finishes_step:
        step.finished_at = now
        step.outcome = "completed" if action == Action.COMPLETE else action.value


async def _next_handler(
    ctx: Ctx, action: Action, event: Event, step: EventStep, payload: dict[str, Any]
) -> Handler:
    """Where the new step goes: up for escalate, down for assign, anywhere able for divert,
    back for return, and to the same handler again after a failed verification."""
    if action == Action.ESCALATE:
        return await _escalation_target(ctx, event, step)
    if action == Action.RETURN:
        previous = await ctx.session.scalar(
            select(EventStep).where(EventStep.event_id == event.id, EventStep.seq == step.seq - 1)
        )
        if previous is None:
            raise Conflict(
                "transition_not_allowed", params={"state": event.state, "action": action.value}
            )
        return Handler(previous.unit_id, previous.department_id, previous.handler_path)
    if action in (Action.ASSIGN, Action.DIVERT, Action.DISPATCH):
        target = await named_target(ctx, event, payload)
        current = (step.unit_id, step.department_id)
        below_handler = within(target.path, step.handler_path) and target.path != step.handler_path
        if (target.unit_id, target.department_id) == current or (
            action == Action.ASSIGN and target.unit_id is not None and not below_handler
        ):
            raise bad_target(payload)
        return target
    return Handler(step.unit_id, step.department_id, step.handler_path)


async def _escalation_target(ctx: Ctx, event: Event, step: EventStep) -> Handler:
    """The parent unit of the step's unit (a department's own unit); never above the
    district (R-WF-1)."""
    if step.department_id is not None:
        department = await ctx.session.get_one(Department, step.department_id)
        unit = await ctx.session.get_one(OrgUnit, department.unit_id)
        return Handler(unit.id, None, unit.path)
    unit = await ctx.session.get_one(OrgUnit, step.unit_id)
    if unit.level in _TOP_LEVELS or unit.parent_id is None:
        raise Conflict(
            "transition_not_allowed", params={"state": event.state, "action": Action.ESCALATE.value}
        )
    parent = await ctx.session.get_one(OrgUnit, unit.parent_id)
    return Handler(parent.id, None, parent.path)


async def copy_targets_exist(ctx: Ctx, unit_ids: list[uuid.UUID]) -> None:
    """Units a copy goes to must exist inside the caller's jurisdiction."""
    rows = await ctx.session.execute(
        select(OrgUnit.path).where(OrgUnit.id.in_(unit_ids), OrgUnit.deleted_at.is_(None))
    )
    paths = [r.path for r in rows]
    if len(paths) != len(set(unit_ids)) or not all(path_in_scope(p, ctx.principal) for p in paths):
        raise Invalid(
            "event_target_invalid", errors=[FieldError("unit_ids", "event_target_invalid")]
        )


def _jsonable(payload: dict[str, Any]) -> dict[str, Any]:
    """The action's given fields as JSON for the history row (ids become strings)."""
    given = {key: value for key, value in payload.items() if value is not None}
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(given, default=str))
    return loaded


async def process_of(ctx: Ctx, event_id: uuid.UUID) -> dict[str, Any]:
    """The event's process graph (R-WF-4), where it stands and what the caller may do now."""
    event, step = await _load(ctx, event_id)
    process = PROCESSES[event.process]
    available = []
    for action in sorted(OFFERED, key=list(Action).index):
        if not ctx.principal.can(permission_for(action)):
            continue
        satisfaction = Satisfaction.SATISFIED if action == Action.VERIFY else None
        try:
            actors, _ = await _standing(ctx, action, event, step, {})
            decide(process, State(event.state), action, actors, satisfaction=satisfaction)
            if action in (Action.ESCALATE, Action.RETURN):
                # No step to return to, or already at the district (R-WF-1).
                await _next_handler(ctx, action, event, step, {})
        except (Conflict, PermissionDenied, NotFound):
            continue
        available.append(action.value)
    return {**graph(process), "current": event.state, "available_actions": available}
