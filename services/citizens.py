"""Citizens' problems and suggestions (社情民意, R-CIT-1): submitted on the public form or a
message channel, located in a grid and reported as an event into the normal workflow; the
citizen follows its progress with a receipt code and rates the answer. The progress view
shows the citizen's own submission only: states, dates, the handling unit and the reply —
never a person of the platform or of anyone else."""

import uuid
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select, update

from domain.citizens import (
    PROGRESS_NAMES,
    Channel,
    Progress,
    SubmissionKind,
    new_receipt,
    progress_of,
    receipt_digest,
)
from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.events import Category, Source
from domain.masking import Mask
from domain.notices import Audience, Notice
from domain.permissions import Perm
from domain.principal import SYSTEM_SCOPE
from domain.workflow import State
from services import audit, event_notices, events, grids
from services.context import Ctx
from services.db import set_scope
from services.masking import MaskSpec, present_one
from services.models import CitizenSubmission, Department, Event, EventAction, EventStep, OrgUnit

CITIZEN_MASK: MaskSpec = {"name": Mask.NAME, "phone": Mask.PHONE}
_SOURCES = {Channel.WEB: Source.WEB, Channel.MESSAGE: Source.CITIZEN}
RATED = Notice(
    "citizen_rating",
    Audience.ORIGINATOR,
    "群众评价",
    "群众对事件{service_no}《{title}》作出了评价，请核查回访",
)
# What the progress view tells of each action, in the citizen's words.
_MILESTONES = {
    "report": "已受理",
    "dispatch": "已分派承办单位",
    "accept": "承办单位已签收",
    "escalate": "已上报上级处理",
    "assign": "已交办承办单位",
    "divert": "已转承办单位",
    "complete": "已办理完毕",
    "verify": "已回访核查",
}


async def submit(ctx: Ctx, fields: dict[str, Any]) -> dict[str, Any]:
    """File a citizen's submission: locate its grid from the point (422 when it lies outside
    every grid), report the event (source web or citizen; suggestions as 其他), keep the
    contact for the call-back. Answers the receipt code — shown once — and the progress."""
    await set_scope(ctx.session, SYSTEM_SCOPE)
    kind, channel = SubmissionKind(fields["kind"]), Channel(fields["channel"])
    point: Point = fields["location"]
    try:
        located = await grids.locate(ctx, point)
    except NotFound as exc:
        raise Invalid(
            "location_outside_city", errors=[FieldError("location", "location_outside_city")]
        ) from exc
    category = Category(fields.get("category") or Category.OTHER)
    if kind == SubmissionKind.SUGGESTION:
        category = Category.OTHER
    event = await events.report_event(
        ctx,
        {
            "title": fields["title"],
            "category": category.value,
            "subtype": fields.get("subtype") or "other",
            "grid_id": located["grid"]["id"],
            "occurred_at": ctx.now(),
            "description": fields["description"],
            "location": point,
            "address": fields.get("address"),
            "source": _SOURCES[channel].value,
        },
        resolve_on_spot=False,
        result=None,
    )
    receipt = new_receipt()
    submission = CitizenSubmission(
        receipt_digest=receipt_digest(receipt),
        kind=kind.value,
        channel=channel.value,
        event_id=event["id"],
        path=await _path(ctx, event),
        name=fields.get("name"),
        phone=fields.get("phone"),
        created_at=ctx.now(),
    )
    ctx.session.add(submission)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="citizen.submit",
        target_type="citizen_submission",
        target_id=submission.id,
        unit_path=submission.path,
        after={"kind": kind.value, "channel": channel.value, "event_id": str(event["id"])},
    )
    return {"receipt": receipt, **await progress(ctx, receipt)}


async def _path(ctx: Ctx, event: dict[str, Any]) -> str:
    path = await ctx.session.scalar(select(Event.path).where(Event.id == event["id"]))
    assert path is not None
    return str(path)


async def _find(ctx: Ctx, receipt: str) -> tuple[CitizenSubmission, Event]:
    await set_scope(ctx.session, SYSTEM_SCOPE)
    found = (
        await ctx.session.execute(
            select(CitizenSubmission, Event)
            .join(Event, Event.id == CitizenSubmission.event_id)
            .where(CitizenSubmission.receipt_digest == receipt_digest(receipt))
        )
    ).one_or_none()
    if found is None:
        raise NotFound("receipt_not_found")
    return found.CitizenSubmission, found.Event


