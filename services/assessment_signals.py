"""The system signals of R-ASM-3 as queries over what the platform recorded: cards, steps, the
workflow history (verifications, appeal decisions) and events. Each query yields candidate
ledger lines with a `cause_key` naming their cause once and for all (a query leaves out the
cause columns it has no use for); `services.
assessment_accrual` prices and writes them. Periods are business-zone months; month and year
signals are read only for periods that have ended, from a district's first event on."""

from sqlalchemy import DateTime, Numeric, String, TextClause, bindparam, text

from domain.workflow import PROCESSES

# Every candidate has these columns, in this order (the accrual reads them by name).
CANDIDATE_COLUMNS = (
    "cause_key",
    "signal",
    "less_signal",
    "unit_id",
    "department_id",
    "period",
    "event_id",
    "step_id",
    "supervision_id",
    "action_id",
    "appeal_id",
    "finding_id",
    "quantity",
    "reason",
)


def _q(sql: str, *, candidates: bool = True) -> TextClause:
    """A statement of this module, its instant and business zone typed for the driver; a
    candidates query yields only lines not yet in the ledger, so a re-run ships nothing."""
    if candidates:
        sql = (
            f"SELECT * FROM ({sql}) AS candidate WHERE NOT EXISTS "
            "(SELECT 1 FROM assessment_ledger l WHERE l.cause_key = candidate.cause_key)"
        )
    clause = text(sql).bindparams(bindparam("as_of", type_=DateTime(timezone=True)))
    if ":zone" in sql:
        clause = clause.bindparams(bindparam("zone", type_=String))
    if ":threshold" in sql:
        clause = clause.bindparams(bindparam("threshold", type_=Numeric))
    return clause


def _period(column: str) -> str:
    return f"to_char({column} AT TIME ZONE :zone, 'YYYY-MM')"


def _case(label: str) -> str:
    return f"'{label}（事件 ' || e.service_no || '）'"


# Lateness seen by the sweep's cards (R-SUP-2) is also an item of its own: sign-for,
# investigation (no feedback in 5 working days) and handling (none in 10) overdue. The line
# names the step; the card's own line is the one that names the card (unique per card).
CARD_LATENESS = _q(f"""
SELECT t.signal || ':' || c.step_id AS cause_key, t.signal, NULL AS less_signal,
       s.unit_id, s.department_id, {_period("c.due_at")} AS period, c.event_id, c.step_id,
       NULL::uuid AS supervision_id, NULL::uuid AS action_id, NULL::uuid AS appeal_id,
       1 AS quantity,
       t.label || '（事件 ' || e.service_no || '）' AS reason
FROM supervisions c
JOIN event_steps s ON s.id = c.step_id
JOIN events e ON e.id = c.event_id
JOIN (VALUES ('accept_24h', 'accept_overdue', '签收超时'),
             ('accept_12h_priority', 'accept_overdue', '签收超时'),
             ('handle_5wd', 'investigate_overdue', '调查超时'),
             ('handle_10wd', 'handle_overdue', '办理超时')) AS t (rule, signal, label)
  ON t.rule = c.rule
WHERE c.source = 'auto' AND c.issued_at <= :as_of
""")

# Sign-for later than the limit by more than 3 or 30 days: each tier adds what it costs
# beyond the tier below (`less_signal`), so a step pays its worst tier in total.
ACCEPT_TIERS = _q(f"""
SELECT t.signal || ':' || s.id AS cause_key, t.signal, t.less_signal,
       s.unit_id, s.department_id, {_period("w.late_at")} AS period, s.event_id, s.id AS step_id,
       NULL::uuid AS supervision_id, NULL::uuid AS action_id, NULL::uuid AS appeal_id,
       1 AS quantity, t.label || '（事件 ' || e.service_no || '）' AS reason
FROM event_steps s
JOIN events e ON e.id = s.event_id
CROSS JOIN (VALUES ('accept_overdue_3d', 'accept_overdue', interval '3 days',
                    '签收超时3天以上'),
                   ('accept_overdue_30d', 'accept_overdue_3d', interval '30 days',
                    '签收超时30天以上')) AS t (signal, less_signal, beyond, label)
CROSS JOIN LATERAL (SELECT s.assigned_at + t.beyond + CASE WHEN e.is_major OR e.is_urgent
                    THEN interval '12 hours' ELSE interval '24 hours' END AS late_at) AS w
WHERE w.late_at <= :as_of
  AND w.late_at < COALESCE(s.accepted_at, s.finished_at, 'infinity')
  AND EXISTS (SELECT 1 FROM supervisions c WHERE c.step_id = s.id AND c.source = 'auto'
              AND c.rule IN ('accept_24h', 'accept_12h_priority'))
""")

