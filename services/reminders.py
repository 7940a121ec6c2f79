"""Reminders before deadlines (R-SUP-6): 2 hours before the acceptance limit, 1 working day
before the 5-working-day handling limit, sent to the users acting for the step's unit or
department (in-app and SMS). The times are stored on the step by `store_deadlines`; one
set-based statement claims the due ones, and the primary key (step, kind) of
`step_reminders` makes it idempotent under overlapping workers. A reminder whose deadline has
already passed is not sent: the card speaks then."""

from datetime import datetime

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.notices import REMINDERS
from domain.permissions import Perm
from domain.principal import SYSTEM
from domain.supervision import ReminderKind
from domain.workflow import State
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.event_notices import deliver, delivery

_ACCEPT, _HANDLE = ReminderKind.ACCEPT_SOON.value, ReminderKind.HANDLE_SOON.value

CLAIM = text(f"""
WITH due AS (
    SELECT s.id AS step_id, s.event_id, e.path, e.service_no, e.title, s.unit_id,
           s.department_id, r.kind, r.remind_at, r.deadline
    FROM event_steps s
    JOIN events e ON e.id = s.event_id
    CROSS JOIN LATERAL (VALUES
        ('{_ACCEPT}', s.accept_remind_at, coalesce(s.accept_yellow_at, s.accept_red_at)),
        ('{_HANDLE}', s.handle_remind_at, s.handle_yellow_at)
    ) AS r (kind, remind_at, deadline)
    WHERE s.finished_at IS NULL
      AND NOT e.legacy
      AND e.state <> '{State.CLOSED.value}'
      AND r.remind_at <= :as_of
      AND :as_of < r.deadline
      AND CASE r.kind WHEN '{_ACCEPT}' THEN s.accepted_at IS NULL
          ELSE s.accepted_at IS NOT NULL AND s.first_feedback_at IS NULL END
),
sent AS (
    INSERT INTO step_reminders (step_id, kind, event_id, path, due_at, sent_at)
    SELECT step_id, kind, event_id, path, remind_at, :as_of FROM due
    ON CONFLICT DO NOTHING
    RETURNING step_id, kind
)
SELECT due.* FROM due JOIN sent USING (step_id, kind)
""").bindparams(bindparam("as_of", type_=DateTime(timezone=True)))


async def remind(ctx: Ctx, as_of: datetime) -> dict[str, int]:
    """Send every reminder due by `as_of` that was not sent yet. Answers `{"reminded",
    "notified"}`: steps reminded and notifications written."""
    rows = (await ctx.session.execute(CLAIM, {"as_of": as_of})).all()
    deliveries = [
        delivery(
            REMINDERS[ReminderKind(row.kind)],
            unit_id=row.unit_id,
            department_id=row.department_id,
            event_id=row.event_id,
            path=str(row.path),
            service_no=row.service_no,
            title=row.title,
        )
        for row in rows
    ]
    notified = await deliver(ctx, deliveries, permission=Perm.EVENT_HANDLE)
    return {"reminded": len(rows), "notified": notified}


async def remind_as_system(
    maker: async_sessionmaker[AsyncSession], clock: Clock, as_of: datetime | None = None
) -> dict[str, int]:
    """One reminder pass in a system session of its own, committed on success (worker and
    CLI); `as_of` defaults to the clock's now."""
    async with system_session(maker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        return await remind(ctx, as_of or ctx.now())
