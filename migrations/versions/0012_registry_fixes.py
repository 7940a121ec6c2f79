"""Grid workers' last positions (R-MAP-1: a map layer of "grid workers' last positions"),
reported by the mobile app, and the `position:report` permission of the field roles.

One row per user, replaced on every report; `path` is the user's own unit path, so the
map layer and row-level security scope it like every registry row.

Revision ID: 0012
Revises: 0019
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0012"
down_revision = "0019"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE worker_positions (
    user_id uuid PRIMARY KEY REFERENCES users (id),
    path ltree NOT NULL,
    full_name varchar(100) NOT NULL,
    location geometry(Point, 4326) NOT NULL,
    accuracy_m real CHECK (accuracy_m >= 0),
    reported_at timestamptz NOT NULL
);
CREATE INDEX ix_worker_positions_location ON worker_positions USING gist (location);
CREATE INDEX ix_worker_positions_path ON worker_positions USING gist (path);
SELECT grid_registry_table('worker_positions');
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql([Perm.POSITION_REPORT]))


def downgrade() -> None:
    op.execute(revoke_sql([Perm.POSITION_REPORT]))
    op.execute("DROP TABLE worker_positions")