# The instant a completed step's result is due to be judged by (R-ASM-3 "当日"): the end of
# the completion day in the business zone.
_JUDGE_BY = "((s.finished_at AT TIME ZONE :zone)::date + 1)::timestamp AT TIME ZONE :zone"

# Verifications (R-WF-2): unsatisfied / not implemented count against the judged step's
# holder; satisfied on a major event is a bonus for it. A verification — the community's
# evaluation and its 办结/未落实 click in one action — recorded after the completion day
# costs the verifying unit both items; the evaluation is charged per step (`UNVERIFIED`
# charges it the same way when it has not come by then).
VERIFICATIONS = _q(f"""
SELECT v.signal || ':' || CASE WHEN v.signal = 'verify_late' THEN s.id ELSE a.id END
           AS cause_key, v.signal, NULL AS less_signal,
       CASE WHEN v.late THEN a.actor_unit_id ELSE s.unit_id END AS unit_id,
       CASE WHEN v.late THEN NULL ELSE s.department_id END AS department_id,
       CASE WHEN v.late THEN {_period("w.judge_by")} ELSE {_period("a.at")} END AS period,
       a.event_id, a.step_id, NULL::uuid AS supervision_id,
       a.id AS action_id, NULL::uuid AS appeal_id, 1 AS quantity,
       v.label || '（事件 ' || e.service_no || '）' AS reason
FROM event_actions a
JOIN event_steps s ON s.id = a.step_id
JOIN events e ON e.id = a.event_id
CROSS JOIN LATERAL (SELECT {_JUDGE_BY} AS judge_by) AS w
CROSS JOIN LATERAL (SELECT a.actor_unit_id IS NOT NULL AND s.finished_at IS NOT NULL
                           AND a.at >= w.judge_by AS recorded_late) AS r
CROSS JOIN LATERAL (VALUES
    (CASE a.payload ->> 'satisfaction'
          WHEN 'unsatisfied' THEN 'verify_unsatisfied'
          WHEN 'not_implemented' THEN 'verify_not_implemented'
          WHEN 'satisfied' THEN CASE WHEN e.is_major THEN 'major_satisfied' END END,
     CASE a.payload ->> 'satisfaction'
          WHEN 'unsatisfied' THEN '核查评价不满意'
          WHEN 'not_implemented' THEN '核查未落实'
          ELSE '重大事件处置群众满意' END, false),
    (CASE WHEN r.recorded_late THEN 'verify_late' END, '办结结果未当日评价', true),
    (CASE WHEN r.recorded_late AND a.payload ->> 'satisfaction' IN ('satisfied', 'not_implemented')
          THEN 'close_late' END, '未当日点击办结或未落实', true)) AS v (signal, label, late)
WHERE a.action = 'verify' AND a.at <= :as_of AND v.signal IS NOT NULL
""")

_VERIFIED_PROCESSES = ", ".join(f"'{p.code}'" for p in PROCESSES.values() if p.verification)

# A completed step nobody verified by the end of its completion day, seen once that day is
# over (R-ASM-3): the evaluation is late even before it comes, charged to the community the
# event was reported in, under the same cause as a late verification recorded afterwards.
# A step verified by :as_of is left to `VERIFICATIONS`, so one run never offers both.
UNVERIFIED = _q(f"""
SELECT 'verify_late:' || s.id AS cause_key, 'verify_late' AS signal, NULL AS less_signal,
       subpath(e.path, nlevel(e.path) - 2, 1)::text::uuid AS unit_id,
       NULL::uuid AS department_id, {_period("w.judge_by")} AS period, s.event_id,
       s.id AS step_id, 1 AS quantity,
       '办结结果未当日评价（事件 ' || e.service_no || '）' AS reason
FROM event_steps s
JOIN events e ON e.id = s.event_id
CROSS JOIN LATERAL (SELECT {_JUDGE_BY} AS judge_by) AS w
WHERE s.outcome = 'completed' AND e.process IN ({_VERIFIED_PROCESSES})
  AND w.judge_by <= :as_of AND nlevel(e.path) >= 2
  AND NOT EXISTS (SELECT 1 FROM event_actions a
                  WHERE a.step_id = s.id AND a.action = 'verify' AND a.at <= :as_of)
""")

