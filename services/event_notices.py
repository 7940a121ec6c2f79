"""Telling people about events (R-WF-5, R-WF-3, R-SUP-6): in-app notifications for the users
who act for a unit or department, and an SMS for those with a phone, queued in the outbox in
the same transaction so that neither is lost if the worker or Redis is down."""

import uuid
from dataclasses import dataclass

from sqlalchemy import ARRAY, DateTime, String, Uuid, bindparam, text

from domain.notices import Notice
from domain.permissions import Perm
from services.context import Ctx

SMS_SIGNATURE = "【网格化服务管理平台】"


@dataclass(frozen=True)
class Delivery:
    """One notice for the users acting for one unit or department about one event."""

    unit_id: uuid.UUID | None
    department_id: uuid.UUID | None
    event_id: uuid.UUID
    path: str
    kind: str
    title: str
    text: str


# Recipients are found through `event_recipients` (SECURITY DEFINER): the caller may not see
# the users of the unit it hands the event to. The actor is not told of their own action.
_DELIVER = text("""
WITH d AS (
    SELECT * FROM unnest(:units, :departments, :events, :paths, :kinds, :titles, :texts)
        AS d (unit_id, department_id, event_id, path, kind, title, body)
),
r AS (
    SELECT DISTINCT ON (d.event_id, d.kind, u.user_id) d.*, u.user_id, u.phone
    FROM d CROSS JOIN LATERAL event_recipients(d.unit_id, d.department_id, :permission) u
    WHERE u.user_id IS DISTINCT FROM :actor
),
notes AS (
    INSERT INTO notifications (id, user_id, path, kind, title, body, target_type, target_id,
                               created_at)
    SELECT gen_random_uuid(), user_id, CAST(path AS ltree), kind, title, body, 'event',
           event_id, :now
    FROM r
    RETURNING id
),
-- The recipient by id, not number: the number is read as the text goes out (services.sms).
sms AS (
    INSERT INTO outbox (kind, payload, created_at, available_at)
    SELECT 'sms', jsonb_build_object('text', :signature || body,
                                     'user_id', user_id, 'event_id', event_id),
           :now, :now
    FROM r
    WHERE coalesce(phone, '') <> ''
    RETURNING id
)
SELECT (SELECT count(*) FROM notes) AS notified, (SELECT count(*) FROM sms) AS texted
""").bindparams(
    bindparam("units", type_=ARRAY(Uuid)),
    bindparam("departments", type_=ARRAY(Uuid)),
    bindparam("events", type_=ARRAY(Uuid)),
    bindparam("paths", type_=ARRAY(String)),
    bindparam("kinds", type_=ARRAY(String)),
    bindparam("titles", type_=ARRAY(String)),
    bindparam("texts", type_=ARRAY(String)),
    bindparam("actor", type_=Uuid),
    bindparam("now", type_=DateTime(timezone=True)),
)


async def deliver(ctx: Ctx, deliveries: list[Delivery], *, permission: Perm) -> int:
    """Notify (and text) every active user who acts for each delivery's unit or department
    and holds `permission`, in one statement. Returns how many notifications were written."""
    if not deliveries:
        return 0
    row = (
        await ctx.session.execute(
            _DELIVER,
            {
                "units": [d.unit_id for d in deliveries],
                "departments": [d.department_id for d in deliveries],
                "events": [d.event_id for d in deliveries],
                "paths": [d.path for d in deliveries],
                "kinds": [d.kind for d in deliveries],
                "titles": [d.title for d in deliveries],
                "texts": [d.text for d in deliveries],
                "permission": permission.value,
                "actor": ctx.principal.user_id,
                "now": ctx.now(),
                "signature": SMS_SIGNATURE,
            },
        )
    ).one()
    return int(row.notified)


def delivery(
    notice: Notice,
    *,
    unit_id: uuid.UUID | None,
    department_id: uuid.UUID | None,
    event_id: uuid.UUID,
    path: str,
    service_no: str,
    title: str,
) -> Delivery:
    """The notice rendered for one event and addressed to one unit or department."""
    return Delivery(
        unit_id=unit_id,
        department_id=department_id,
        event_id=event_id,
        path=path,
        kind=notice.kind,
        title=notice.title,
        text=notice.render(service_no=service_no, title=title),
    )
