"""Event attachments, resumable uploads and likely-duplicate search (R-EVT-1, R-EVT-3,
R-MOB-1).

Uploads belong to the user sending them (not territorial: the service answers them to their
owner only). Attachments carry their event's path under row-level security like the steps;
they are never hard-deleted. Likely duplicates are found through the events' existing GiST
index on `location` (a bounding box, then the distance on the spheroid); the links to an
original are indexed.

Revision ID: 0022
Revises: 0012
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None

_PERMS = (Perm.ATTACHMENT_UPLOAD,)

UPGRADE = """
CREATE TABLE uploads (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL REFERENCES users (id),
    filename varchar(255) NOT NULL,
    declared_type varchar(100) NOT NULL,
    size bigint NOT NULL CHECK (size > 0),
    sha256 char(64) NOT NULL,
    received bigint NOT NULL DEFAULT 0 CHECK (received >= 0 AND received <= size),
    chunks integer NOT NULL DEFAULT 0,
    state varchar(16) NOT NULL CHECK (state IN ('receiving', 'ready', 'attached')),
    kind varchar(8) CHECK (kind IN ('photo', 'audio', 'video', 'doc')),
    mime varchar(100),
    stored_size bigint,
    stored_sha256 char(64),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT ck_uploads_ready CHECK (state = 'receiving' OR kind IS NOT NULL)
);
CREATE INDEX ix_uploads_owner ON uploads (owner_id, created_at DESC);
GRANT SELECT, INSERT, UPDATE ON uploads TO grid_app;

CREATE TABLE event_attachments (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id),
    path ltree NOT NULL,
    step_id uuid REFERENCES event_steps (id),
    action varchar(32) NOT NULL,
    upload_id uuid NOT NULL REFERENCES uploads (id),
    kind varchar(8) NOT NULL CHECK (kind IN ('photo', 'audio', 'video', 'doc')),
    mime varchar(100) NOT NULL,
    filename varchar(255) NOT NULL,
    size bigint NOT NULL,
    sha256 char(64) NOT NULL,
    storage_key varchar(200) NOT NULL,
    uploaded_by uuid,
    created_at timestamptz NOT NULL,
    deleted_at timestamptz,
    deleted_by uuid,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT uq_event_attachments_upload_id UNIQUE (upload_id)
);
CREATE INDEX ix_event_attachments_event ON event_attachments (event_id, created_at, id);
CREATE INDEX ix_event_attachments_path ON event_attachments USING gist (path);
SELECT grid_registry_table('event_attachments');

CREATE INDEX ix_events_duplicate_of ON events (duplicate_of) WHERE duplicate_of IS NOT NULL;
"""

DOWNGRADE = """
DROP INDEX ix_events_duplicate_of;
DROP TABLE event_attachments, uploads;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
