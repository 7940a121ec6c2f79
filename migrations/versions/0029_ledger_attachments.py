"""Ledger entries carry their files (R-DAY-2: documents and special work with attachments):
the uploads taken by an entry, as {upload_id, filename, mime, size}.

Revision ID: 0029
Revises: 0027
"""

from alembic import op

revision = "0029"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE ledger_entries ADD COLUMN attachments jsonb NOT NULL DEFAULT '[]'")


def downgrade() -> None:
    op.execute("ALTER TABLE ledger_entries DROP COLUMN attachments")
