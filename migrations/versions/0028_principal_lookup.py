"""The caller behind a token in one round trip: `principal_of(user)` returns the active user
with roles and permissions whatever the session's scope (users are row-level secured, and
every request needs this before its scope is known). It returns no secrets.

Revision ID: 0028
Revises: 0026
"""

from alembic import op

revision = "0028"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
CREATE FUNCTION principal_of(p_user uuid)
RETURNS TABLE (id uuid, username text, full_name text, unit_id uuid, department_id uuid,
               path text, is_superuser boolean, roles text[], permissions text[])
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT u.id, u.username::text, u.full_name::text, u.unit_id, u.department_id,
           u.path::text, u.is_superuser,
           ARRAY(SELECT ur.role_code::text FROM user_roles ur
                 WHERE ur.user_id = u.id ORDER BY 1),
           ARRAY(SELECT DISTINCT rp.permission_code::text FROM user_roles ur
                 JOIN role_permissions rp ON rp.role_code = ur.role_code
                 WHERE ur.user_id = u.id)
    FROM users u
    WHERE u.id = p_user AND u.is_active
$$;
REVOKE ALL ON FUNCTION principal_of(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION principal_of(uuid) TO grid_app;
""")


def downgrade() -> None:
    op.execute("DROP FUNCTION principal_of(uuid);")
