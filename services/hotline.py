"""The hotline (热线, R-CIT-1): an operator looks the caller up by phone number (new, or known
with the history of their calls in the operator's jurisdiction), registers the call with its
nature and the call-back it asks for, and — unless it is a nuisance call — reports the event
into the normal workflow (source hotline). Once the event is handled the operator calls back
and records how that went; calls still owed a call-back are a list of their own."""

import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert

from domain.citizens import CallNature
from domain.errors import Conflict, FieldError, Invalid, NotFound
from domain.events import Source
from domain.masking import Mask
from domain.versioning import check_version
from domain.workflow import State
from services import audit, events
from services.context import Ctx
from services.jurisdiction import in_scope
from services.masking import MaskSpec, present, present_one
from services.models import Event, HotlineCall, HotlineCaller, OrgUnit
from services.pagination import AnySelect, Page, paginate

CALLER_MASK: MaskSpec = {"phone": Mask.PHONE, "name": Mask.NAME}
CALL_MASK: MaskSpec = {
    "caller_phone": Mask.PHONE,
    "caller_name": Mask.NAME,
    "callback_person": Mask.NAME,
    "callback_phone": Mask.PHONE,
}
CALL_COLUMNS = (
    HotlineCall.id,
    HotlineCall.caller_id,
    HotlineCaller.phone.label("caller_phone"),
    HotlineCaller.name.label("caller_name"),
    HotlineCall.operator_id,
    HotlineCall.operator_unit_id,
    HotlineCall.nature,
    HotlineCall.summary,
    HotlineCall.callback_person,
    HotlineCall.callback_phone,
    HotlineCall.event_id,
    Event.service_no,
    Event.state.label("event_state"),
    HotlineCall.called_at,
    HotlineCall.called_back_at,
    HotlineCall.callback_reached,
    HotlineCall.callback_satisfaction,
    HotlineCall.callback_note,
    HotlineCall.version,
)
# Handled, so the caller can be told: the call-back is due.
_ANSWERED = (State.PENDING_VERIFY.value, State.CLOSED.value)


@dataclass(frozen=True)
class CallFilter:
    nature: CallNature | None = None
    # Call-backs owed: nature call-back, its event handled, nobody called back yet.
    callback_due: bool | None = None
    q: str | None = None


def _calls() -> AnySelect:
    return (
        select(*CALL_COLUMNS)
        .join(HotlineCaller, HotlineCaller.id == HotlineCall.caller_id)
        .outerjoin(Event, Event.id == HotlineCall.event_id)
    )


async def look_up(ctx: Ctx, phone: str) -> dict[str, Any]:
    """The caller with this number — `known` false for a new one — and their calls in the
    caller's jurisdiction, newest first (search by the full number; the answer is masked)."""
    caller = (
        await ctx.session.execute(
            select(
                HotlineCaller.id,
                HotlineCaller.phone,
                HotlineCaller.name,
                HotlineCaller.created_at,
            ).where(HotlineCaller.phone == phone)
        )
    ).one_or_none()
    if caller is None:
        return {"known": False, "caller": None, "calls": []}
    rows = await ctx.session.execute(
        _calls()
        .where(HotlineCall.caller_id == caller.id, in_scope(HotlineCall.path, ctx.principal))
        .order_by(HotlineCall.called_at.desc())
        .limit(50)
    )
    return {
        "known": True,
        "caller": await present_one(
            ctx, dict(caller._mapping), CALLER_MASK, target_type="hotline_caller", unit_path=None
        ),
        "calls": await present(
            ctx, [dict(r._mapping) for r in rows], CALL_MASK, target_type="hotline_call"
        ),
    }


async def _caller(ctx: Ctx, phone: str, name: str | None) -> uuid.UUID:
    """The caller's id, registering a new number; a given name replaces the old one."""
    changes: dict[str, Any] = {"updated_at": ctx.now()}
    if name:
        changes["name"] = name
    row = await ctx.session.execute(
        insert(HotlineCaller)
        .values(id=uuid.uuid4(), phone=phone, name=name, created_at=ctx.now(), updated_at=ctx.now())
        .on_conflict_do_update(index_elements=[HotlineCaller.phone], set_=changes)
        .returning(HotlineCaller.id)
    )
    caller_id: uuid.UUID = row.scalar_one()
    return caller_id


def _check(fields: dict[str, Any]) -> CallNature:
    nature = CallNature(fields["nature"])
    errors = []
    if nature == CallNature.NUISANCE and fields.get("event"):
        errors.append(FieldError("event", "hotline_nuisance_event"))
    if nature != CallNature.NUISANCE and not fields.get("event"):
        errors.append(FieldError("event", "field_required"))
    if nature == CallNature.CALLBACK and not fields.get("callback_phone"):
        errors.append(FieldError("callback_phone", "field_required"))
    if errors:
        raise Invalid("hotline_call_invalid", errors=errors)
    return nature


async def _home_path(ctx: Ctx) -> str:
    """Where a call without an event is filed: the operator's own unit."""
    if not ctx.principal.sees_everything:
        return ctx.principal.scope
    path = await ctx.session.scalar(select(OrgUnit.path).where(OrgUnit.id == ctx.principal.unit_id))
    if path is None:
        raise Invalid("hotline_call_invalid", errors=[FieldError("event", "field_required")])
    return str(path)


