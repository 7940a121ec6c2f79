"""Registry foundations: status-change history, and the helper that puts a registry table
under row-level security with the application's grants.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UPGRADE = """
-- Every registry table carries `path` (its unit's ltree path). This puts it under forced
-- row-level security scoped by that path and grants the application role what registries
-- need: rows are never hard-deleted, so no DELETE unless `with_delete` (link tables).
CREATE FUNCTION grid_registry_table(tbl regclass, with_delete boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY %I ON %s USING (grid_scope_contains(path)) '
        'WITH CHECK (grid_scope_contains(path))',
        replace(tbl::text, '.', '_') || '_scope', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO grid_app', tbl);
    IF with_delete THEN
        EXECUTE format('GRANT DELETE ON %s TO grid_app', tbl);
    END IF;
END $$;

-- Under row-level security PostgreSQL evaluates the policy before any user condition that is
-- not LEAKPROOF, so a non-leakproof operator can't drive an index scan: every spatial box test
-- (`&&`, behind ST_Intersects/ST_DWithin) and every jurisdiction test (ltree `<@`/`@>`) would
-- scan whole tables. These operators only compare their arguments and raise no data-dependent
-- errors (all geometries share SRID 4326), so declaring them leakproof is safe.
ALTER FUNCTION geometry_overlaps(geometry, geometry) LEAKPROOF;
ALTER FUNCTION ltree_isparent(ltree, ltree) LEAKPROOF;
ALTER FUNCTION ltree_risparent(ltree, ltree) LEAKPROOF;

CREATE TABLE status_changes (
    id uuid PRIMARY KEY,
    target_type varchar(32) NOT NULL,
    target_id uuid NOT NULL,
    path ltree NOT NULL,
    from_status varchar(16) NOT NULL,
    to_status varchar(16) NOT NULL,
    reason text,
    at timestamptz NOT NULL,
    actor_id uuid
);
CREATE INDEX ix_status_changes_target ON status_changes (target_type, target_id, at);
SELECT grid_registry_table('status_changes');
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(Perm))


def downgrade() -> None:
    op.execute(
        "DROP TABLE status_changes; DROP FUNCTION grid_registry_table(regclass, boolean);"
        "ALTER FUNCTION geometry_overlaps(geometry, geometry) NOT LEAKPROOF;"
        "ALTER FUNCTION ltree_isparent(ltree, ltree) NOT LEAKPROOF;"
        "ALTER FUNCTION ltree_risparent(ltree, ltree) NOT LEAKPROOF;"
    )