# Standing findings (考核认定): one line each, in the month recorded, pointing at it; one
# revoked by :as_of is not charged, and its line, if written before, is compensated
# (`FINDING_REVERSALS`).
FINDINGS = _q("""
SELECT f.kind || ':' || f.id AS cause_key, f.kind AS signal, NULL AS less_signal, f.unit_id,
       NULL::uuid AS department_id, f.period, f.event_id, f.id AS finding_id, 1 AS quantity,
       k.label || '（事件 ' || e.service_no || '）：' || f.note AS reason
FROM assessment_findings f
JOIN events e ON e.id = f.event_id
JOIN (VALUES ('petition_uncollected', '矛盾未排查化解导致越级或群体性上访'),
             ('dispute_pushed_up', '可化解矛盾推诿上交'),
             ('wrong_submission', '错报引起投诉'),
             ('escalation_uncooperative', '上报后不配合处置')) AS k (kind, label)
  ON k.kind = f.kind
WHERE f.created_at <= :as_of AND (f.revoked_at IS NULL OR f.revoked_at > :as_of)
""")

# An upheld appeal (R-WF-2) charges the evaluator; the contested deduction is reversed
# separately (`REVERSALS`).
APPEALS_UPHELD = _q(f"""
SELECT 'appeal_upheld:' || ap.id AS cause_key, 'appeal_upheld' AS signal, NULL AS less_signal,
       ap.evaluator_unit_id AS unit_id, NULL::uuid AS department_id, {_period("a.at")} AS period,
       a.event_id, ap.step_id, NULL::uuid AS supervision_id, a.id AS action_id,
       ap.id AS appeal_id, 1 AS quantity, {_case("恶意评价经申诉成立")} AS reason
FROM event_actions a
JOIN event_appeals ap ON ap.id = (a.payload ->> 'appeal_id')::uuid
JOIN events e ON e.id = a.event_id
WHERE a.action = 'decide-appeal' AND (a.payload ->> 'upheld')::boolean
  AND ap.evaluator_unit_id IS NOT NULL AND a.at <= :as_of
""")

# The months (and years) that have ended by :as_of, per district, from its first event.
_MONTHS = """
districts AS (
    SELECT d.id, d.path,
           date_trunc('month', min(e.created_at) AT TIME ZONE :zone) AS first_month
    FROM org_units d JOIN events e ON e.path <@ d.path
    WHERE d.level = 'district' AND d.deleted_at IS NULL
    GROUP BY d.id, d.path
),
months AS (
    SELECT dd.id AS district_id, dd.path AS district_path, to_char(m, 'YYYY-MM') AS period
    FROM districts dd
    CROSS JOIN generate_series(dd.first_month,
        date_trunc('month', :as_of AT TIME ZONE :zone) - interval '1 month',
        interval '1 month') AS m
),
years AS (
    SELECT DISTINCT district_id, district_path, left(period, 4) AS year FROM months
    WHERE right(period, 2) = '12'
)"""

# Monthly entries (录入) of communities and grids: events reported in their area, ranked
# among the same level of their district: none −5; bottom three (of those with entries)
# −3; top three +2. Cause: the month's bulletin.
MONTHLY_ENTRIES = _q(f"""
WITH {_MONTHS},
reported AS (
    SELECT e.path, {_period("e.created_at")} AS period, count(*) AS n
    FROM events e GROUP BY 1, 2
),
counts AS (
    SELECT u.id AS unit_id, u.level, m.district_id, m.period,
           COALESCE((SELECT sum(r.n) FROM reported r
                     WHERE r.path <@ u.path AND r.period = m.period), 0) AS n
    FROM months m
    JOIN org_units u ON u.path <@ m.district_path AND u.level IN ('community', 'grid')
    WHERE u.deleted_at IS NULL
),
ranked AS (
    SELECT c.*,
           rank() OVER (PARTITION BY district_id, level, period ORDER BY n DESC) AS top,
           rank() OVER (PARTITION BY district_id, level, period, n > 0 ORDER BY n) AS bottom
    FROM counts c
),
chosen AS (
    SELECT r.*, CASE WHEN n = 0 THEN 'entries_none' WHEN top <= 3 THEN 'entries_top3'
                     WHEN bottom <= 3 THEN 'entries_bottom3' END AS signal
    FROM ranked r
)
SELECT signal || ':' || unit_id || ':' || period AS cause_key, signal, NULL AS less_signal,
       unit_id, NULL::uuid AS department_id, period, NULL::uuid AS event_id,
       NULL::uuid AS step_id, NULL::uuid AS supervision_id, NULL::uuid AS action_id,
       NULL::uuid AS appeal_id, 1 AS quantity,
       period || ' 月录入事件 ' || n || ' 件' ||
           CASE WHEN signal = 'entries_top3' THEN '，排名第 ' || top
                WHEN signal = 'entries_bottom3' THEN '，排名倒数第 ' || bottom ELSE '' END
           AS reason
FROM chosen WHERE signal IS NOT NULL
""")

