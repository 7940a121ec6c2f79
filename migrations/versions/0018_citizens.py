"""Citizens' submissions and the hotline (R-CIT-1).

A submission is filed under its event's path (row-level security as for events); its
receipt code is stored only as a digest. Callers are a directory keyed by phone number that
every hotline operator looks up (not territorial); calls carry the path of the event they
created, or of the operator's unit when they created none.

Revision ID: 0018
Revises: 0015
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0018"
down_revision = "0015"
branch_labels = None
depends_on = None

_PERMS = (Perm.HOTLINE_WRITE,)

UPGRADE = """
CREATE TABLE citizen_submissions (
    id uuid PRIMARY KEY,
    receipt_digest char(64) NOT NULL,
    kind varchar(16) NOT NULL CHECK (kind IN ('problem', 'suggestion')),
    channel varchar(16) NOT NULL CHECK (channel IN ('web', 'message')),
    event_id uuid NOT NULL REFERENCES events (id),
    path ltree NOT NULL,
    name varchar(100),
    phone varchar(20),
    satisfaction varchar(16) CHECK (satisfaction IN ('satisfied', 'unsatisfied')),
    comment text,
    rated_at timestamptz,
    created_at timestamptz NOT NULL,
    CONSTRAINT uq_citizen_submissions_receipt_digest UNIQUE (receipt_digest),
    CONSTRAINT uq_citizen_submissions_event_id UNIQUE (event_id)
);
SELECT grid_registry_table('citizen_submissions');

CREATE TABLE hotline_callers (
    id uuid PRIMARY KEY,
    phone varchar(20) NOT NULL,
    name varchar(100),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT uq_hotline_callers_phone UNIQUE (phone)
);
GRANT SELECT, INSERT, UPDATE ON hotline_callers TO grid_app;

CREATE TABLE hotline_calls (
    id uuid PRIMARY KEY,
    caller_id uuid NOT NULL REFERENCES hotline_callers (id),
    path ltree NOT NULL,
    operator_id uuid,
    operator_unit_id uuid REFERENCES org_units (id),
    nature varchar(16) NOT NULL CHECK (nature IN ('nuisance', 'callback', 'no_callback')),
    summary text NOT NULL,
    callback_person varchar(100),
    callback_phone varchar(20),
    event_id uuid REFERENCES events (id),
    called_at timestamptz NOT NULL,
    called_back_at timestamptz,
    callback_reached boolean,
    callback_satisfaction varchar(16)
        CHECK (callback_satisfaction IN ('satisfied', 'unsatisfied')),
    callback_note text,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT ck_hotline_calls_callback CHECK (
        nature <> 'callback' OR callback_phone IS NOT NULL)
);
CREATE INDEX ix_hotline_calls_caller ON hotline_calls (caller_id, called_at DESC);
CREATE INDEX ix_hotline_calls_path ON hotline_calls USING gist (path);
SELECT grid_registry_table('hotline_calls');
"""

DOWNGRADE = "DROP TABLE hotline_calls, hotline_callers, citizen_submissions;"


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
