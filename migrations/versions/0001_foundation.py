"""Foundation: org units and grids with history, departments, users and roles, audit trail,
idempotency records; row-level security for the application role.

Revision ID: 0001
Revises:
"""

from alembic import op

from domain.permissions import PERMISSION_DESCRIPTIONS, ROLE_GRANTS, ROLE_NAMES

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "grid_app"

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE org_units (
    id uuid PRIMARY KEY,
    code varchar(15) NOT NULL,
    name varchar(100) NOT NULL,
    level varchar(16) NOT NULL,
    parent_id uuid REFERENCES org_units (id),
    path ltree NOT NULL,
    geom geometry(Geometry, 4326),
    grid_leader_id uuid,
    household_target integer CHECK (household_target IS NULL OR household_target >= 0),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    deleted_at timestamptz,
    CONSTRAINT ck_org_units_level
        CHECK (level IN ('city', 'district', 'street', 'community', 'grid')),
    CONSTRAINT ck_org_units_grid_has_polygon
        CHECK (level <> 'grid' OR (geom IS NOT NULL AND GeometryType(geom) = 'POLYGON')),
    CONSTRAINT ck_org_units_geom_valid CHECK (geom IS NULL OR ST_IsValid(geom))
);
CREATE UNIQUE INDEX uq_org_units_code_live ON org_units (code) WHERE deleted_at IS NULL;
CREATE INDEX ix_org_units_path ON org_units USING gist (path);
CREATE INDEX ix_org_units_geom ON org_units USING gist (geom);
CREATE INDEX ix_org_units_parent_id ON org_units (parent_id, code);