# Steps accepted per holder and month, and whether the month was clean: no automatic card
# due and no unsatisfied or not-implemented verification on the holder's steps. The bonus
# quantity is the domain's (`accepted_bonus_quantity`).
MONTHLY_ACCEPTED = _q(
    f"""
WITH {_MONTHS},
holders AS (
    SELECT s.unit_id, s.department_id, {_period("s.accepted_at")} AS period,
           COALESCE(s.department_id, s.unit_id) AS holder, count(*) AS accepted
    FROM event_steps s
    WHERE s.accepted_at IS NOT NULL AND s.accepted_at <= :as_of
    GROUP BY 1, 2, 3, 4
)
SELECT h.*, NOT EXISTS (
        SELECT 1 FROM supervisions c JOIN event_steps s ON s.id = c.step_id
        WHERE c.source = 'auto' AND {_period("c.due_at")} = h.period
          AND COALESCE(s.department_id, s.unit_id) = h.holder)
    AND NOT EXISTS (
        SELECT 1 FROM event_actions a JOIN event_steps s ON s.id = a.step_id
        WHERE a.action = 'verify' AND {_period("a.at")} = h.period
          AND a.payload ->> 'satisfaction' IN ('unsatisfied', 'not_implemented')
          AND COALESCE(s.department_id, s.unit_id) = h.holder) AS clean
FROM holders h
WHERE h.period IN (SELECT period FROM months)
""",
    candidates=False,
)

# The year's rankings (R-ASM-3): most cases completed among the streets, districts and
# departments of a district (+5, ties share it); top three communities by disputes they
# completed (+5). Charged to December of that year.
YEARLY_CASES = _q(f"""
WITH {_MONTHS},
done AS (
    SELECT y.district_id, y.year, s.unit_id, s.department_id,
           CASE WHEN s.department_id IS NOT NULL THEN 'department' ELSE u.level END AS kind,
           count(*) AS n, count(*) FILTER (WHERE e.category = 'dispute') AS disputes
    FROM years y
    JOIN event_steps s ON s.handler_path <@ y.district_path AND s.outcome = 'completed'
         AND {_period("s.finished_at")} LIKE y.year || '-%'
    JOIN events e ON e.id = s.event_id
    LEFT JOIN org_units u ON u.id = s.unit_id
    GROUP BY 1, 2, 3, 4, 5
),
ranked AS (
    SELECT d.*, rank() OVER (PARTITION BY district_id, year, kind ORDER BY n DESC) AS by_cases,
           rank() OVER (PARTITION BY district_id, year, kind ORDER BY disputes DESC) AS by_disputes
    FROM done d
),
chosen AS (
    SELECT r.*, 'year_most_cases' AS signal, '全年办结 ' || n || ' 件，排名第一' AS label
    FROM ranked r WHERE kind IN ('street', 'district', 'department') AND by_cases = 1
    UNION ALL
    SELECT r.*, 'year_disputes_top3',
           '全年办结矛盾纠纷 ' || disputes || ' 件，排名第 ' || by_disputes
    FROM ranked r WHERE kind = 'community' AND by_disputes <= 3 AND disputes > 0
)
SELECT signal || ':' || COALESCE(department_id, unit_id) || ':' || year AS cause_key, signal,
       NULL AS less_signal, unit_id, department_id, year || '-12' AS period,
       NULL::uuid AS event_id, NULL::uuid AS step_id, NULL::uuid AS supervision_id,
       NULL::uuid AS action_id, NULL::uuid AS appeal_id, 1 AS quantity,
       year || ' 年' || label AS reason
FROM chosen
""")

# "No wrong submission all year" (R-ASM-3): a community or grid that had entries in a year
# that has ended and no wrong-submission finding standing in it, +5 in December.
YEAR_NO_WRONG_SUBMISSION = _q(f"""
WITH {_MONTHS}
SELECT 'year_no_wrong_submission:' || u.id || ':' || y.year AS cause_key,
       'year_no_wrong_submission' AS signal, NULL AS less_signal, u.id AS unit_id,
       NULL::uuid AS department_id, y.year || '-12' AS period, 1 AS quantity,
       y.year || ' 年全年无错报' AS reason
FROM years y
JOIN org_units u ON u.path <@ y.district_path AND u.level IN ('community', 'grid')
     AND u.deleted_at IS NULL
WHERE EXISTS (SELECT 1 FROM events e
              WHERE e.path <@ u.path AND to_char(e.created_at AT TIME ZONE :zone, 'YYYY') = y.year)
  AND NOT EXISTS (SELECT 1 FROM assessment_findings f
                  WHERE f.unit_id = u.id AND f.kind = 'wrong_submission'
                    AND left(f.period, 4) = y.year AND f.created_at <= :as_of
                    AND (f.revoked_at IS NULL OR f.revoked_at > :as_of))
""")

