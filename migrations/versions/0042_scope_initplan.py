"""Row-level security reads the caller's scope once per query, not once per row.

The policies called grid_scope_contains(path) / grid_scope_sees(path): inlined, each row
re-read `grid.scope` and re-parsed it as an ltree — about 4 µs a row, so counting 50,000
people took 209 ms instead of 28 ms, and every scan over a district of 2,000,000 paid 8 s
for the policy alone. The policies now compare each row's path with the scope taken by a
scalar sub-select, which PostgreSQL evaluates once per query (an InitPlan). The meaning is
unchanged: an empty or unset setting sees nothing (NULL contains no path), "*" sees
everything, rows with a NULL path only under "*".

Revision ID: 0042
Revises: 0037
"""

from alembic import op

revision = "0042"
down_revision = "0037"
branch_labels = None
depends_on = None

FUNCTIONS = """
CREATE FUNCTION grid_scope_all() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('grid.scope', true), '') = '*'
$$;

-- NULL for no scope (fail closed) and for "*" (which grid_scope_all() answers).
CREATE FUNCTION grid_scope() RETURNS ltree LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('grid.scope', true), '')
        WHEN '' THEN NULL
        WHEN '*' THEN NULL
        ELSE current_setting('grid.scope', true)::ltree
    END
$$;
"""

# Each policy expression is rewritten in place; the regular expressions map the old calls
# to their once-per-query forms and back.
CONTAINS = r"((SELECT grid_scope_all()) OR \1 <@ (SELECT grid_scope()))"
SEES = r"((SELECT grid_scope_all()) OR \1 <@ (SELECT grid_scope()) OR \1 @> (SELECT grid_scope()))"
UPGRADE_RULES = (
    (r"grid_scope_contains\((\w+)\)", CONTAINS),
    (r"grid_scope_sees\((\w+)\)", SEES),
)
DOWNGRADE_RULES = (
    (
        r"\(\( SELECT grid_scope_all\(\) AS grid_scope_all\) OR \((\w+) <@ \( SELECT grid_scope\(\)"
        r" AS grid_scope\)\) OR \(\1 @> \( SELECT grid_scope\(\) AS grid_scope\)\)\)",
        r"grid_scope_sees(\1)",
    ),
    (
        r"\(\( SELECT grid_scope_all\(\) AS grid_scope_all\) OR \((\w+) <@ \( SELECT grid_scope\(\)"
        r" AS grid_scope\)\)\)",
        r"grid_scope_contains(\1)",
    ),
)


def _applied(rules: tuple[tuple[str, str], ...], expression: str) -> str:
    for pattern, replacement in rules:
        expression = f"regexp_replace({expression}, '{pattern}', '{replacement}', 'g')"
    return expression


def _rewrite(rules: tuple[tuple[str, str], ...]) -> str:
    """A block that applies `rules` to every policy's USING and WITH CHECK expressions."""
    return f"""
DO $$
DECLARE
    pol record;
    new_using text;
    new_check text;
BEGIN
    FOR pol IN SELECT schemaname, tablename, policyname, qual, with_check FROM pg_policies
               WHERE schemaname = 'public' LOOP
        new_using := {_applied(rules, "pol.qual")};
        new_check := {_applied(rules, "pol.with_check")};
        IF new_using IS DISTINCT FROM pol.qual THEN
            EXECUTE format('ALTER POLICY %I ON %I.%I USING (%s)',
                pol.policyname, pol.schemaname, pol.tablename, new_using);
        END IF;
        IF new_check IS DISTINCT FROM pol.with_check THEN
            EXECUTE format('ALTER POLICY %I ON %I.%I WITH CHECK (%s)',
                pol.policyname, pol.schemaname, pol.tablename, new_check);
        END IF;
    END LOOP;
END $$;
"""


# Tables registered later get the once-per-query policy too.
REGISTRY_TABLE = """
CREATE OR REPLACE FUNCTION grid_registry_table(tbl regclass, with_delete boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
    EXECUTE format(
        'CREATE POLICY %I ON %s USING ({using}) WITH CHECK ({using})',
        replace(tbl::text, '.', '_') || '_scope', tbl);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE ON %s TO grid_app', tbl);
    IF with_delete THEN
        EXECUTE format('GRANT DELETE ON %s TO grid_app', tbl);
    END IF;
END
$body$;
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(_rewrite(UPGRADE_RULES))
    op.execute(REGISTRY_TABLE.format(using=CONTAINS.replace(r"\1", "path")))


def downgrade() -> None:
    op.execute(REGISTRY_TABLE.format(using="grid_scope_contains(path)"))
    op.execute(_rewrite(DOWNGRADE_RULES))
    op.execute("DROP FUNCTION grid_scope(); DROP FUNCTION grid_scope_all();")
