"""SMS waiting in the outbox no longer carry the recipient's phone.

Messages name their recipient by user id and the sender reads the number when the text goes
out (R-JUR-3: no full phone number in job payloads); rows queued before that still held one.

Revision ID: 0044
Revises: 0043
"""

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE outbox SET payload = payload - 'phone' WHERE payload ? 'phone'")


def downgrade() -> None:
    """The numbers are gone; there is nothing to put back."""
