"""The registry's hot reads: people found by any part of their name through an index of its
characters and pairs, and the caller's principal looked up by a plan kept per connection.

Chinese names are two or three characters long, and pg_trgm builds no trigram a two- or
three-character pattern can be looked up by (its trigrams pad the string's ends, which a
substring pattern does not have), so a name search read the whole table: 1.6 s among
2,000,000 people. `name_grams(text)` is the set of a name's characters and pairs of
neighbouring characters, lower-cased as ILIKE compares them (in a multi-byte encoding
PostgreSQL's ILIKE is LIKE over lower() of both sides). Every gram of a substring is a gram
of the name that holds it, so `name_grams(name) @> name_grams(q)` keeps every name that
contains q, and the GIN index answers it from the query's own grams; `name ILIKE '%q%'`
then drops the names that merely hold the same grams elsewhere, so results are exact.
The trigram index served only that search and goes.

Under row-level security an index condition runs before the policy, so its functions must
be LEAKPROOF, and a disjunction is answered from indexes only when every branch is. The
same search also matches overseas document numbers (`details ->> 'document_number'`, an
expression index of 0004), whose branch therefore read every overseas person. `name_grams`
raises no error for any text; `arraycontains` (the `@>` of arrays) raises only when its two
arrays' element types cannot be compared, which depends on the query's types, never on a
row's values; `jsonb_object_field_text` (`->>`) raises none, answering NULL for a missing
key or a document that is not an object. So no error can tell anything about rows the
caller may not see. Declaring functions leakproof needs a superuser, which migrations run
as.

`principal_of` (0028) runs before every authenticated request. As an SQL function that
cannot be inlined (it is SECURITY DEFINER), PostgreSQL parsed and planned its body on every
call, which cost the database more than the lookup itself; the same query in PL/pgSQL is
planned once per connection and answers the same rows.

Revision ID: 0038
Revises: 0042
"""

from alembic import op

revision = "0038"
down_revision = "0042"
branch_labels = None
depends_on = None


PRINCIPAL_OF = """
CREATE OR REPLACE FUNCTION principal_of(p_user uuid)
RETURNS TABLE (id uuid, username text, full_name text, unit_id uuid, department_id uuid,
               path text, is_superuser boolean, roles text[], permissions text[])
LANGUAGE {language} STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    {body}
$$;
"""
PRINCIPAL_QUERY = """
    SELECT u.id, u.username::text, u.full_name::text, u.unit_id, u.department_id,
           u.path::text, u.is_superuser,
           ARRAY(SELECT ur.role_code::text FROM user_roles ur
                 WHERE ur.user_id = u.id ORDER BY 1),
           ARRAY(SELECT DISTINCT rp.permission_code::text FROM user_roles ur
                 JOIN role_permissions rp ON rp.role_code = ur.role_code
                 WHERE ur.user_id = u.id)
    FROM users u
    WHERE u.id = p_user AND u.is_active"""


def upgrade() -> None:
    body = f"BEGIN RETURN QUERY {PRINCIPAL_QUERY}; END"
    op.execute(PRINCIPAL_OF.format(language="plpgsql", body=body))
    op.execute("""
CREATE FUNCTION name_grams(name text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF AS $$
DECLARE
    lowered text := lower(name);
    grams text[] := '{}';
BEGIN
    FOR i IN 1 .. length(lowered) LOOP
        grams := grams || substr(lowered, i, 1);
        IF i < length(lowered) THEN
            grams := grams || substr(lowered, i, 2);
        END IF;
    END LOOP;
    RETURN grams;
END
$$;
ALTER FUNCTION arraycontains(anyarray, anyarray) LEAKPROOF;
ALTER FUNCTION jsonb_object_field_text(jsonb, text) LEAKPROOF;
CREATE INDEX ix_people_name_grams ON people USING gin (name_grams(name));
DROP INDEX ix_people_name_trgm;
""")


def downgrade() -> None:
    op.execute(PRINCIPAL_OF.format(language="sql", body=PRINCIPAL_QUERY))
    op.execute("""
CREATE INDEX ix_people_name_trgm ON people USING gin (name gin_trgm_ops);
DROP INDEX ix_people_name_grams;
ALTER FUNCTION jsonb_object_field_text(jsonb, text) NOT LEAKPROOF;
ALTER FUNCTION arraycontains(anyarray, anyarray) NOT LEAKPROOF;
DROP FUNCTION name_grams(text);
""")
