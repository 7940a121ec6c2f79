"""The change feed (R-API-3): each workflow history row remembers the transaction that wrote
it, so the feed can hand out rows in an order no later commit can slip behind.

An identity value is taken at insert time, not at commit: a transaction holding serial 100
may commit after another holding serial 101, and a reader that had moved past 101 would
never see 100. Rows are therefore read only below the oldest transaction still running
(`pg_snapshot_xmin`) and ordered by (transaction, serial).

Revision ID: 0019
Revises: 0018
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE event_actions ADD COLUMN xact xid8 NOT NULL DEFAULT pg_current_xact_id();"
        "CREATE INDEX ix_event_actions_feed ON event_actions (xact, serial);"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_actions_feed; ALTER TABLE event_actions DROP COLUMN xact;")
