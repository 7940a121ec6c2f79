"""Business tags, system settings and notifications (SPEC 3.2, R-LINK-1, R-KEY-2).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
-- Business tags (业务人员, SPEC 3.2): several per person, one active tag per
-- (grid, kind, ID number); each with its own kind-specific details and follow state.
CREATE TABLE person_tags (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    person_id uuid REFERENCES people (id),
    kind varchar(32) NOT NULL,
    id_number varchar(32) NOT NULL,
    name varchar(100) NOT NULL,
    -- The holder's birth date (from the ID number or the person), read by the age rules.
    birth_date date,
    details jsonb NOT NULL DEFAULT '{}',
    automatic boolean NOT NULL DEFAULT false,
    status varchar(16) NOT NULL DEFAULT 'followed',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_person_tags_status CHECK (status IN ('followed', 'unfollowed'))
);
CREATE UNIQUE INDEX uq_person_tags_grid_kind_id_followed
    ON person_tags (grid_id, kind, id_number) WHERE status = 'followed';
CREATE INDEX ix_person_tags_path ON person_tags USING gist (path);
CREATE INDEX ix_person_tags_person ON person_tags (person_id);
CREATE INDEX ix_person_tags_kind ON person_tags (kind, status);
CREATE INDEX ix_person_tags_grid_name ON person_tags (grid_id, name, id);
CREATE INDEX ix_person_tags_id_number ON person_tags (id_number);
CREATE INDEX ix_person_tags_name_trgm ON person_tags USING gin (name gin_trgm_ops);
SELECT grid_registry_table('person_tags');

-- System-wide settings (e.g. R-LINK-1 tag linkage mode); readable by every scope.
CREATE TABLE system_settings (
    key varchar(64) PRIMARY KEY,
    value jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by uuid
);
GRANT SELECT, INSERT, UPDATE ON system_settings TO grid_app;
INSERT INTO system_settings (key, value) VALUES ('tag_link_mode', '3');

-- In-app notifications (站内信), one row per recipient user.
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    path ltree,
    kind varchar(32) NOT NULL,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    target_type varchar(32),
    target_id uuid,
    dedupe_key varchar(200),
    created_at timestamptz NOT NULL,
    read_at timestamptz
);
CREATE INDEX ix_notifications_user ON notifications (user_id, created_at DESC);
CREATE INDEX ix_notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
CREATE UNIQUE INDEX uq_notifications_dedupe ON notifications (user_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL;
GRANT SELECT, INSERT, UPDATE ON notifications TO grid_app;
"""

DOWNGRADE = """
DROP TABLE notifications, system_settings, person_tags;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
