"""Assessment (R-ASM-1 … R-ASM-5): yearly rule sets per assessed kind with their items, the
manual reviews (self-evaluation and superior scoring), causes and idempotency keys on the
ledger, and the `assessment:write` / `assessment:review` permissions.

Rule sets are read by everyone (an item's points apply to every unit below the owner, and a
card's deduction is priced for whoever charges it), written inside the owner's jurisdiction.
`assessment_item()` is the one place that prices a signal for a unit or department: the
deepest enabled rule set of its kind and year above it, else the shipped defaults the caller
passes in. Ledger points get one decimal (manual scores such as 0.5); `cause_key` is unique,
so every automatic line is written once however often and however concurrently the
accrual runs.

Revision ID: 0021
Revises: 0028
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0021"
down_revision = "0028"
branch_labels = None
depends_on = None

_PERMS = (Perm.ASSESSMENT_WRITE, Perm.ASSESSMENT_REVIEW)

UPGRADE = """
CREATE TABLE assessment_rule_sets (
    id uuid PRIMARY KEY,
    owner_unit_id uuid NOT NULL REFERENCES org_units (id),
    owner_path ltree NOT NULL,
    year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    kind varchar(16) NOT NULL
        CHECK (kind IN ('grid_worker', 'community', 'street', 'district', 'department')),
    name varchar(200) NOT NULL,
    state varchar(16) NOT NULL CHECK (state IN ('draft', 'enabled', 'archived')),
    copied_from_id uuid REFERENCES assessment_rule_sets (id),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid
);
CREATE UNIQUE INDEX uq_assessment_rule_sets_enabled
    ON assessment_rule_sets (owner_unit_id, year, kind) WHERE state = 'enabled';
CREATE INDEX ix_assessment_rule_sets_owner_path ON assessment_rule_sets USING gist (owner_path);

CREATE TABLE assessment_rule_items (
    id uuid PRIMARY KEY,
    rule_set_id uuid NOT NULL REFERENCES assessment_rule_sets (id) ON DELETE CASCADE,
    owner_path ltree NOT NULL,
    position integer NOT NULL,
    code varchar(32) NOT NULL,
    text varchar(200) NOT NULL,
    points numeric(4, 1) NOT NULL CHECK (points <> 0),
    signal varchar(32),
    cap numeric(5, 1) CHECK (cap > 0),
    CONSTRAINT uq_assessment_rule_items_code UNIQUE (rule_set_id, code),
    CONSTRAINT uq_assessment_rule_items_signal UNIQUE (rule_set_id, signal)
);

DO $$
DECLARE tbl text;
BEGIN
    FOREACH tbl IN ARRAY ARRAY['assessment_rule_sets', 'assessment_rule_items'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', tbl);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', tbl);
        EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (true)', tbl || '_read', tbl);
        EXECUTE format('CREATE POLICY %I ON %I FOR INSERT WITH CHECK '
                       '(grid_scope_contains(owner_path))', tbl || '_insert', tbl);
        EXECUTE format('CREATE POLICY %I ON %I FOR UPDATE USING (grid_scope_contains(owner_path))'
                       ' WITH CHECK (grid_scope_contains(owner_path))', tbl || '_update', tbl);
        EXECUTE format('CREATE POLICY %I ON %I FOR DELETE USING '
                       '(grid_scope_contains(owner_path))', tbl || '_delete', tbl);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO grid_app', tbl);
    END LOOP;
END $$;

CREATE TABLE assessment_reviews (
    id uuid PRIMARY KEY,
    unit_id uuid REFERENCES org_units (id),
    department_id uuid REFERENCES departments (id),
    path ltree NOT NULL,
    kind varchar(16) NOT NULL,
    period varchar(7) NOT NULL,
    state varchar(16) NOT NULL
        CHECK (state IN ('self_evaluating', 'submitted', 'scored', 'archived')),
    self_scores jsonb NOT NULL DEFAULT '[]',
    self_comment text,
    scores jsonb NOT NULL DEFAULT '[]',
    comment text,
    submitted_at timestamptz,
    submitted_by uuid,
    scored_at timestamptz,
    scored_by uuid,
    archived_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid,
    CONSTRAINT ck_assessment_reviews_holder CHECK (num_nonnulls(unit_id, department_id) = 1),
    CONSTRAINT uq_assessment_reviews_unit_id UNIQUE (unit_id, period),
    CONSTRAINT uq_assessment_reviews_department_id UNIQUE (department_id, period)
);
CREATE INDEX ix_assessment_reviews_path ON assessment_reviews USING gist (path);
SELECT grid_registry_table('assessment_reviews');

