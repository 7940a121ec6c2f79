"""The automatic deductions and bonuses (R-ASM-3, R-ASM-4) written to the ledger "as of" an
instant: the signals of `services.assessment_signals`, priced by the rule set that applies
to each holder (`assessment_item()`), capped per item and period, each line written once.

Exactly once under at-least-once execution: every line has a unique `cause_key`, inserted
with ON CONFLICT DO NOTHING, and a run holds a transaction-level advisory lock, so two
workers (or the worker and `gridctl assess`) never race on the caps or the joint liability
that depends on the month's other lines. Re-running changes nothing."""

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import DateTime, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.assessment import JOINT_THRESHOLD, Signal, accepted_bonus_quantity
from domain.principal import SYSTEM
from services import assessment_rules, audit
from services.assessment_signals import (
    CANDIDATE_COLUMNS,
    EVENT_SIGNALS,
    JOINT_LIABILITY,
    MONTHLY_ACCEPTED,
    PERIOD_SIGNALS,
    REVERSAL_STATEMENTS,
)
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.settings import get_settings

# pg_advisory_xact_lock key of the accrual ("ASM" in ASCII).
LOCK_KEY = 0x41534D

_WRITE = text("""
WITH c AS (
    SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS c (
        cause_key text, signal text, less_signal text, unit_id uuid, department_id uuid,
        period text, event_id uuid, step_id uuid, supervision_id uuid, action_id uuid,
        appeal_id uuid, finding_id uuid, quantity integer, reason text)
),
priced AS (
    SELECT c.*, it.holder_path, it.code, it.cap, it.points AS item_points,
           (it.points - COALESCE(less.points, 0)) * c.quantity AS points
    FROM c
    CROSS JOIN LATERAL assessment_item(c.unit_id, c.department_id, c.period, c.signal,
                                       CAST(:defaults AS jsonb)) AS it
    LEFT JOIN LATERAL assessment_item(c.unit_id, c.department_id, c.period, c.less_signal,
                                      CAST(:defaults AS jsonb)) AS less ON true
    WHERE c.quantity > 0
      AND NOT EXISTS (SELECT 1 FROM assessment_ledger l WHERE l.cause_key = c.cause_key)
),
capped AS (
    SELECT p.*,
           COALESCE((SELECT abs(sum(l.points)) FROM assessment_ledger l
                     WHERE l.item_code = p.code AND l.period = p.period
                       AND l.unit_id IS NOT DISTINCT FROM p.unit_id
                       AND l.department_id IS NOT DISTINCT FROM p.department_id), 0)
           + sum(abs(p.points)) OVER (PARTITION BY p.unit_id, p.department_id, p.period, p.code
                                      ORDER BY p.cause_key) AS reached
    FROM priced p
    WHERE p.points <> 0 AND sign(p.points) = sign(p.item_points)
)
INSERT INTO assessment_ledger (id, unit_id, department_id, path, period, points, item_code,
    reason, event_id, step_id, supervision_id, action_id, appeal_id, finding_id, cause_key,
    created_at)
SELECT gen_random_uuid(), unit_id, department_id, holder_path, period, points, code, reason,
       event_id, step_id, supervision_id, action_id, appeal_id, finding_id, cause_key, :as_of
FROM capped
WHERE cap IS NULL OR reached <= cap
ON CONFLICT DO NOTHING
RETURNING points
""").bindparams(
    bindparam("as_of", type_=DateTime(timezone=True)),
    bindparam("rows", type_=String),
    bindparam("defaults", type_=String),
)


async def _candidates(session: AsyncSession, params: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for query in (*EVENT_SIGNALS, *PERIOD_SIGNALS):
        found += [dict(row._mapping) for row in await session.execute(query, params)]
    for row in await session.execute(MONTHLY_ACCEPTED, params):
        base = {
            "less_signal": None,
            "unit_id": row.unit_id,
            "department_id": row.department_id,
            "period": row.period,
        }
        holder = f"{row.holder}:{row.period}"
        found.append(
            {
                **base,
                "cause_key": f"{Signal.MONTHLY_ACCEPTED}:{holder}",
                "signal": Signal.MONTHLY_ACCEPTED.value,
                "quantity": accepted_bonus_quantity(row.accepted),
                "reason": f"{row.period} 月受理案件 {row.accepted} 件",
            }
        )
        if row.accepted >= 5 and row.clean:
            found.append(
                {
                    **base,
                    "cause_key": f"{Signal.MONTHLY_CLEAN}:{holder}",
                    "signal": Signal.MONTHLY_CLEAN.value,
                    "quantity": 1,
                    "reason": f"{row.period} 月受理 {row.accepted} 件，无超时、不满意、未落实",
                }
            )
    return found


async def _write(
    session: AsyncSession, candidates: list[dict[str, Any]], as_of: datetime
) -> list[Decimal]:
    if not candidates:
        return []
    rows = [{key: row.get(key) for key in CANDIDATE_COLUMNS} for row in candidates]
    result = await session.execute(
        _WRITE,
        {
            "rows": orjson.dumps(rows, default=str).decode(),
            "as_of": as_of,
            "defaults": assessment_rules.DEFAULTS,
        },
    )
    return [row.points for row in result]


async def accrue(ctx: Ctx, as_of: datetime) -> dict[str, int]:
    """Write every automatic line due by `as_of` that is not yet in the ledger: the event
    signals and findings, the months and years that have ended, the reversals of contested
    deductions and revoked findings,
    then joint liability (R-ASM-4), which reads the month's finished lines. Audited once
    per run that wrote something. Answers the counts of lines written."""
    session = ctx.session
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    params = {"as_of": as_of, "zone": get_settings().timezone}
    written = await _write(session, await _candidates(session, params), as_of)
    reversed_ = [
        row.points for query in REVERSAL_STATEMENTS for row in await session.execute(query, params)
    ]
    joint_rows = [
        dict(row._mapping)
        for row in await session.execute(JOINT_LIABILITY, {**params, "threshold": JOINT_THRESHOLD})
    ]
    joint = await _write(session, joint_rows, as_of)
    counts = {
        "lines": len(written) + len(joint),
        "deductions": sum(1 for p in (*written, *joint) if p < 0),
        "bonuses": sum(1 for p in written if p > 0),
        "reversals": len(reversed_),
        "joint": len(joint),
    }
    if counts["lines"] or counts["reversals"]:
        await audit.record(
            ctx,
            action="assessment.accrued",
            target_type="assessment_ledger",
            target_id=None,
            unit_path=None,
            after={**counts, "as_of": as_of.isoformat()},
        )
    return counts


async def accrue_as_system(
    maker: async_sessionmaker[AsyncSession], clock: Clock, as_of: datetime | None = None
) -> dict[str, int]:
    """One accrual in a system session of its own, committed on success (worker and CLI);
    `as_of` defaults to the clock's now."""
    async with system_session(maker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        return await accrue(ctx, as_of or ctx.now())
