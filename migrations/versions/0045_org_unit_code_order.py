"""Org units in code order, for the lists sorted by their grid's code.

The people list runs grid by grid in code order (`services.people`). With the units' codes
in an index, its page is a nested loop — grids from the cursor's code on, each grid's people
by the grid index — that reads a page's worth of rows at any depth, instead of joining and
sorting every person in the jurisdiction. (The unique index on live codes is partial, which
a query that does not name `deleted_at` cannot use.)

Revision ID: 0045
Revises: 0040
"""

from alembic import op

revision = "0045"
down_revision = "0040"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX ix_org_units_code ON org_units (code)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_org_units_code")