ALTER TABLE assessment_ledger
    ALTER COLUMN points TYPE numeric(6, 1),
    ALTER COLUMN item_code TYPE varchar(48),
    ADD COLUMN action_id uuid REFERENCES event_actions (id),
    ADD COLUMN appeal_id uuid REFERENCES event_appeals (id),
    ADD COLUMN review_id uuid REFERENCES assessment_reviews (id),
    ADD COLUMN cause_key text,
    ADD CONSTRAINT uq_assessment_ledger_cause_key UNIQUE (cause_key);
CREATE INDEX ix_assessment_ledger_period ON assessment_ledger (period);

-- The enabled rule set that applies to a holder at `p_path`: its kind and year, owned by the
-- nearest unit above it (a street's own rules win over the district's).
CREATE FUNCTION assessment_rule_set(p_kind text, p_path ltree, p_year integer)
RETURNS uuid LANGUAGE sql STABLE AS $$
    SELECT id FROM assessment_rule_sets
    WHERE state = 'enabled' AND kind = p_kind AND year = p_year AND owner_path @> p_path
    ORDER BY nlevel(owner_path) DESC
    LIMIT 1
$$;

-- A signal priced for a unit or department in a period ('YYYY-MM'): its kind, its path and
-- the item of the applicable rule set, or the default of `p_defaults` (kind → signal →
-- {code, points, cap}) when no rule set is enabled; no row when the set has no such item.
CREATE FUNCTION assessment_item(
    p_unit uuid, p_department uuid, p_period text, p_signal text, p_defaults jsonb
) RETURNS TABLE (kind text, holder_path ltree, code text, points numeric, cap numeric)
LANGUAGE sql STABLE AS $$
    WITH holder AS (
        SELECT CASE WHEN d.id IS NOT NULL THEN 'department'
                    WHEN u.level = 'grid' THEN 'grid_worker'
                    ELSE u.level::text END AS kind,
               COALESCE(d.path, u.path) AS path
        FROM (SELECT 1) AS one
        LEFT JOIN departments d ON d.id = p_department
        LEFT JOIN org_units u ON u.id = p_unit AND p_department IS NULL
    ),
    chosen AS (
        SELECT h.kind, h.path,
               assessment_rule_set(h.kind, h.path, left(p_period, 4)::integer) AS set_id
        FROM holder h WHERE h.path IS NOT NULL
    )
    SELECT c.kind, c.path, i.code::text, i.points, i.cap
    FROM chosen c
    JOIN assessment_rule_items i ON i.rule_set_id = c.set_id AND i.signal = p_signal
    UNION ALL
    SELECT c.kind, c.path, x.d ->> 'code', (x.d ->> 'points')::numeric, (x.d ->> 'cap')::numeric
    FROM chosen c CROSS JOIN LATERAL (SELECT p_defaults -> c.kind -> p_signal) AS x (d)
    WHERE c.set_id IS NULL AND x.d IS NOT NULL
$$;
"""

DOWNGRADE = """
DROP FUNCTION assessment_item(uuid, uuid, text, text, jsonb);
DROP FUNCTION assessment_rule_set(text, ltree, integer);
DROP INDEX ix_assessment_ledger_period;
DELETE FROM assessment_ledger WHERE review_id IS NOT NULL OR cause_key IS NOT NULL;
ALTER TABLE assessment_ledger
    DROP COLUMN cause_key,
    DROP COLUMN review_id,
    DROP COLUMN appeal_id,
    DROP COLUMN action_id,
    ALTER COLUMN item_code TYPE varchar(32),
    ALTER COLUMN points TYPE integer USING round(points)::integer;
DROP TABLE assessment_reviews;
DROP TABLE assessment_rule_items;
DROP TABLE assessment_rule_sets;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
