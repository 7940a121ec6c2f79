"""Actual population, households and families (R-POP-1..5, R-HH-1, R-HH-2).

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
-- Actual population (实有人口, R-POP-1..5). One active record per (grid, ID number) whatever
-- the kind: the partial unique index is both the uniqueness and the mutual exclusion rule.
CREATE TABLE people (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    kind varchar(16) NOT NULL,
    -- The resident ID (R-POP-2); for overseas people `<document type>:<nationality>:<number>`.
    id_number varchar(32) NOT NULL,
    name varchar(100) NOT NULL,
    former_name varchar(100),
    gender varchar(8),
    birth_date date,
    ethnicity varchar(32),
    phone varchar(20),
    register_address varchar(300),
    current_address varchar(300),
    education varchar(32),
    occupation varchar(100),
    employer varchar(200),
    political_status varchar(32),
    marital_status varchar(16),
    photo_url varchar(500),
    low_income boolean NOT NULL DEFAULT false,
    away boolean NOT NULL DEFAULT false,
    house_id uuid REFERENCES houses (id),
    no_house_reason varchar(200),
    details jsonb NOT NULL DEFAULT '{}',
    location geometry(Point, 4326),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_people_kind CHECK (kind IN ('registered', 'floating', 'unsettled', 'overseas')),
    CONSTRAINT ck_people_status CHECK (status IN ('active', 'deregistered')),
    -- R-POP-5: a person lives in a house or, having none, has a stated reason; not both.
    CONSTRAINT ck_people_residence CHECK ((house_id IS NULL) <> (no_house_reason IS NULL))
);
CREATE UNIQUE INDEX uq_people_grid_id_number_active ON people (grid_id, id_number)
    WHERE status = 'active';
CREATE INDEX ix_people_path ON people USING gist (path);
CREATE INDEX ix_people_grid_name ON people (grid_id, name, id);
CREATE INDEX ix_people_id_number ON people (id_number);
CREATE INDEX ix_people_house ON people (house_id) WHERE house_id IS NOT NULL;
CREATE INDEX ix_people_location ON people USING gist (location);
CREATE INDEX ix_people_name_trgm ON people USING gin (name gin_trgm_ops);
CREATE INDEX ix_people_document_number ON people ((details ->> 'document_number'))
    WHERE kind = 'overseas';
SELECT grid_registry_table('people');

-- Households (户籍家庭, R-HH-1) and configurable families (广义家庭, R-HH-2).
CREATE TABLE households (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    household_no varchar(32) NOT NULL,
    head_person_id uuid REFERENCES people (id),
    address varchar(300),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_households_status CHECK (status IN ('active', 'deregistered'))
);
CREATE UNIQUE INDEX uq_households_no_active ON households (household_no) WHERE status = 'active';
CREATE INDEX ix_households_path ON households USING gist (path);
SELECT grid_registry_table('households');

-- R-HH-1: a person belongs to one household at most, so the person is the key.
CREATE TABLE household_members (
    person_id uuid NOT NULL REFERENCES people (id),
    household_id uuid NOT NULL REFERENCES households (id),
    path ltree NOT NULL,
    relation varchar(32) NOT NULL,
    joined_at timestamptz NOT NULL,
    CONSTRAINT uq_household_members_person PRIMARY KEY (person_id)
);
CREATE INDEX ix_household_members_household ON household_members (household_id);
SELECT grid_registry_table('household_members', true);

-- The same shape as households, for any actual persons (R-HH-2).
CREATE TABLE families (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    family_no varchar(32) NOT NULL,
    head_person_id uuid REFERENCES people (id),
    address varchar(300),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_families_status CHECK (status IN ('active', 'deregistered'))
);
CREATE UNIQUE INDEX uq_families_no_active ON families (family_no) WHERE status = 'active';
CREATE INDEX ix_families_path ON families USING gist (path);
SELECT grid_registry_table('families');

-- One family per person (R-HH-2).
CREATE TABLE family_members (
    person_id uuid NOT NULL REFERENCES people (id),
    family_id uuid NOT NULL REFERENCES families (id),
    path ltree NOT NULL,
    relation varchar(32) NOT NULL,
    joined_at timestamptz NOT NULL,
    CONSTRAINT uq_family_members_person PRIMARY KEY (person_id)
);
CREATE INDEX ix_family_members_family ON family_members (family_id);
SELECT grid_registry_table('family_members', true);
"""

DOWNGRADE = """
DROP TABLE family_members, families, household_members, households, people;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
