"""Supervision cards (R-SUP-1, R-SUP-2, R-SUP-5): the sweep that issues the automatic cards
and charges their deductions, clearing when a step finishes, and the cards of an event.

The sweep is one set-based statement over the deadlines stored on the steps
(`services.events.DEADLINE_COLUMNS`); the partial unique index on (step, rule) makes issuing
idempotent, so workers may overlap and a worker started after an outage issues every missed
card once, with its true `due_at`.

Manual supervision runs the workflow guards of `services.event_actions`, which in turn
imports this module (clearing on finish): each uses only the other's attributes at call time.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, String, bindparam, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.errors import NotFound, PermissionDenied
from domain.notices import NOTICES
from domain.permissions import Perm
from domain.principal import SYSTEM
from domain.supervision import RULE_LEVEL, Level, Rule
from domain.versioning import check_version
from domain.workflow import PROCESSES, Action, State, Transition, decide
from services import assessment_rules, audit, event_actions
from services.clock import Clock
from services.context import Ctx
from services.db import system_session
from services.events import (
    DEADLINE_COLUMNS,
    Handler,
    get_event,
    history,
    notify_holder,
    record_action,
    visible,
)
from services.models import Event, EventStep, LedgerLine, Supervision
from services.models.base import Ltree
from services.settings import get_settings

# Why a card was issued: the ledger line's reason (R-SUP-5).
RULE_REASONS: dict[Rule, str] = {
    Rule.ACCEPT_24H: "超过24小时未签收",
    Rule.ACCEPT_48H: "超过48小时未签收",
    Rule.ACCEPT_12H_PRIORITY: "重大或紧急事件超过12小时未签收",
    Rule.HANDLE_5WD: "签收后5个工作日内未反馈",
    Rule.HANDLE_10WD: "签收后10个工作日内未反馈",
}
_ACCEPTING = frozenset({Rule.ACCEPT_24H, Rule.ACCEPT_48H, Rule.ACCEPT_12H_PRIORITY})
_PRIORITY = "(e.is_major OR e.is_urgent)"
ZONE = ZoneInfo(get_settings().timezone)


def _rule_for(column: str) -> str:
    """The SQL naming the rule a stored deadline column stands for: `accept_red_at` is the
    12-hour card for a major or urgent event, the 48-hour one otherwise."""
    rules = [rule for rule, col in DEADLINE_COLUMNS.items() if col == column]
    if len(rules) == 1:
        return f"'{rules[0].value}'"
    priority = Rule.ACCEPT_12H_PRIORITY
    (other,) = (rule for rule in rules if rule != priority)
    return f"CASE WHEN {_PRIORITY} THEN '{priority.value}' ELSE '{other.value}' END"


def _phase_applies() -> str:
    """Accepting rules count only until acceptance, handling rules only between acceptance
    and the first feedback (R-SUP-2), re-checked here whatever the stored deadlines say."""
    accepting = ", ".join(f"'{r.value}'" for r in sorted(_ACCEPTING))
    return (
        f"CASE WHEN c.rule IN ({accepting}) THEN s.accepted_at IS NULL "
        "ELSE s.accepted_at IS NOT NULL AND s.first_feedback_at IS NULL END"
    )


def _next_deadline(step: str) -> str:
    """The earlier deadline of the step's current phase: the expression of the index the
    sweep finds due steps by (migration 0048), written as the index has it (the planner
    matches the expression, argument order included). `step` qualifies the columns."""

    def earliest(rules: Iterable[Rule]) -> str:
        columns = dict.fromkeys(col for rule, col in DEADLINE_COLUMNS.items() if rule in rules)
        return f"least({', '.join(step + column for column in columns)})"

    handling = set(DEADLINE_COLUMNS) - _ACCEPTING
    return (
        f"CASE WHEN {step}accepted_at IS NULL THEN {earliest(_ACCEPTING)}"
        f" WHEN {step}first_feedback_at IS NULL THEN {earliest(handling)} END"
    )


# The statement is built once from the rule tables above (constants, never input).
_CANDIDATES = ",\n        ".join(
    f"({_rule_for(column)}, s.{column})" for column in dict.fromkeys(DEADLINE_COLUMNS.values())
)
_TARIFF = ", ".join(
    f"('{rule.value}', '{level.value}', '{RULE_REASONS[rule]}')"
    for rule, level in RULE_LEVEL.items()
)

SWEEP = text(f"""
WITH due AS (
    SELECT s.id AS step_id, s.event_id, e.path, e.service_no, s.unit_id, s.department_id,
           coalesce(s.department_id, s.unit_id) AS holder, s.handler_path, c.rule, c.due_at,
           to_char(c.due_at AT TIME ZONE :zone, 'YYYY-MM') AS period, t.level, t.reason
    FROM event_steps s
    -- Each due step's event by its key: the fence (OFFSET 0) keeps the planner, which
    -- cannot know how few steps are due, from hashing every open event instead.
    CROSS JOIN LATERAL (
        SELECT e.path, e.service_no, e.is_major, e.is_urgent FROM events e
        WHERE e.id = s.event_id AND NOT e.legacy AND e.state <> '{State.CLOSED.value}'
        OFFSET 0
    ) AS e
    CROSS JOIN LATERAL (VALUES
        {_CANDIDATES}
    ) AS c (rule, due_at)
    JOIN (VALUES {_TARIFF}) AS t (rule, level, reason) ON t.rule = c.rule
    WHERE s.finished_at IS NULL
      -- A necessary condition the index answers; the candidates below decide.
      AND ({_next_deadline("s.")}) <= :as_of
      AND c.due_at <= :as_of
      AND {_phase_applies()}
      -- Cards already issued are not priced again (the index below still decides a race).
      AND NOT EXISTS (
          SELECT FROM supervisions v
          WHERE v.step_id = s.id AND v.rule = c.rule AND v.source = 'auto'
      )
),
-- The card's points come from the rule set that applies to the charged unit (R-ASM-3),
-- priced once per unit or department, month and level.
priced AS (
    SELECT h.holder, h.period, h.level, item.points, item.code
    FROM (
        SELECT DISTINCT ON (holder, period, level) holder, unit_id, department_id, period, level
        FROM due
    ) AS h
    CROSS JOIN LATERAL assessment_item(h.unit_id, h.department_id, h.period,
        'supervision_' || h.level, CAST(:defaults AS jsonb)) AS item
),
card AS (
    SELECT d.*, COALESCE(p.points, 0)::integer AS deduction, p.code AS item_code
    FROM due d
    LEFT JOIN priced p ON p.holder = d.holder AND p.period = d.period AND p.level = d.level
),
issued AS (
    INSERT INTO supervisions
        (id, event_id, step_id, path, level, source, rule, due_at, issued_at, deduction)
    SELECT gen_random_uuid(), event_id, step_id, path, level, 'auto', rule, due_at, :as_of,
           deduction
    FROM card
    ON CONFLICT (step_id, rule) WHERE source = 'auto' DO NOTHING
    RETURNING id, event_id, step_id, path, rule, level, due_at, deduction
),
charged AS (
    INSERT INTO assessment_ledger (id, unit_id, department_id, path, period, points,
        item_code, reason, event_id, step_id, supervision_id, created_at)
    SELECT gen_random_uuid(), c.unit_id, c.department_id, c.handler_path, c.period,
           i.deduction, c.item_code, c.reason || '（事件 ' || c.service_no || '）',
           i.event_id, i.step_id, i.id, :as_of
    FROM issued i
    JOIN card c ON c.step_id = i.step_id AND c.rule = i.rule
    WHERE i.deduction <> 0
    RETURNING id
)
SELECT i.id, i.event_id, i.path::text AS path, i.rule, i.level,
       (SELECT count(*) FROM charged) AS charged
