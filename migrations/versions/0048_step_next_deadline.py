"""The open steps' next deadline, indexed for the supervision sweep (R-SUP-2).

Every minute the sweep looks for the steps whose deadline has passed. It found them by
reading every open step and its event: 108,000 open steps and 600,000 events in the 2m
benchmark city, a second and more, to card the few thousand that are due. A step's next
deadline is the earlier of its current phase's two (accepting until it is accepted, then
handling until the first feedback), and this index holds it for the open steps, so the
sweep reads only the steps that are due (services.supervision writes the same expression).

Revision ID: 0048
Revises: 0047
"""

from alembic import op

revision = "0048"
down_revision = "0047"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_event_steps_next_deadline ON event_steps ((CASE"
        " WHEN accepted_at IS NULL THEN least(accept_yellow_at, accept_red_at)"
        " WHEN first_feedback_at IS NULL THEN least(handle_yellow_at, handle_red_at) END))"
        " WHERE finished_at IS NULL"
    )
    op.execute("ANALYZE event_steps")


def downgrade() -> None:
    op.execute("DROP INDEX ix_event_steps_next_deadline")
