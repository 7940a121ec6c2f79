"""People counted per path, kind and status, for the totals of the people list (R-POP-1).

A list's first page reports how many people it holds. Counting them row by row costs the
first page of a whole district of the 2m benchmark city a second (2,000,000 index entries,
each checked against the scope), against a few milliseconds for the page itself. Every
write to `people` adds the net change of its statement to `person_counts`, in the writer's
own transaction, so a sum of the counts under a scope is exactly the count of the people the
caller can see, whatever order transactions commit in.

As with the map's cells (0039): statement-level triggers over the transition tables (an
import's INSERT … SELECT pays once), counts upserted in key order (concurrent writers lock
them in the same order), an update that moves no one between counts writes nothing, and
emptied counts stay at zero. The triggers write as the owner (SECURITY DEFINER); the app
role only reads the counts, under the same row-level security as everything else. Half of
each page is left free so that a count's update stays on its page (as in 0046).

Revision ID: 0047
Revises: 0046
"""

from alembic import op

revision = "0047"
down_revision = "0046"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE person_counts (
    path ltree NOT NULL,
    kind varchar(16) NOT NULL,
    status varchar(16) NOT NULL,
    n bigint NOT NULL,
    CONSTRAINT pk_person_counts PRIMARY KEY (path, kind, status)
) WITH (fillfactor = 50, autovacuum_vacuum_scale_factor = 0,
        autovacuum_vacuum_threshold = 1000);
CREATE INDEX ix_person_counts_path ON person_counts USING gist (path);
SELECT grid_registry_table('person_counts');
REVOKE INSERT, UPDATE ON person_counts FROM grid_app;

-- Each statement's rows are counted per key first (an import's million rows become a few
-- thousand counts), then netted: an update subtracts what its rows were and adds what they are.
-- Transition tables exist only for the trigger's own event, hence the two branches.
CREATE FUNCTION person_counts_apply() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    paths ltree[];
    kinds text[];
    statuses text[];
    deltas bigint[];
BEGIN
    IF TG_OP <> 'DELETE' THEN
        SELECT array_agg(path), array_agg(kind), array_agg(status), array_agg(n)
        INTO paths, kinds, statuses, deltas
        FROM (SELECT path, kind, status, count(*) AS n FROM new_rows
              GROUP BY path, kind, status) AS added;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        SELECT coalesce(paths, '{}') || array_agg(path), coalesce(kinds, '{}') || array_agg(kind),
               coalesce(statuses, '{}') || array_agg(status),
               coalesce(deltas, '{}') || array_agg(-n)
        INTO paths, kinds, statuses, deltas
        FROM (SELECT path, kind, status, count(*) AS n FROM old_rows
              GROUP BY path, kind, status) AS removed;
    END IF;
    INSERT INTO person_counts AS c (path, kind, status, n)
    SELECT d.path, d.kind, d.status, sum(d.n)
    FROM unnest(paths, kinds, statuses, deltas) AS d (path, kind, status, n)
    GROUP BY d.path, d.kind, d.status HAVING sum(d.n) <> 0
    ORDER BY d.path, d.kind, d.status
    ON CONFLICT (path, kind, status) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END $$;
CREATE FUNCTION person_counts_clear() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM person_counts;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER person_counts_insert AFTER INSERT ON people
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION person_counts_apply();
CREATE TRIGGER person_counts_update AFTER UPDATE ON people
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION person_counts_apply();
CREATE TRIGGER person_counts_delete AFTER DELETE ON people
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION person_counts_apply();
CREATE TRIGGER person_counts_truncate AFTER TRUNCATE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION person_counts_clear();
INSERT INTO person_counts (path, kind, status, n)
SELECT path, kind, status, count(*) FROM people GROUP BY path, kind, status;
ANALYZE person_counts;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER person_counts_insert ON people; DROP TRIGGER person_counts_update ON people;"
        "DROP TRIGGER person_counts_delete ON people;"
        "DROP TRIGGER person_counts_truncate ON people;"
        "DROP FUNCTION person_counts_apply(); DROP FUNCTION person_counts_clear();"
        "DROP TABLE person_counts;"
    )
