"""A stamp per reference table, drawn afresh by every statement that changes the table.

The working calendar, the system settings and the routing rules change now and then and are
read by most requests that touch events. A process keeps each table's contents keyed by its stamp
(`services.reference_data`), and an authenticated request reads every stamp with its
principal, so those reads cost no round trip. A stamp is random, not a counter: a change
rolled back leaves the old stamp, and a counter would hand the same number to the next
change, whose contents differ.

Revision ID: 0051
Revises: 0050
"""

from alembic import op

revision = "0051"
down_revision = "0050"
branch_labels = None
depends_on = None

# Each reference table and the name its stamp goes by.
TABLES = {"calendar_days": "calendar", "system_settings": "settings", "routing_rules": "routing"}


def upgrade() -> None:
    op.execute("""
CREATE TABLE reference_stamps (
    name varchar(32) PRIMARY KEY,
    stamp uuid NOT NULL DEFAULT gen_random_uuid()
);
GRANT SELECT ON reference_stamps TO grid_app;

CREATE FUNCTION reference_restamp() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO reference_stamps (name) VALUES (TG_ARGV[0])
    ON CONFLICT (name) DO UPDATE SET stamp = gen_random_uuid();
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION reference_restamp() FROM PUBLIC;
""")
    for table, name in TABLES.items():
        op.execute(f"""
INSERT INTO reference_stamps (name) VALUES ('{name}');
CREATE TRIGGER {table}_restamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION reference_restamp('{name}');
""")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_restamp ON {table};")
    op.execute("DROP FUNCTION reference_restamp(); DROP TABLE reference_stamps;")
