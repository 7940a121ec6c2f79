"""Supervision cards (R-SUP-1, R-SUP-2) and the assessment ledger (R-SUP-5), and the
`assessment:read` permission.

Cards carry the EVENT's path (like steps); ledger lines the path of the unit charged (a
department's own unit). The partial unique index on (step, rule) for automatic cards makes the
sweep idempotent under concurrent workers; `supervision_id` is unique on the ledger for the
deduction of a card, a compensating line (a cancelled manual card) names it in
`reverses_id` instead.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE supervisions (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id),
    step_id uuid NOT NULL REFERENCES event_steps (id),
    path ltree NOT NULL,
    level varchar(8) NOT NULL CHECK (level IN ('normal', 'yellow', 'red')),
    source varchar(8) NOT NULL CHECK (source IN ('auto', 'manual')),
    rule varchar(32),
    opinion text,
    due_at timestamptz,
    issued_at timestamptz NOT NULL,
    cleared_at timestamptz,
    cleared_by uuid,
    deduction integer NOT NULL DEFAULT 0,
    created_by uuid,
    CONSTRAINT ck_supervisions_rule CHECK ((source = 'auto') = (rule IS NOT NULL))
);
CREATE UNIQUE INDEX uq_supervisions_step_rule ON supervisions (step_id, rule)
    WHERE source = 'auto';
CREATE INDEX ix_supervisions_event ON supervisions (event_id, issued_at);
CREATE INDEX ix_supervisions_open ON supervisions (step_id) WHERE cleared_at IS NULL;
SELECT grid_registry_table('supervisions');

CREATE TABLE assessment_ledger (
    id uuid PRIMARY KEY,
    unit_id uuid REFERENCES org_units (id),
    department_id uuid REFERENCES departments (id),
    path ltree NOT NULL,
    period char(7) NOT NULL,
    points integer NOT NULL,
    item_code varchar(32) NOT NULL,
    reason text NOT NULL,
    event_id uuid REFERENCES events (id),
    step_id uuid REFERENCES event_steps (id),
    supervision_id uuid REFERENCES supervisions (id),
    reverses_id uuid REFERENCES assessment_ledger (id),
    created_at timestamptz NOT NULL,
    CONSTRAINT uq_assessment_ledger_supervision_id UNIQUE (supervision_id),
    CONSTRAINT uq_assessment_ledger_reverses_id UNIQUE (reverses_id),
    CONSTRAINT ck_assessment_ledger_holder CHECK (num_nonnulls(unit_id, department_id) = 1)
);
CREATE INDEX ix_assessment_ledger_unit ON assessment_ledger (unit_id, period);
CREATE INDEX ix_assessment_ledger_department ON assessment_ledger (department_id, period);
CREATE INDEX ix_assessment_ledger_path ON assessment_ledger USING gist (path);
SELECT grid_registry_table('assessment_ledger');
"""

_PERMS = (Perm.ASSESSMENT_READ,)


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + "DROP TABLE assessment_ledger; DROP TABLE supervisions;")