# R-ASM-4: a community's (a street's) deductions of a month — net of reversals, its own
# lines, not the joint liability it carries itself — reaching the threshold charge its
# street (its district) once per deducted case: an event, or a line without one.
JOINT_LIABILITY = _q(f"""
WITH {_MONTHS},
deducted AS (
    SELECT l.unit_id, u.parent_id, u.name, l.period,
           COALESCE(l.event_id::text, 'line:' || COALESCE(o.id, l.id)) AS case_key,
           min(l.event_id::text)::uuid AS event_id, sum(l.points) AS net
    FROM assessment_ledger l
    JOIN org_units u ON u.id = l.unit_id AND u.level IN ('community', 'street')
    LEFT JOIN assessment_ledger o ON o.id = l.reverses_id
    WHERE l.period IN (SELECT period FROM months)
      AND (l.points < 0 OR o.points < 0)
      AND COALESCE(COALESCE(o.cause_key, l.cause_key), '') NOT LIKE 'joint\\_liability:%'
    GROUP BY 1, 2, 3, 4, 5
),
liable AS (
    SELECT d.*, -sum(net) OVER (PARTITION BY unit_id, period) AS total
    FROM deducted d WHERE net < 0
)
SELECT 'joint_liability:' || unit_id || ':' || period || ':' || case_key AS cause_key,
       'joint_liability' AS signal, NULL AS less_signal, parent_id AS unit_id,
       NULL::uuid AS department_id, period, event_id, NULL::uuid AS step_id,
       NULL::uuid AS supervision_id, NULL::uuid AS action_id, NULL::uuid AS appeal_id,
       1 AS quantity,
       '连带责任：' || name || ' ' || period || ' 月扣分 ' || total || ' 分' AS reason
FROM liable WHERE total >= :threshold AND parent_id IS NOT NULL
""")

# The deduction an upheld appeal contests is reversed by a compensating line in the month
# of the decision (ledger lines are never deleted).
REVERSALS = _q(
    f"""
INSERT INTO assessment_ledger (id, unit_id, department_id, path, period, points, item_code,
    reason, event_id, step_id, action_id, appeal_id, reverses_id, cause_key, created_at)
SELECT gen_random_uuid(), l.unit_id, l.department_id, l.path, {_period("a.at")}, -l.points,
       l.item_code || '_reversed', '申诉成立，冲回：' || l.reason, l.event_id, l.step_id, a.id,
       ap.id, l.id, 'reverse:' || l.id, :as_of
FROM event_actions a
JOIN event_appeals ap ON ap.id = (a.payload ->> 'appeal_id')::uuid
JOIN assessment_ledger l ON l.cause_key IN ('verify_unsatisfied:' || ap.verify_action_id,
                                           'verify_not_implemented:' || ap.verify_action_id)
WHERE a.action = 'decide-appeal' AND (a.payload ->> 'upheld')::boolean AND a.at <= :as_of
ON CONFLICT DO NOTHING
RETURNING points
""",
    candidates=False,
)

# The line a revoked finding caused is compensated in its own period (still open: a finding
# is revoked only before the period's review is archived).
FINDING_REVERSALS = _q(
    """
INSERT INTO assessment_ledger (id, unit_id, department_id, path, period, points, item_code,
    reason, event_id, finding_id, reverses_id, cause_key, created_at)
SELECT gen_random_uuid(), l.unit_id, l.department_id, l.path, l.period, -l.points,
       l.item_code || '_reversed', '认定撤销，冲回：' || l.reason, l.event_id, f.id, l.id,
       'reverse:' || l.id, :as_of
FROM assessment_findings f
JOIN assessment_ledger l ON l.cause_key = f.kind || ':' || f.id
WHERE f.revoked_at <= :as_of
ON CONFLICT DO NOTHING
RETURNING points
""",
    candidates=False,
)

EVENT_SIGNALS: tuple[TextClause, ...] = (
    CARD_LATENESS,
    ACCEPT_TIERS,
    VERIFICATIONS,
    UNVERIFIED,
    APPEALS_UPHELD,
    FINDINGS,
)
PERIOD_SIGNALS: tuple[TextClause, ...] = (MONTHLY_ENTRIES, YEARLY_CASES, YEAR_NO_WRONG_SUBMISSION)
REVERSAL_STATEMENTS: tuple[TextClause, ...] = (REVERSALS, FINDING_REVERSALS)