CREATE TABLE org_unit_versions (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    version integer NOT NULL,
    operation varchar(16) NOT NULL,
    code varchar(15) NOT NULL,
    name varchar(100) NOT NULL,
    level varchar(16) NOT NULL,
    parent_id uuid,
    path ltree NOT NULL,
    geom geometry(Geometry, 4326),
    attributes jsonb NOT NULL DEFAULT '{}',
    reason text,
    actor_id uuid,
    valid_from timestamptz NOT NULL,
    valid_to timestamptz,
    CONSTRAINT uq_org_unit_versions_unit_version UNIQUE (unit_id, version),
    CONSTRAINT ck_org_unit_versions_period CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX ix_org_unit_versions_unit ON org_unit_versions (unit_id, valid_from);
CREATE INDEX ix_org_unit_versions_path ON org_unit_versions USING gist (path);
CREATE INDEX ix_org_unit_versions_geom ON org_unit_versions USING gist (geom);

CREATE TABLE departments (
    id uuid PRIMARY KEY,
    code varchar(32) NOT NULL,
    name varchar(100) NOT NULL,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    deleted_at timestamptz,
    CONSTRAINT ck_departments_code CHECK (code ~ '^[A-Za-z0-9_-]{2,32}$')
);
CREATE UNIQUE INDEX uq_departments_code_live ON departments (code) WHERE deleted_at IS NULL;
CREATE INDEX ix_departments_path ON departments USING gist (path);

CREATE TABLE users (
    id uuid PRIMARY KEY,
    username varchar(64) NOT NULL,
    password_hash varchar(255) NOT NULL,
    full_name varchar(100) NOT NULL,
    phone varchar(20),
    unit_id uuid REFERENCES org_units (id),
    department_id uuid REFERENCES departments (id),
    path ltree,
    is_superuser boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT uq_users_username UNIQUE (username),
    -- R-ORG-3: exactly one home (unit or department); only a superuser stands above the tree.
    CONSTRAINT ck_users_one_home CHECK (
        (is_superuser AND unit_id IS NULL AND department_id IS NULL AND path IS NULL)
        OR (num_nonnulls(unit_id, department_id) = 1 AND path IS NOT NULL)
    )
);
CREATE INDEX ix_users_path ON users USING gist (path);
ALTER TABLE org_units ADD CONSTRAINT fk_org_units_grid_leader_id_users
    FOREIGN KEY (grid_leader_id) REFERENCES users (id);

CREATE TABLE roles (code varchar(32) PRIMARY KEY, name varchar(64) NOT NULL);
CREATE TABLE permissions (code varchar(64) PRIMARY KEY, description varchar(255) NOT NULL);
CREATE TABLE role_permissions (
    role_code varchar(32) REFERENCES roles (code) ON DELETE CASCADE,
    permission_code varchar(64) REFERENCES permissions (code) ON DELETE CASCADE,
    PRIMARY KEY (role_code, permission_code)
);
CREATE TABLE user_roles (
    user_id uuid REFERENCES users (id) ON DELETE CASCADE,
    role_code varchar(32) REFERENCES roles (code),
    PRIMARY KEY (user_id, role_code)
);

CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id uuid NOT NULL,
    token_hash bytea NOT NULL UNIQUE,
    issued_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE idempotency_keys (
    owner varchar(128) NOT NULL,
    key varchar(255) NOT NULL,
    method varchar(8) NOT NULL,
    path varchar(512) NOT NULL,
    body_hash varchar(64) NOT NULL,
    status_code integer,
    content_type varchar(128),
    response_body bytea,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (owner, key)
);

CREATE SEQUENCE audit_log_id_seq;
CREATE TABLE audit_log (
    id bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    actor_id uuid,
    actor_name varchar(100),
    actor_unit_id uuid,
    unit_path ltree,
    action varchar(64) NOT NULL,
    target_type varchar(64) NOT NULL,
    target_id varchar(64),
    before jsonb,
    after jsonb,
    reason text,
    request_id varchar(64),
    prev_hash char(64) NOT NULL,
    hash char(64) NOT NULL
);
CREATE INDEX ix_audit_log_target ON audit_log (target_type, target_id);
CREATE INDEX ix_audit_log_unit_path ON audit_log USING gist (unit_path);
"""

# The canonical text an entry's hash covers; the verifier recomputes it the same way.
AUDIT_FUNCTIONS = """
CREATE FUNCTION audit_payload(e audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT concat_ws(E'\\x1f', e.id::text,
        to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        coalesce(e.actor_id::text, ''), coalesce(e.actor_name, ''),
        coalesce(e.actor_unit_id::text, ''), coalesce(e.unit_path::text, ''),
        e.action, e.target_type, coalesce(e.target_id, ''),
        coalesce(e.before::text, ''), coalesce(e.after::text, ''),
        coalesce(e.reason, ''), coalesce(e.request_id, ''), e.prev_hash)
$$;

CREATE FUNCTION audit_hash(e audit_log) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to(audit_payload(e), 'UTF8')), 'hex')
$$;

-- SECURITY DEFINER: the link to the previous entry must be made whatever the writer may see.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    previous text;
BEGIN
    -- One writer at a time until commit, so ids follow commit order and each entry links to
    -- the last committed one.
    PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
    SELECT hash INTO previous FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.id := nextval('audit_log_id_seq');
    NEW.prev_hash := coalesce(previous, repeat('0', 64));
    NEW.hash := audit_hash(NEW);
    RETURN NEW;
END $$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""

