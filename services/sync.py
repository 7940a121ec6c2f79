"""Offline sync (R-MOB-2): a batch of queued operations applied one by one, each in its own
savepoint so that one bad operation does not sink the batch, and the changes in the
caller's jurisdiction pulled since the previous sync.

Each (user, client operation id) is claimed in `sync_operations` inside the operation's
savepoint and settled with its result: a replay finds the row and gets the stored result
back as `already_applied`, and two requests racing with the same operation serialise on the
row's key (the second waits for the first to commit, then replays it). Rejections are
stored too, so a replay is answered the same way; a version conflict is not, so the app may
resend the same operation once it has merged the server's version."""

import uuid
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from domain.errors import (
    BadRequest,
    DomainError,
    FieldError,
    PermissionDenied,
    PreconditionFailed,
)
from domain.mobile import AlarmIn, CheckInIn, FieldEventIn, TrackBatchIn, VisitIn, VisitPatch
from domain.permissions import Perm
from domain.sync import CREATES, Operation, OpStatus, OpType, Refusal, SyncIn, parse_payload
from services import changes, mobile, tracks, visits
from services.context import Ctx
from services.models import SyncOperation
from services.pagination import decode_cursor, encode_cursor

# What each operation needs, as its route would (R-ORG-3).
PERMISSIONS: dict[OpType, Perm] = {
    OpType.VISIT_CREATE: Perm.VISIT_WRITE,
    OpType.VISIT_UPDATE: Perm.VISIT_WRITE,
    OpType.EVENT_REPORT: Perm.EVENT_REPORT,
    OpType.ALARM: Perm.EVENT_REPORT,
    OpType.CHECK_IN: Perm.POSITION_REPORT,
    OpType.CHECK_OUT: Perm.POSITION_REPORT,
    OpType.TRACK_UPLOAD: Perm.POSITION_REPORT,
}


class _Claimed(Exception):
    """Another request holds (and has now committed) this operation."""


async def _run(ctx: Ctx, op: Operation, payload: BaseModel) -> dict[str, Any]:
    """Apply one operation through the same use case as its route; the result names what
    it made or changed."""
    if op.type == OpType.VISIT_CREATE:
        assert isinstance(payload, VisitIn)
        visit = await visits.create_visit(ctx, payload)
        return {"target_type": "visit", "target_id": str(visit["id"]), "version": 1}
    if op.type == OpType.VISIT_UPDATE:
        assert isinstance(payload, VisitPatch) and op.target_id is not None
        visit = await visits.update_visit(
            ctx, op.target_id, payload, expected_version=op.base_version
        )
        return {"target_type": "visit", "target_id": str(visit["id"]), "version": visit["version"]}
    if op.type in (OpType.EVENT_REPORT, OpType.ALARM):
        assert isinstance(payload, FieldEventIn | AlarmIn)
        event = await (
            mobile.report_from_field(ctx, payload)
            if isinstance(payload, FieldEventIn)
            else mobile.raise_alarm(ctx, payload)
        )
        return {"target_type": "event", "target_id": str(event["id"]), "version": event["version"]}
    if op.type in (OpType.CHECK_IN, OpType.CHECK_OUT):
        assert isinstance(payload, CheckInIn)
        act = tracks.check_in if op.type == OpType.CHECK_IN else tracks.check_out
        record = await act(ctx, payload.point())
        return {"target_type": "check_in", "target_id": str(record["id"])}
    assert isinstance(payload, TrackBatchIn)
    return {"detail": await tracks.upload_track(ctx, payload)}


def _refusal(exc: DomainError) -> dict[str, Any]:
    return {"error": asdict(Refusal.of(exc))}


async def _stored(ctx: Ctx, op_id: uuid.UUID) -> SyncOperation | None:
    return await ctx.session.scalar(
        select(SyncOperation).where(
            SyncOperation.user_id == ctx.principal.user_id, SyncOperation.op_id == op_id
        )
    )


def _replayed(stored: SyncOperation) -> dict[str, Any]:
    status = OpStatus.REJECTED if stored.status == OpStatus.REJECTED else OpStatus.ALREADY_APPLIED
    return {"op_id": stored.op_id, "status": status.value, **stored.result}