FROM issued i
""").bindparams(
    bindparam("as_of", type_=DateTime(timezone=True)),
    bindparam("zone", type_=String),
    bindparam("defaults", type_=String),
)


# The issued cards grouped per event for the audit trail, from the statement's own answer
# (reading them back from the cards table would cost more than the whole batch).
_CARDS = text("""
SELECT c.event_id::text AS target_id, c.path::ltree AS unit_path,
       jsonb_build_object(
           'cards', jsonb_agg(jsonb_build_object('id', c.id, 'rule', c.rule, 'level', c.level)
                              ORDER BY c.id),
           'as_of', CAST(:as_of AS text)) AS after
FROM unnest(CAST(:id AS uuid[]), CAST(:event_id AS uuid[]), CAST(:path AS text[]),
            CAST(:rule AS text[]), CAST(:level AS text[])) AS c (id, event_id, path, rule, level)
GROUP BY c.event_id, c.path
ORDER BY c.event_id
""").columns(target_id=String, unit_path=Ltree(), after=JSONB)


async def sweep(ctx: Ctx, as_of: datetime) -> dict[str, int]:
    """Issue every automatic card due by `as_of` (R-SUP-2) and charge its deduction to the
    step's unit or department (R-SUP-5), in one statement; audited once per event. Answers
    `{"issued", "yellow", "red", "deductions"}` — zeros when nothing new was due."""
    rows = (
        await ctx.session.execute(
            SWEEP,
            {
                "as_of": as_of,
                "zone": get_settings().timezone,
                "defaults": assessment_rules.DEFAULTS,
            },
        )
    ).all()
    if not rows:
        return {"issued": 0, "yellow": 0, "red": 0, "deductions": 0}
    # The batch is the transaction's last work: linked to the head as written, it needs no
    # relinking at commit, and the chain waits for it only from here.
    await audit.take_turn(ctx)
    columns = ("id", "event_id", "path", "rule", "level")
    cards = _CARDS.bindparams(
        **{name: [getattr(row, name) for row in rows] for name in columns},
        as_of=as_of.isoformat(),
    )
    await audit.record_select(
        ctx, action="event.supervision_issued", target_type="event", rows=cards
    )
    return {
        "issued": len(rows),
        "yellow": sum(row.level == Level.YELLOW for row in rows),
        "red": sum(row.level == Level.RED for row in rows),
        "deductions": int(rows[0].charged),
    }


async def sweep_as_system(
    maker: async_sessionmaker[AsyncSession], clock: Clock, as_of: datetime | None = None
) -> dict[str, int]:
    """One sweep in a system session of its own, committed on success (worker and CLI);
    `as_of` defaults to the clock's now."""
    async with system_session(maker) as session:
        ctx = Ctx(session=session, principal=SYSTEM, clock=clock)
        return await sweep(ctx, as_of or ctx.now())


