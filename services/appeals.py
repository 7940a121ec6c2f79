"""Appeals against a verification (R-WF-2): the unit or department whose step was judged
unsatisfied or not implemented may appeal once per verification; a superior of the
evaluating unit decides. The workflow history records both (`appeal`, `decide-appeal`), and
assessment (§6) reads them: an upheld appeal removes the contested deduction and charges the
evaluator."""

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from domain.appeals import deciders, deciding_path
from domain.errors import Conflict, NotFound
from domain.principal import Principal
from domain.workflow import Actor, Satisfaction
from services.context import Ctx
from services.models import Event, EventAction, EventAppeal, EventStep, OrgUnit

_AGAINST = [Satisfaction.UNSATISFIED.value, Satisfaction.NOT_IMPLEMENTED.value]

APPEAL_COLUMNS = (
    EventAppeal.id,
    EventAppeal.verify_action_id,
    EventAppeal.step_id,
    EventAppeal.appellant_unit_id,
    EventAppeal.appellant_department_id,
    EventAppeal.evaluator_unit_id,
    EventAppeal.reason,
    EventAppeal.filed_by,
    EventAppeal.filed_at,
    EventAppeal.decided_by,
    EventAppeal.decided_at,
    EventAppeal.upheld,
    EventAppeal.decision_note,
)


async def contested(
    ctx: Ctx, event: Event, verify_action_id: uuid.UUID | None
) -> tuple[EventAction, EventStep] | None:
    """The verification that went against a step of the event — the one named, else the
    latest — and the step it judged; None when there is none."""
    stmt = select(EventAction).where(
        EventAction.event_id == event.id,
        EventAction.action == "verify",
        EventAction.payload["satisfaction"].astext.in_(_AGAINST),
    )
    if verify_action_id is not None:
        stmt = stmt.where(EventAction.id == verify_action_id)
    verification = await ctx.session.scalar(stmt.order_by(EventAction.serial.desc()).limit(1))
    if verification is None or verification.step_id is None:
        return None
    return verification, await ctx.session.get_one(EventStep, verification.step_id)


def held_by(principal: Principal, step: EventStep) -> bool:
    """The caller acts for the unit or department that handled the step."""
    return (step.unit_id is not None and step.unit_id == principal.unit_id) or (
        step.department_id is not None and step.department_id == principal.department_id
    )


async def file_appeal(
    ctx: Ctx, event: Event, verification: EventAction, step: EventStep, reason: str
) -> EventAppeal:
    """Record the appeal; a second appeal against the same verification is 409
    `appeal_exists`."""
    evaluator = (
        await ctx.session.get(OrgUnit, verification.actor_unit_id)
        if verification.actor_unit_id
        else None
    )
    appeal = EventAppeal(
        event_id=event.id,
        path=event.path,
        verify_action_id=verification.id,
        step_id=step.id,
        appellant_unit_id=step.unit_id,
        appellant_department_id=step.department_id,
        evaluator_unit_id=evaluator.id if evaluator else None,
        # An evaluator the caller cannot see stands in as the event's community.
        evaluator_path=evaluator.path if evaluator else event.path.rsplit(".", 1)[0],
        appellant_path=step.handler_path,
        reason=reason,
        filed_by=ctx.principal.user_id,
        filed_at=ctx.now(),
    )
    try:
        async with ctx.session.begin_nested():
            ctx.session.add(appeal)
            await ctx.session.flush()
    except IntegrityError as exc:
        raise Conflict("appeal_exists") from exc
    return appeal


async def pending(ctx: Ctx, event: Event, appeal_id: uuid.UUID | None) -> EventAppeal:
    """The undecided appeal of the event (the one named, else the only one), locked; 404
    `appeal_not_found` when there is none."""
    stmt = select(EventAppeal).where(
        EventAppeal.event_id == event.id, EventAppeal.decided_at.is_(None)
    )
    if appeal_id is not None:
        stmt = stmt.where(EventAppeal.id == appeal_id)
    appeal = await ctx.session.scalar(
        stmt.order_by(EventAppeal.filed_at.desc()).limit(1).with_for_update()
    )
    if appeal is None:
        raise NotFound("appeal_not_found")
    return appeal


def deciders_of(principal: Principal, appeal: EventAppeal) -> frozenset[Actor]:
    """How the caller stands to deciding the appeal (see `domain.appeals`)."""
    party = principal.unit_id is not None and principal.unit_id in (
        appeal.appellant_unit_id,
        appeal.evaluator_unit_id,
    )
    party = party or (
        principal.department_id is not None
        and principal.department_id == appeal.appellant_department_id
    )
    return deciders(
        principal,
        evaluator_path=appeal.evaluator_path,
        appellant_path=appeal.appellant_path,
        party=party,
    )


def decider_unit(appeal: EventAppeal) -> uuid.UUID:
    """The unit whose managers are asked to decide (its path's last label is its id)."""
    path = deciding_path(appeal.evaluator_path, appeal.appellant_path)
    return uuid.UUID(hex=path.rsplit(".", 1)[-1])


async def decide(ctx: Ctx, appeal: EventAppeal, *, upheld: bool, note: str | None) -> uuid.UUID:
    """Record the decision; returns the id of the appeal's own history row (assessment ties
    the decision to it)."""
    appeal.decided_at, appeal.decided_by = ctx.now(), ctx.principal.user_id
    appeal.upheld, appeal.decision_note = upheld, note
    await ctx.session.flush()
    action_id = await ctx.session.scalar(
        select(EventAction.id).where(
            EventAction.event_id == appeal.event_id,
            EventAction.action == "appeal",
            EventAction.payload["appeal_id"].astext == str(appeal.id),
        )
    )
    assert action_id is not None, "every appeal is recorded with its history row"
    return action_id


async def appeals_of(ctx: Ctx, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """The event's appeals, oldest first (the caller has checked the event is visible)."""
    rows = await ctx.session.execute(
        select(*APPEAL_COLUMNS)
        .where(EventAppeal.event_id == event_id)
        .order_by(EventAppeal.filed_at, EventAppeal.id)
    )
    return [dict(row._mapping) for row in rows]
