"""Field work, offline sync and daily work (R-MOB-1, R-MOB-2, R-DAY-1, R-DAY-2).

Visit logs, check-ins and track points are filed under the path of the grid or unit they
were made in (row-level security as for the registries); at most one check-in per user is
open at a time. Track points are keyed by (user, instant), so a batch sent twice stores each
point once. Sync operations remember each client operation id per user, so a replayed batch
applies nothing twice. Handbooks are read from above and below their unit, so they are not
row-level secured (nothing personal in them). Periodic reports are unique per unit, form and
period; ledger entries are kept per unit and year.

Revision ID: 0026
Revises: 0024
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0026"
down_revision = "0024"
branch_labels = None
depends_on = None

_PERMS = (
    Perm.VISIT_READ,
    Perm.VISIT_WRITE,
    Perm.TRACK_READ,
    Perm.HANDBOOK_READ,
    Perm.HANDBOOK_WRITE,
    Perm.DAILY_READ,
    Perm.DAILY_WRITE,
)

UPGRADE = """
-- Numbered under the audit chain's lock, so the sync pull never skips a late commit.
CREATE SEQUENCE field_change_serial_seq;
GRANT USAGE ON SEQUENCE field_change_serial_seq TO grid_app;

CREATE TABLE visit_logs (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    visited_at timestamptz NOT NULL,
    topic varchar(16) NOT NULL,
    content text NOT NULL,
    location geometry(Point, 4326),
    person_id uuid REFERENCES people (id),
    house_id uuid REFERENCES houses (id),
    serial bigint NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ix_visit_logs_path ON visit_logs USING gist (path);
CREATE INDEX ix_visit_logs_serial ON visit_logs (serial);
CREATE INDEX ix_visit_logs_person ON visit_logs (person_id) WHERE person_id IS NOT NULL;
CREATE INDEX ix_visit_logs_house ON visit_logs (house_id) WHERE house_id IS NOT NULL;
SELECT grid_registry_table('visit_logs');

CREATE TABLE check_ins (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    path ltree NOT NULL,
    checked_in_at timestamptz NOT NULL,
    in_location geometry(Point, 4326) NOT NULL,
    checked_out_at timestamptz,
    out_location geometry(Point, 4326),
    CONSTRAINT ck_check_ins_out_after_in CHECK (checked_out_at >= checked_in_at),
    CONSTRAINT ck_check_ins_out_located CHECK ((checked_out_at IS NULL) = (out_location IS NULL))
);
CREATE UNIQUE INDEX uq_check_ins_open ON check_ins (user_id) WHERE checked_out_at IS NULL;
CREATE INDEX ix_check_ins_user ON check_ins (user_id, checked_in_at DESC);
SELECT grid_registry_table('check_ins');

CREATE TABLE track_points (
    user_id uuid NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    path ltree NOT NULL,
    location geometry(Point, 4326) NOT NULL,
    accuracy_m real,
    CONSTRAINT pk_track_points PRIMARY KEY (user_id, recorded_at)
);
SELECT grid_registry_table('track_points');

CREATE TABLE sync_operations (
    user_id uuid NOT NULL REFERENCES users (id),
    op_id uuid NOT NULL,
    op_type varchar(32) NOT NULL,
    status varchar(16) NOT NULL CHECK (status IN ('pending', 'created', 'applied', 'rejected')),
    result jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT pk_sync_operations PRIMARY KEY (user_id, op_id)
);
GRANT SELECT, INSERT, UPDATE ON sync_operations TO grid_app;

CREATE TABLE handbooks (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    category varchar(32) NOT NULL,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid
);
CREATE INDEX ix_handbooks_path ON handbooks USING gist (path);
GRANT SELECT, INSERT, UPDATE ON handbooks TO grid_app;

CREATE TABLE periodic_reports (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    form varchar(16) NOT NULL CHECK (form IN ('dispute', 'hotspot')),
    period_kind varchar(8) NOT NULL CHECK (period_kind IN ('month', 'quarter', 'year')),
    period varchar(7) NOT NULL,
    figures jsonb NOT NULL,
    note text,
    deadline_at timestamptz NOT NULL,
    filed_at timestamptz NOT NULL,
    filed_by uuid,
    late boolean NOT NULL,
    amended_at timestamptz,
    amended_by uuid,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT uq_periodic_reports_unit_id UNIQUE (unit_id, form, period)
);
CREATE INDEX ix_periodic_reports_path ON periodic_reports USING gist (path);
SELECT grid_registry_table('periodic_reports');

CREATE TABLE ledger_entries (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    year smallint NOT NULL,
    kind varchar(16) NOT NULL
        CHECK (kind IN ('meeting', 'document', 'activity', 'special_work', 'work_log')),
    subtype varchar(32) NOT NULL,
    title varchar(200) NOT NULL,
    doc_no varchar(64),
    occurred_on date NOT NULL,
    content text NOT NULL DEFAULT '',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid,
    CONSTRAINT ck_ledger_entries_year_of_date CHECK (extract(year FROM occurred_on) = year)
);
CREATE INDEX ix_ledger_entries_path ON ledger_entries USING gist (path);
CREATE INDEX ix_ledger_entries_year ON ledger_entries (year, kind);
SELECT grid_registry_table('ledger_entries');
"""

DOWNGRADE = """
DROP TABLE ledger_entries, periodic_reports, handbooks, sync_operations, track_points,
    check_ins, visit_logs;
DROP SEQUENCE field_change_serial_seq;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
