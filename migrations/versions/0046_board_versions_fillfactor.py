"""The board's change counters stay small under a stream of reports.

Every report, step and card adds to a counter row of `board_versions` (0043): a few
thousand rows updated thousands of times a minute. In full pages each update wrote a new
row version elsewhere and left the old one for vacuum, and every poll's sum under a scope
waded through them: after a busy hour the table held 260,000 dead versions of its 4,000 rows
(196 MB) and an unchanged poll took 370 ms. With half of each page free an update stays on
its page (a heap-only update: the counter is in no index), and the next reader of the page
prunes the old versions without waiting for vacuum; vacuum, where it runs, is asked to come
after every thousand updates instead of a fifth of the table.

Revision ID: 0046
Revises: 0045
"""

from alembic import op

revision = "0046"
down_revision = "0045"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE board_versions SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,"
        " autovacuum_vacuum_threshold = 1000)"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE board_versions RESET (fillfactor, autovacuum_vacuum_scale_factor,"
        " autovacuum_vacuum_threshold)"
    )
