"""Assessment findings (考核认定, R-ASM-3): what a superior finds on an event against the
community that reported or handled it — a petition caused by an uncollected dispute, a
resolvable dispute pushed up, a wrong submission with a complaint, no cooperation after
escalation. Row-secured by the charged unit's path; at most one standing finding of a kind
per event and unit. Ledger lines point at the finding that caused them.

A late verification is charged once per verified step, whether the verification came late
or never came by the end of the completion day: its cause key names the step from now on.

Imports (R-IMP-1) get a heartbeat, beaten by every batch, and the number of runs started,
so an import whose worker died is taken back and run again, or failed after a few runs.
Abandoned resumable upload sessions are deleted by the worker: it may delete uploads, and
finds the receiving ones by their last touch.

Revision ID: 0031
Revises: 0030
"""

from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE assessment_findings (
    id uuid PRIMARY KEY,
    kind varchar(32) NOT NULL CHECK (kind IN ('petition_uncollected', 'dispute_pushed_up',
                                              'wrong_submission', 'escalation_uncooperative')),
    event_id uuid NOT NULL REFERENCES events (id),
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    period varchar(7) NOT NULL,
    note text NOT NULL,
    recorded_by uuid,
    recorder_unit_id uuid REFERENCES org_units (id),
    revoked_at timestamptz,
    revoked_by uuid,
    revoke_reason text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT ck_assessment_findings_revoked
        CHECK ((revoked_at IS NULL) = (revoke_reason IS NULL))
);
CREATE UNIQUE INDEX uq_assessment_findings_standing
    ON assessment_findings (event_id, unit_id, kind) WHERE revoked_at IS NULL;
CREATE INDEX ix_assessment_findings_path ON assessment_findings USING gist (path);
CREATE INDEX ix_assessment_findings_unit_period ON assessment_findings (unit_id, period);
SELECT grid_registry_table('assessment_findings');

ALTER TABLE assessment_ledger ADD COLUMN finding_id uuid REFERENCES assessment_findings (id);
UPDATE assessment_ledger SET cause_key = 'verify_late:' || step_id
WHERE cause_key LIKE 'verify\\_late:%' AND step_id IS NOT NULL;

ALTER TABLE imports ADD COLUMN heartbeat_at timestamptz,
    ADD COLUMN attempts integer NOT NULL DEFAULT 0;
UPDATE imports SET attempts = 1, heartbeat_at = started_at WHERE started_at IS NOT NULL;

GRANT DELETE ON uploads TO grid_app;
CREATE INDEX ix_uploads_receiving ON uploads (updated_at) WHERE state = 'receiving';
"""

DOWNGRADE = """
DROP INDEX ix_uploads_receiving;
REVOKE DELETE ON uploads FROM grid_app;
ALTER TABLE imports DROP COLUMN attempts, DROP COLUMN heartbeat_at;
UPDATE assessment_ledger SET cause_key = 'verify_late:' || action_id
WHERE cause_key LIKE 'verify\\_late:%' AND action_id IS NOT NULL;
DELETE FROM assessment_ledger WHERE cause_key LIKE 'verify\\_late:%' AND action_id IS NULL;
DELETE FROM assessment_ledger WHERE finding_id IS NOT NULL;
ALTER TABLE assessment_ledger DROP COLUMN finding_id;
DROP TABLE assessment_findings;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