async def clear_step(ctx: Ctx, step_id: uuid.UUID) -> None:
    """R-SUP-1: a finished step's open cards are cleared (their deductions stand)."""
    await ctx.session.execute(
        update(Supervision)
        .where(Supervision.step_id == step_id, Supervision.cleared_at.is_(None))
        .values(cleared_at=ctx.now(), cleared_by=ctx.principal.user_id)
        .execution_options(synchronize_session=False)
    )


CARD_COLUMNS = (
    Supervision.id,
    Supervision.step_id,
    Supervision.level,
    Supervision.source,
    Supervision.rule,
    Supervision.due_at,
    Supervision.issued_at,
    Supervision.cleared_at,
    Supervision.deduction,
)


async def cards_of(session: AsyncSession, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """The event's cards, oldest first (the caller has checked the event is visible)."""
    rows = await session.execute(
        select(*CARD_COLUMNS)
        .where(Supervision.event_id == event_id)
        .order_by(Supervision.issued_at, Supervision.due_at, Supervision.id)
    )
    # Shown in the business zone: the event representation holds these as plain dicts.
    return [
        {k: v.astimezone(ZONE) if isinstance(v, datetime) else v for k, v in row._mapping.items()}
        for row in rows
    ]


async def event_supervisions(ctx: Ctx, event_id: uuid.UUID) -> list[dict[str, Any]]:
    """The cards of an event in the caller's jurisdiction; 404 otherwise."""
    found = await ctx.session.scalar(
        select(Event.id).where(Event.id == event_id, visible(ctx.principal))
    )
    if found is None:
        raise NotFound("event_not_found")
    return await cards_of(ctx.session, event_id)


async def _guarded(
    ctx: Ctx, event_id: uuid.UUID, action: Action, expected_version: int | None
) -> tuple[Event, EventStep, Transition]:
    """The checks every workflow action passes (R-WF-1): the supervise permission, the event
    in jurisdiction (404), its version (412) and the caller standing as a superior or leader
    over the current step (403) in a state that allows the action (409)."""
    if not ctx.principal.can(Perm.EVENT_SUPERVISE):
        raise PermissionDenied(params={"permission": Perm.EVENT_SUPERVISE.value})
    event, step = await event_actions._load(ctx, event_id)
    check_version(expected_version, event.version)
    actors = event_actions._actors(ctx, event, step)
    transition = decide(PROCESSES[event.process], State(event.state), action, actors)
    return event, step, transition


def _ledger_line(
    step: EventStep, card: Supervision, *, period: str, reason: str, item_code: str
) -> LedgerLine:
    return LedgerLine(
        unit_id=step.unit_id,
        department_id=step.department_id,
        path=step.handler_path,
        period=period,
        points=card.deduction,
        item_code=item_code,
        reason=reason,
        event_id=card.event_id,
        step_id=step.id,
        supervision_id=card.id,
        created_at=card.issued_at,
    )


async def supervise(
    ctx: Ctx, event_id: uuid.UUID, *, level: Level, opinion: str, expected_version: int | None
) -> dict[str, Any]:
    """R-SUP-1 manual supervision (督办) of the current step by a superior or leader: a
    manual card; a yellow or red one charges its deduction to the step's unit or department
    in this month's ledger (R-SUP-5). Answers the event as it now is."""
    event, step, transition = await _guarded(ctx, event_id, Action.SUPERVISE, expected_version)
    await event_actions._apply(ctx, event, Action.SUPERVISE, transition.target)
    period = ctx.today().strftime("%Y-%m")
    # A normal card deducts nothing; yellow and red cost what the applicable rules say.
    item = (
        None
        if level == Level.NORMAL
        else await assessment_rules.price(
            ctx, step.unit_id, step.department_id, period, f"supervision_{level.value}"
        )
    )
    card = Supervision(
        event_id=event.id,
        step_id=step.id,
        path=event.path,
        level=level.value,
        source="manual",
        opinion=opinion,
        issued_at=ctx.now(),
        deduction=int(item.points) if item else 0,
        created_by=ctx.principal.user_id,
    )
    ctx.session.add(card)
    await ctx.session.flush()
    if item is not None:
        reason = f"人工督办：{opinion}（事件 {event.service_no}）"
        ctx.session.add(_ledger_line(step, card, period=period, reason=reason, item_code=item.code))
    payload = {"level": level.value, "opinion": opinion, "supervision_id": str(card.id)}
    await _record(ctx, event, step, Action.SUPERVISE, transition.target, payload)
    holder = Handler(step.unit_id, step.department_id, step.handler_path)
    await notify_holder(ctx, event, holder, NOTICES[Action.SUPERVISE])
    return await get_event(ctx, event_id)


async def cancel_supervision(
    ctx: Ctx,
    event_id: uuid.UUID,
    supervision_id: uuid.UUID | None,
    *,
    expected_version: int | None,
) -> dict[str, Any]:
    """Cancel an open manual card of the event — the one named, else the latest: it is
    cleared and its deduction reversed by a compensating line (ledger lines are never
    deleted). 404 `supervision_not_found` when there is no such open manual card."""
    event, step, transition = await _guarded(
        ctx, event_id, Action.CANCEL_SUPERVISION, expected_version
    )
    wanted = select(Supervision).where(
        Supervision.event_id == event.id,
        Supervision.source == "manual",
        Supervision.cleared_at.is_(None),
    )
    if supervision_id is not None:
        wanted = wanted.where(Supervision.id == supervision_id)
    card = await ctx.session.scalar(
        wanted.order_by(Supervision.issued_at.desc(), Supervision.id.desc())
        .limit(1)
        .with_for_update()
    )
    if card is None:
        raise NotFound("supervision_not_found")
    await event_actions._apply(ctx, event, Action.CANCEL_SUPERVISION, transition.target)
    card.cleared_at, card.cleared_by = ctx.now(), ctx.principal.user_id
    charged = await ctx.session.scalar(
        select(LedgerLine).where(LedgerLine.supervision_id == card.id)
    )
    if charged is not None:
        ctx.session.add(
            LedgerLine(
                unit_id=charged.unit_id,
                department_id=charged.department_id,
                path=charged.path,
                period=ctx.today().strftime("%Y-%m"),
                points=-charged.points,
                item_code=f"{charged.item_code}_cancelled",
                reason=f"撤销督办，冲回：{charged.reason}",
                event_id=charged.event_id,
                step_id=charged.step_id,
                reverses_id=charged.id,
                created_at=ctx.now(),
            )
        )
    payload = {"supervision_id": str(card.id)}
    await _record(ctx, event, step, Action.CANCEL_SUPERVISION, transition.target, payload)
    return await get_event(ctx, event_id)


async def _record(
    ctx: Ctx, event: Event, step: EventStep, action: Action, to: State, payload: dict[str, Any]
) -> None:
    """A card's action in the event's history, on its current step."""
    row = history(
        ctx,
        event,
        step_id=step.id,
        action=action.value,
        from_state=event.state,
        to_state=to.value,
        payload=payload,
    )
    await record_action(ctx, event, row)
