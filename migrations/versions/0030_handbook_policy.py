"""Handbooks under row-level security: read where the subtree rule or the caller's own chain
upwards reaches (a handbook published above is read by everyone below), written only
inside the writer's jurisdiction — the rules `services.handbooks` applies.

Revision ID: 0030
Revises: 0029
"""

from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE handbooks ENABLE ROW LEVEL SECURITY;"
        "ALTER TABLE handbooks FORCE ROW LEVEL SECURITY;"
        "CREATE POLICY handbooks_read ON handbooks FOR SELECT USING (grid_scope_sees(path));"
        "CREATE POLICY handbooks_insert ON handbooks FOR INSERT"
        " WITH CHECK (grid_scope_contains(path));"
        "CREATE POLICY handbooks_update ON handbooks FOR UPDATE"
        " USING (grid_scope_contains(path)) WITH CHECK (grid_scope_contains(path));"
    )


def downgrade() -> None:
    op.execute(
        "DROP POLICY handbooks_update ON handbooks; DROP POLICY handbooks_insert ON handbooks;"
        "DROP POLICY handbooks_read ON handbooks;"
        "ALTER TABLE handbooks NO FORCE ROW LEVEL SECURITY;"
        "ALTER TABLE handbooks DISABLE ROW LEVEL SECURITY;"
    )
