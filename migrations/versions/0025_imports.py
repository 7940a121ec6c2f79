"""Data exchange (SPEC §4): imports with their rejected rows, the import pool and its claims,
and comparisons of a department's file with the registry.

Every table carries the path of the unit it belongs to and row-level security like the
registries: an import and its rejections sit at the district it was addressed to, a pool row
at the grid its file named (else at that district), a comparison and its lines at the units
compared. A pool row is claimed at most once: the claim's primary key is the row id.

Revision ID: 0025
Revises: 0021
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0025"
down_revision = "0021"
branch_labels = None
depends_on = None

_PERMS = (Perm.DATA_IMPORT, Perm.DATA_CLAIM)

UPGRADE = """
CREATE TABLE imports (
    id uuid PRIMARY KEY,
    registry varchar(32) NOT NULL,
    district_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    filename varchar(255) NOT NULL,
    format varchar(8) NOT NULL CHECK (format IN ('csv', 'xlsx', 'xml')),
    state varchar(16) NOT NULL
        CHECK (state IN ('queued', 'running', 'done', 'cancelled', 'failed')),
    size_bytes bigint NOT NULL,
    progress double precision NOT NULL DEFAULT 0,
    rows_read integer NOT NULL DEFAULT 0,
    rows_accepted integer NOT NULL DEFAULT 0,
    rows_rejected integer NOT NULL DEFAULT 0,
    error varchar(64),
    created_by uuid,
    created_at timestamptz NOT NULL,
    started_at timestamptz,
    finished_at timestamptz,
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX ix_imports_path ON imports USING gist (path);
SELECT grid_registry_table('imports');

CREATE TABLE import_rejections (
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_no integer NOT NULL,
    field varchar(64) NOT NULL,
    reason varchar(64) NOT NULL,
    path ltree NOT NULL,
    PRIMARY KEY (import_id, row_no, field)
);
SELECT grid_registry_table('import_rejections', true);

CREATE TABLE import_rows (
    id uuid PRIMARY KEY,
    import_id uuid NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    row_no integer NOT NULL,
    registry varchar(32) NOT NULL,
    district_id uuid NOT NULL REFERENCES org_units (id),
    grid_id uuid REFERENCES org_units (id),
    path ltree NOT NULL,
    name varchar(200),
    id_number varchar(32),
    "values" jsonb NOT NULL,
    version integer NOT NULL DEFAULT 1,
    CONSTRAINT uq_import_rows_import_row UNIQUE (import_id, row_no)
);
CREATE INDEX ix_import_rows_path ON import_rows USING gist (path);
-- Pool duplicates (R-IMP-2): the same grid, name and ID number in a district's pool.
CREATE INDEX ix_import_rows_identity ON import_rows (district_id, id_number, name);
SELECT grid_registry_table('import_rows', true);

CREATE TABLE import_claims (
    row_id uuid PRIMARY KEY REFERENCES import_rows (id) ON DELETE CASCADE,
    outcome varchar(16) NOT NULL
        CHECK (outcome IN ('claimed', 'with_duplicate', 'merged', 'skipped')),
    grid_id uuid REFERENCES org_units (id),
    record_id uuid,
    path ltree NOT NULL,
    claimed_by uuid,
    claimed_at timestamptz NOT NULL
);
SELECT grid_registry_table('import_claims');

CREATE TABLE comparisons (
    id uuid PRIMARY KEY,
    registry varchar(32) NOT NULL,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    source varchar(100) NOT NULL,
    filename varchar(255) NOT NULL,
    rows_read integer NOT NULL,
    missing_here integer NOT NULL,
    missing_there integer NOT NULL,
    conflicts integer NOT NULL,
    created_by uuid,
    created_at timestamptz NOT NULL
);
CREATE INDEX ix_comparisons_path ON comparisons USING gist (path);
SELECT grid_registry_table('comparisons');

CREATE TABLE comparison_lines (
    id bigserial PRIMARY KEY,
    comparison_id uuid NOT NULL REFERENCES comparisons (id) ON DELETE CASCADE,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    outcome varchar(16) NOT NULL
        CHECK (outcome IN ('missing_here', 'missing_there', 'conflict')),
    key varchar(200) NOT NULL,
    name varchar(200),
    field varchar(64),
    here text,
    there text,
    row_no integer,
    record_id uuid
);
CREATE INDEX ix_comparison_lines_comparison ON comparison_lines (comparison_id, id);
SELECT grid_registry_table('comparison_lines');
GRANT USAGE ON SEQUENCE comparison_lines_id_seq TO grid_app;
"""

DOWNGRADE = """
DROP TABLE comparison_lines, comparisons, import_claims, import_rows, import_rejections,
    imports;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS))
    op.execute(DOWNGRADE)