# Row-level security: `grid.scope` holds the caller's ltree path or "*" for system work.
# Unset comes back as NULL or '' on pooled connections and ''::ltree would contain every path,
# so both mean "no rows" (fail closed).
RLS = """
CREATE FUNCTION grid_scope_contains(p ltree) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('grid.scope', true), '')
        WHEN '' THEN false
        WHEN '*' THEN true
        ELSE p IS NOT NULL AND p <@ current_setting('grid.scope', true)::ltree
    END
$$;

-- Units on the caller's own chain upwards are visible by name (breadcrumbs, locate).
CREATE FUNCTION grid_scope_sees(p ltree) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE coalesce(current_setting('grid.scope', true), '')
        WHEN '' THEN false
        WHEN '*' THEN true
        ELSE p <@ current_setting('grid.scope', true)::ltree
            OR p @> current_setting('grid.scope', true)::ltree
    END
$$;

ALTER TABLE org_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_units FORCE ROW LEVEL SECURITY;
CREATE POLICY org_units_read ON org_units FOR SELECT USING (grid_scope_sees(path));
CREATE POLICY org_units_insert ON org_units FOR INSERT WITH CHECK (grid_scope_contains(path));
CREATE POLICY org_units_update ON org_units FOR UPDATE
    USING (grid_scope_contains(path)) WITH CHECK (grid_scope_contains(path));

ALTER TABLE org_unit_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE org_unit_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY org_unit_versions_read ON org_unit_versions FOR SELECT
    USING (grid_scope_contains(path));
CREATE POLICY org_unit_versions_insert ON org_unit_versions FOR INSERT
    WITH CHECK (grid_scope_contains(path));
CREATE POLICY org_unit_versions_update ON org_unit_versions FOR UPDATE
    USING (grid_scope_contains(path)) WITH CHECK (grid_scope_contains(path));

ALTER TABLE departments ENABLE ROW LEVEL SECURITY;
ALTER TABLE departments FORCE ROW LEVEL SECURITY;
CREATE POLICY departments_all ON departments
    USING (grid_scope_contains(path)) WITH CHECK (grid_scope_contains(path));

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_all ON users
    USING (grid_scope_contains(path)) WITH CHECK (grid_scope_contains(path));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_read ON audit_log FOR SELECT USING (grid_scope_contains(unit_path));
CREATE POLICY audit_log_insert ON audit_log FOR INSERT WITH CHECK (true);
"""

GRANTS = f"""
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
        CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON org_units, org_unit_versions, departments, users TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON user_roles, refresh_tokens, idempotency_keys
    TO {APP_ROLE};
GRANT SELECT ON roles, permissions, role_permissions TO {APP_ROLE};
GRANT SELECT, INSERT ON audit_log TO {APP_ROLE};
GRANT SELECT ON spatial_ref_sys TO {APP_ROLE};
"""


def _seed_permissions() -> str:
    def q(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    rows = [
        "INSERT INTO roles (code, name) VALUES "
        + ", ".join(f"({q(r.value)}, {q(n)})" for r, n in ROLE_NAMES.items()),
        "INSERT INTO permissions (code, description) VALUES "
        + ", ".join(f"({q(p.value)}, {q(d)})" for p, d in PERMISSION_DESCRIPTIONS.items()),
        "INSERT INTO role_permissions (role_code, permission_code) VALUES "
        + ", ".join(
            f"({q(r.value)}, {q(p.value)})"
            for r, perms in ROLE_GRANTS.items()
            for p in sorted(perms)
        ),
    ]
    return ";\n".join(rows) + ";"


def upgrade() -> None:
    op.execute(SCHEMA)
    op.execute(AUDIT_FUNCTIONS)
    op.execute(RLS)
    op.execute(_seed_permissions())
    op.execute(GRANTS)


def downgrade() -> None:
    op.execute(
        """
        DROP TABLE IF EXISTS audit_log, idempotency_keys, refresh_tokens, user_roles,
            role_permissions, permissions, roles CASCADE;
        ALTER TABLE org_units DROP CONSTRAINT IF EXISTS fk_org_units_grid_leader_id_users;
        DROP TABLE IF EXISTS users, departments, org_unit_versions, org_units CASCADE;
        DROP SEQUENCE IF EXISTS audit_log_id_seq;
        DROP FUNCTION IF EXISTS audit_log_chain(), audit_log_append_only(),
            audit_hash(audit_log), audit_payload(audit_log),
            grid_scope_contains(ltree), grid_scope_sees(ltree);
        """
    )