async def register_call(ctx: Ctx, fields: dict[str, Any]) -> dict[str, Any]:
    """Register a call; unless it is a nuisance call, report its event (source hotline) into
    the normal workflow. The call is filed under the event's grid, or the operator's unit."""
    nature = _check(fields)
    event_id = None
    if fields.get("event"):
        reported = {**fields["event"], "source": Source.HOTLINE.value}
        reported["occurred_at"] = reported.get("occurred_at") or ctx.now()
        event = await events.report_event(ctx, reported, resolve_on_spot=False, result=None)
        event_id = event["id"]
        path = str(await ctx.session.scalar(select(Event.path).where(Event.id == event_id)))
    else:
        path = await _home_path(ctx)
    call = HotlineCall(
        caller_id=await _caller(ctx, fields["caller_phone"], fields.get("caller_name")),
        path=path,
        operator_id=ctx.principal.user_id,
        operator_unit_id=ctx.principal.unit_id,
        nature=nature.value,
        summary=fields["summary"],
        callback_person=fields.get("callback_person"),
        callback_phone=fields.get("callback_phone"),
        event_id=event_id,
        called_at=ctx.now(),
    )
    ctx.session.add(call)
    await ctx.session.flush()
    await audit.record(
        ctx,
        action="hotline.call",
        target_type="hotline_call",
        target_id=call.id,
        unit_path=call.path,
        after={"nature": nature.value, "event_id": str(event_id) if event_id else None},
    )
    return await get_call(ctx, call.id)


async def get_call(ctx: Ctx, call_id: uuid.UUID) -> dict[str, Any]:
    row = (
        await ctx.session.execute(
            _calls().where(HotlineCall.id == call_id, in_scope(HotlineCall.path, ctx.principal))
        )
    ).one_or_none()
    if row is None:
        raise NotFound("hotline_call_not_found")
    return await present_one(
        ctx, dict(row._mapping), CALL_MASK, target_type="hotline_call", unit_path=None
    )


def calls_query(ctx: Ctx, flt: CallFilter) -> AnySelect:
    """Calls in the caller's jurisdiction, filtered (the list and its export)."""
    stmt = _calls().where(in_scope(HotlineCall.path, ctx.principal))
    if flt.nature is not None:
        stmt = stmt.where(HotlineCall.nature == flt.nature.value)
    if flt.callback_due is not None:
        due = and_(
            HotlineCall.nature == CallNature.CALLBACK.value,
            HotlineCall.called_back_at.is_(None),
            Event.state.in_(_ANSWERED),
        )
        stmt = stmt.where(due if flt.callback_due else ~due)
    if flt.q:
        stmt = stmt.where(
            or_(
                HotlineCall.summary.icontains(flt.q, autoescape=True),
                HotlineCaller.phone == flt.q,
                Event.service_no == flt.q.upper(),
            )
        )
    return stmt


async def list_calls(
    ctx: Ctx, flt: CallFilter, *, limit: int, cursor: str | None
) -> Page[dict[str, Any]]:
    page = await paginate(
        ctx.session,
        calls_query(ctx, flt),
        key=(HotlineCall.nature, HotlineCall.id),
        limit=limit,
        cursor=cursor,
    )
    return replace(
        page, items=await present(ctx, page.items, CALL_MASK, target_type="hotline_call")
    )


async def record_callback(
    ctx: Ctx,
    call_id: uuid.UUID,
    *,
    reached: bool,
    satisfaction: str | None,
    note: str | None,
    expected_version: int | None,
) -> dict[str, Any]:
    """How the call-back went (once): reached or not, the caller's satisfaction when
    reached. 409 `callback_not_due` for a call that asked for none or whose event is not
    handled yet."""
    call = (
        await ctx.session.execute(
            select(HotlineCall)
            .where(HotlineCall.id == call_id, in_scope(HotlineCall.path, ctx.principal))
            .with_for_update()
        )
    ).scalar_one_or_none()
    if call is None:
        raise NotFound("hotline_call_not_found")
    check_version(expected_version, call.version)
    state = await ctx.session.scalar(select(Event.state).where(Event.id == call.event_id))
    if call.nature != CallNature.CALLBACK or state not in _ANSWERED:
        raise Conflict("callback_not_due")
    if call.called_back_at is not None:
        raise Conflict("callback_done")
    if reached != (satisfaction is not None):
        raise Invalid(
            "hotline_call_invalid", errors=[FieldError("satisfaction", "callback_satisfaction")]
        )
    await ctx.session.execute(
        update(HotlineCall)
        .where(HotlineCall.id == call.id)
        .values(
            called_back_at=ctx.now(),
            callback_reached=reached,
            callback_satisfaction=satisfaction,
            callback_note=note,
            version=HotlineCall.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    await audit.record(
        ctx,
        action="hotline.callback",
        target_type="hotline_call",
        target_id=call.id,
        unit_path=call.path,
        after={"reached": reached, "satisfaction": satisfaction},
    )
    return await get_call(ctx, call.id)
