"""Notices and announcements (R-NOTE-1): a unit's notice to everyone in its subtree or to
named persons, delivered as in-app notifications (and SMS through the outbox). The notice is
filed under the issuing unit's path (row-level security as for the registries), so the desks
at and above the unit list what was sent; recipients read it in their notifications.

Revision ID: 0027
Revises: 0025
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0027"
down_revision = "0025"
branch_labels = None
depends_on = None

_PERMS = (Perm.NOTICE_WRITE,)

UPGRADE = """
CREATE TABLE notices (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    audience varchar(16) NOT NULL,
    title varchar(200) NOT NULL,
    body text NOT NULL,
    sms boolean NOT NULL DEFAULT false,
    recipients integer NOT NULL,
    texted integer NOT NULL,
    author_id uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    CONSTRAINT ck_notices_audience CHECK (audience IN ('subtree', 'persons'))
);
CREATE INDEX ix_notices_path ON notices USING gist (path);
CREATE INDEX ix_notices_created ON notices (created_at DESC, id DESC);
SELECT grid_registry_table('notices');
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + "DROP TABLE notices;")
