"""Change counters behind the command centre's ETag (R-CMD-1).

Hundreds of screens poll the dashboard; each unchanged poll must be a 304 without building
the document, which at city scale groups every event in the jurisdiction. Every write to
what the board shows (events, their steps and cards, workers' positions, the units) adds the
rows it wrote to a counter per path, in the writer's own transaction. The sum of the
counters under a scope is then an MVCC-exact count of the committed changes the caller can
see: equal sums, equal board, whatever order transactions commit in.

The counters are written by a SECURITY DEFINER trigger (the caller may write an event, not
the counters); the app role only reads them, under the same row-level security as
everything else.

Revision ID: 0043
Revises: 0038
"""

from alembic import op

revision = "0043"
down_revision = "0038"
branch_labels = None
depends_on = None

TABLES = ("events", "event_steps", "supervisions", "worker_positions", "org_units")

UPGRADE = """
CREATE TABLE board_versions (
    path ltree PRIMARY KEY,
    version bigint NOT NULL
);
CREATE INDEX ix_board_versions_path ON board_versions USING gist (path);
ALTER TABLE board_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE board_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY board_versions_read ON board_versions FOR SELECT
    USING ((SELECT grid_scope_all()) OR path <@ (SELECT grid_scope()));
GRANT SELECT ON board_versions TO grid_app;

-- Statement-level, over the transition tables: a sweep carding 50,000 steps adds to a few
-- thousand counters in one statement, locked in path order (no deadlock between writers).
CREATE FUNCTION board_versions_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO board_versions AS b (path, version)
        SELECT path, count(*) FROM (
            SELECT path FROM changed UNION ALL SELECT path FROM previous
        ) AS touched WHERE path IS NOT NULL GROUP BY path ORDER BY path
        ON CONFLICT (path) DO UPDATE SET version = b.version + EXCLUDED.version;
    ELSE
        INSERT INTO board_versions AS b (path, version)
        SELECT path, count(*) FROM changed WHERE path IS NOT NULL GROUP BY path ORDER BY path
        ON CONFLICT (path) DO UPDATE SET version = b.version + EXCLUDED.version;
    END IF;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER {table}_board_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION board_versions_bump();
CREATE TRIGGER {table}_board_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS previous NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION board_versions_bump();
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute("".join(TRIGGERS.format(table=table) for table in TABLES))


def downgrade() -> None:
    op.execute(
        "".join(
            f"DROP TRIGGER {table}_board_insert ON {table};"
            f"DROP TRIGGER {table}_board_update ON {table};"
            for table in TABLES
        )
    )
    op.execute("DROP FUNCTION board_versions_bump(); DROP TABLE board_versions;")