async def _claim(ctx: Ctx, op: Operation, status: OpStatus, result: dict[str, Any]) -> bool:
    claimed = await ctx.session.scalar(
        insert(SyncOperation)
        .values(
            user_id=ctx.principal.user_id,
            op_id=op.op_id,
            op_type=op.type.value,
            status=status.value,
            result=result,
            created_at=ctx.now(),
        )
        .on_conflict_do_nothing()
        .returning(SyncOperation.op_id)
    )
    return claimed is not None


async def _server_version(ctx: Ctx, op: Operation) -> dict[str, Any]:
    assert op.target_id is not None
    return await visits.get_visit(ctx, op.target_id)


async def apply(ctx: Ctx, op: Operation) -> dict[str, Any]:
    """One operation's result: created / applied, already_applied (a replay), conflict
    (with the server's version) or rejected (with the reason)."""
    stored = await _stored(ctx, op.op_id)
    if stored is not None:
        return _replayed(stored)
    try:
        async with ctx.session.begin_nested():
            if not await _claim(ctx, op, OpStatus.APPLIED, {}):
                raise _Claimed
            if not ctx.principal.can(PERMISSIONS[op.type]):
                raise PermissionDenied(params={"permission": PERMISSIONS[op.type].value})
            result = await _run(ctx, op, parse_payload(op))
            status = OpStatus.CREATED if op.type in CREATES else OpStatus.APPLIED
            await ctx.session.execute(
                update(SyncOperation)
                .where(
                    SyncOperation.user_id == ctx.principal.user_id,
                    SyncOperation.op_id == op.op_id,
                )
                .values(status=status.value, result=result)
            )
    except _Claimed:
        claimed = await _stored(ctx, op.op_id)
        assert claimed is not None
        return _replayed(claimed)
    except PreconditionFailed:
        server = await _server_version(ctx, op)
        return {
            "op_id": op.op_id,
            "status": OpStatus.CONFLICT.value,
            "target_type": "visit",
            "target_id": str(server["id"]),
            "version": server["version"],
            "server": server,
        }
    except DomainError as exc:
        refusal = _refusal(exc)
        async with ctx.session.begin_nested():
            await _claim(ctx, op, OpStatus.REJECTED, refusal)
        return {"op_id": op.op_id, "status": OpStatus.REJECTED.value, **refusal}
    return {"op_id": op.op_id, "status": status.value, **result}


def _since(cursor: str | None) -> tuple[int, int]:
    if cursor is None:
        return 0, 0
    events_serial, visits_serial = decode_cursor(cursor, 2)
    if not isinstance(events_serial, int) or not isinstance(visits_serial, int):
        raise BadRequest("cursor_invalid", errors=[FieldError("since", "cursor_invalid")])
    return events_serial, visits_serial


async def pull(ctx: Ctx, since: str | None, limit: int) -> dict[str, Any]:
    """The changes in the caller's jurisdiction after `since`: event changes from the
    change feed and visit log entries, each oldest first, and the cursor to continue
    from; `more` says a further sync has more to pull."""
    events_serial, visits_serial = _since(since)
    event_items: list[dict[str, Any]] = []
    visit_items: list[dict[str, Any]] = []
    if ctx.principal.can(Perm.EVENT_READ):
        event_items, events_serial = await changes.events_after(ctx, events_serial, limit)
    if ctx.principal.can(Perm.VISIT_READ):
        visit_items, visits_serial = await visits.changed_since(ctx, visits_serial, limit)
    return {
        "events": event_items,
        "visits": visit_items,
        "next_cursor": encode_cursor([events_serial, visits_serial]),
        "more": len(event_items) == limit or len(visit_items) == limit,
    }


async def sync(ctx: Ctx, body: SyncIn) -> dict[str, Any]:
    """Apply the batch in order (a later operation may build on an earlier one), then pull
    what changed, so that the pull already holds the batch's own effects."""
    results = [await apply(ctx, op) for op in body.operations]
    return {"results": results, "changes": await pull(ctx, body.since, body.pull_limit)}
