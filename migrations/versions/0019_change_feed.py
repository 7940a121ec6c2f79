"""The change feed (R-API-3) reads the workflow history by serial: it needs an index.

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE UNIQUE INDEX ix_event_actions_serial ON event_actions (serial);")


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_actions_serial;")