async def progress(ctx: Ctx, receipt: str) -> dict[str, Any]:
    """Where the citizen's submission stands, for whoever holds its receipt code: 404
    `receipt_not_found` for an unknown code (a wrong code and a foreign one look alike)."""
    submission, event = await _find(ctx, receipt)
    stage = progress_of(State(event.state))
    actions = (
        await ctx.session.execute(
            select(EventAction.action, EventAction.at)
            .where(EventAction.event_id == event.id, EventAction.action.in_(list(_MILESTONES)))
            .order_by(EventAction.serial)
        )
    ).all()
    reply = await ctx.session.scalar(
        select(EventStep.result)
        .where(EventStep.event_id == event.id, EventStep.result.is_not(None))
        .order_by(EventStep.seq.desc())
        .limit(1)
    )
    return {
        "service_no": event.service_no,
        "kind": submission.kind,
        "title": event.title,
        "submitted_at": submission.created_at,
        "progress": stage.value,
        "progress_name": PROGRESS_NAMES[stage],
        "handled_by": await _handler_name(ctx, event),
        "timeline": [{"at": a.at, "text": _MILESTONES[a.action]} for a in actions],
        "reply": reply if stage in (Progress.ANSWERED, Progress.CLOSED) else None,
        "satisfaction": submission.satisfaction,
        "can_rate": stage in (Progress.ANSWERED, Progress.CLOSED) and submission.rated_at is None,
    }


async def _handler_name(ctx: Ctx, event: Event) -> str | None:
    """The name of the unit or department holding the event now (never a person)."""
    step = await ctx.session.get(EventStep, event.current_step_id)
    if step is None:
        return None
    if step.department_id is not None:
        return await ctx.session.scalar(
            select(Department.name).where(Department.id == step.department_id)
        )
    return await ctx.session.scalar(select(OrgUnit.name).where(OrgUnit.id == step.unit_id))


async def rate(ctx: Ctx, receipt: str, *, satisfaction: str, comment: str | None) -> dict[str, Any]:
    """The citizen's rating of the answer, once, after the event was handled (409
    `rating_not_open` before, `already_rated` after). The originating community is told,
    so that its verification call-back hears it (R-WF-2)."""
    submission, event = await _find(ctx, receipt)
    if progress_of(State(event.state)) not in (Progress.ANSWERED, Progress.CLOSED):
        raise Conflict("rating_not_open")
    rated = await ctx.session.execute(
        update(CitizenSubmission)
        .where(CitizenSubmission.id == submission.id, CitizenSubmission.rated_at.is_(None))
        .values(satisfaction=satisfaction, comment=comment, rated_at=ctx.now())
        .returning(CitizenSubmission.id)
        .execution_options(synchronize_session=False)
    )
    if rated.one_or_none() is None:
        raise Conflict("already_rated")
    await audit.record(
        ctx,
        action="citizen.rate",
        target_type="citizen_submission",
        target_id=submission.id,
        unit_path=submission.path,
        after={"satisfaction": satisfaction},
    )
    community = uuid.UUID(hex=event.path.split(".")[-2])
    await event_notices.deliver(
        ctx,
        [
            event_notices.delivery(
                RATED,
                unit_id=unit_id,
                department_id=None,
                event_id=event.id,
                path=event.path,
                service_no=event.service_no,
                title=event.title,
            )
            for unit_id in (community, event.grid_id)
        ],
        permission=Perm.EVENT_HANDLE,
    )
    ctx.session.expire(submission)
    return await progress(ctx, receipt)


async def of_event(ctx: Ctx, event_id: uuid.UUID) -> dict[str, Any] | None:
    """The citizen behind an event, for staff (masked per R-JUR-3); None when the event did
    not come from a citizen. The caller has checked the event is visible."""
    row = (
        await ctx.session.execute(
            select(
                CitizenSubmission.id,
                CitizenSubmission.kind,
                CitizenSubmission.channel,
                CitizenSubmission.name,
                CitizenSubmission.phone,
                CitizenSubmission.satisfaction,
                CitizenSubmission.comment,
                CitizenSubmission.rated_at,
            ).where(CitizenSubmission.event_id == event_id)
        )
    ).one_or_none()
    if row is None:
        return None
    return await present_one(
        ctx, dict(row._mapping), CITIZEN_MASK, target_type="citizen_submission", unit_path=None
    )
