"""Organisations, places, teams, jurisdiction profiles, components, video points.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Life-cycle columns every registry row of this revision shares (SPEC §3).
_LIFE = """
    version integer NOT NULL DEFAULT 1,
    status_reason text,
    status_changed_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid"""

UPGRADE = f"""
-- Organisations (R-ORGN-1, R-ORGN-2): actual units, new economic and large enterprises are
-- kept at grid level; social organisations at any level. A row is held by its grid
-- (grid_id, so grid moves re-home it) or by a unit above grid level (unit_id), never both.
CREATE TABLE organisations (
    id uuid PRIMARY KEY,
    grid_id uuid REFERENCES org_units (id),
    unit_id uuid REFERENCES org_units (id),
    path ltree NOT NULL,
    category varchar(32) NOT NULL,
    name varchar(200) NOT NULL,
    org_type varchar(32),
    licence_no varchar(32),
    legal_representative varchar(100),
    legal_representative_id_number varchar(32),
    legal_representative_phone varchar(20),
    principal varchar(100),
    phone varchar(20),
    industry varchar(100),
    hazardous_chemicals boolean NOT NULL DEFAULT false,
    hazards text,
    address varchar(300),
    address_id uuid REFERENCES addresses (id),
    location geometry(Point, 4326),
    status varchar(16) NOT NULL DEFAULT 'active',{_LIFE},
    CONSTRAINT ck_organisations_category
        CHECK (category IN ('actual_unit', 'new_economic', 'social', 'large_enterprise')),
    CONSTRAINT ck_organisations_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_organisations_holder CHECK (num_nonnulls(grid_id, unit_id) = 1),
    CONSTRAINT ck_organisations_grid_level CHECK (category = 'social' OR grid_id IS NOT NULL)
);
-- R-ORGN-1: one active record per business licence within a grid (and category).
CREATE UNIQUE INDEX uq_organisations_licence_active
    ON organisations (category, grid_id, licence_no)
    WHERE status = 'active' AND licence_no IS NOT NULL;
CREATE INDEX ix_organisations_path ON organisations USING gist (path);
CREATE INDEX ix_organisations_grid ON organisations (grid_id);
CREATE INDEX ix_organisations_name ON organisations (category, name, id);
CREATE INDEX ix_organisations_name_trgm ON organisations USING gin (name gin_trgm_ops);
CREATE INDEX ix_organisations_location ON organisations USING gist (location);
SELECT grid_registry_table('organisations');

-- Key places (R-PLACE-1): a place holds one or more kinds, each with its attention level
-- and its own details; no longer a key place = unfollowed with reason and time.
CREATE TABLE places (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    name varchar(200) NOT NULL,
    address varchar(300),
    address_id uuid REFERENCES addresses (id),
    location geometry(Point, 4326),
    principal varchar(100),
    phone varchar(20),
    status varchar(16) NOT NULL DEFAULT 'followed',{_LIFE},
    CONSTRAINT ck_places_status CHECK (status IN ('followed', 'unfollowed'))
);
CREATE INDEX ix_places_path ON places USING gist (path);
CREATE INDEX ix_places_grid ON places (grid_id);
CREATE INDEX ix_places_name_trgm ON places USING gin (name gin_trgm_ops);
CREATE INDEX ix_places_location ON places USING gist (location);
SELECT grid_registry_table('places');

CREATE TABLE place_kinds (
    place_id uuid NOT NULL REFERENCES places (id),
    kind varchar(32) NOT NULL,
    path ltree NOT NULL,
    level varchar(16) NOT NULL,
    details jsonb NOT NULL DEFAULT '{{}}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (place_id, kind),
    CONSTRAINT ck_place_kinds_kind CHECK (
        kind IN ('work_safety', 'public_security', 'fire_safety', 'school_surroundings', 'other')
    ),
    CONSTRAINT ck_place_kinds_level CHECK (level IN ('normal', 'medium', 'severe'))
);
CREATE INDEX ix_place_kinds_kind ON place_kinds (kind, level);
SELECT grid_registry_table('place_kinds', true);

-- Service teams (R-TEAM-1), at any level like social organisations.
CREATE TABLE teams (
    id uuid PRIMARY KEY,
    grid_id uuid REFERENCES org_units (id),
    unit_id uuid REFERENCES org_units (id),
    path ltree NOT NULL,
    name varchar(200) NOT NULL,
    category varchar(32) NOT NULL,
    subcategory varchar(64),
    leader varchar(100),
    phone varchar(20),
    description text,
    established_on date,
    status varchar(16) NOT NULL DEFAULT 'active',{_LIFE},
    CONSTRAINT ck_teams_category CHECK (category IN ('governance', 'party', 'self_governance',
        'mass_prevention', 'volunteer', 'leading_group', 'grid_service', 'other')),
    CONSTRAINT ck_teams_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_teams_holder CHECK (num_nonnulls(grid_id, unit_id) = 1)
);
CREATE INDEX ix_teams_path ON teams USING gist (path);
CREATE INDEX ix_teams_grid ON teams (grid_id);
CREATE INDEX ix_teams_name_trgm ON teams USING gin (name gin_trgm_ops);
SELECT grid_registry_table('teams');

-- Memberships: one row per person and team, holding the posts there. Members without
-- records may be deleted; the others are deregistered (R-TEAM-1).
CREATE TABLE team_members (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id),
    path ltree NOT NULL,
    person_id uuid REFERENCES people (id),
    name varchar(100) NOT NULL,
    phone varchar(20),
    posts varchar(64)[] NOT NULL,
    joined_on date,
    status varchar(16) NOT NULL DEFAULT 'active',{_LIFE},
    CONSTRAINT ck_team_members_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_team_members_posts CHECK (cardinality(posts) >= 1)
);
CREATE UNIQUE INDEX uq_team_members_person_active ON team_members (team_id, person_id)
    WHERE status = 'active' AND person_id IS NOT NULL;
CREATE INDEX ix_team_members_team ON team_members (team_id, name, id);
CREATE INDEX ix_team_members_path ON team_members USING gist (path);
SELECT grid_registry_table('team_members', true);

-- Service records: members of one team serving business persons of one kind.
CREATE TABLE service_records (
    id uuid PRIMARY KEY,
    team_id uuid NOT NULL REFERENCES teams (id),
    path ltree NOT NULL,
    business_kind varchar(32) NOT NULL,
    member_ids uuid[] NOT NULL,
    tag_ids uuid[] NOT NULL,
    served_at timestamptz NOT NULL,
    title varchar(200) NOT NULL,
    content text,
    created_at timestamptz NOT NULL,
    created_by uuid,
    CONSTRAINT ck_service_records_members CHECK (cardinality(member_ids) >= 1),
    CONSTRAINT ck_service_records_tags CHECK (cardinality(tag_ids) >= 1)
);
CREATE INDEX ix_service_records_team ON service_records (team_id, served_at);
CREATE INDEX ix_service_records_members ON service_records USING gin (member_ids);
CREATE INDEX ix_service_records_tags ON service_records USING gin (tag_ids);
CREATE INDEX ix_service_records_path ON service_records USING gist (path);
SELECT grid_registry_table('service_records');

-- Jurisdiction profiles (辖区信息, R-JURINFO-1): one per unit, text sections and images.
CREATE TABLE jurisdiction_profiles (
    unit_id uuid PRIMARY KEY REFERENCES org_units (id),
    path ltree NOT NULL,
    overview text,
    geography text,
    economy text,
    society text,
    key_projects text,
    images jsonb NOT NULL DEFAULT '[]',
    version integer NOT NULL DEFAULT 0,
    updated_at timestamptz,
    updated_by uuid
);
CREATE INDEX ix_jurisdiction_profiles_path ON jurisdiction_profiles USING gist (path);
SELECT grid_registry_table('jurisdiction_profiles');

-- City components (R-CMP-1). A component is bound to one standard address at most; the
-- binding is set by a conditional update (`address_id IS NULL`), so of two racing binds
-- one wins. An address may carry several components.
CREATE TABLE components (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    code varchar(32) NOT NULL,
    name varchar(200) NOT NULL,
    category varchar(16) NOT NULL,
    kind varchar(32) NOT NULL,
    condition varchar(16) NOT NULL DEFAULT 'normal',
    owner varchar(200),
    location geometry(Point, 4326) NOT NULL,
    address_id uuid REFERENCES addresses (id),
    bound_at timestamptz,
    status varchar(16) NOT NULL DEFAULT 'active',{_LIFE},
    CONSTRAINT ck_components_category CHECK (category IN ('public', 'civil')),
    CONSTRAINT ck_components_condition
        CHECK (condition IN ('normal', 'damaged', 'missing', 'occupied', 'out_of_service')),
    CONSTRAINT ck_components_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_components_binding CHECK ((address_id IS NULL) = (bound_at IS NULL))
);
CREATE UNIQUE INDEX uq_components_code_active ON components (code) WHERE status = 'active';
CREATE INDEX ix_components_path ON components USING gist (path);
CREATE INDEX ix_components_grid ON components (grid_id);
CREATE INDEX ix_components_address ON components (address_id) WHERE address_id IS NOT NULL;
CREATE INDEX ix_components_location ON components USING gist (location);
SELECT grid_registry_table('components');

-- Video points (R-VID-1): camera metadata as a map layer; video is never relayed.
CREATE TABLE video_points (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    name varchar(200) NOT NULL,
    code varchar(64),
    source varchar(32) NOT NULL,
    location geometry(Point, 4326) NOT NULL,
    stream_url varchar(1000) NOT NULL,
    owner varchar(200) NOT NULL,
    status varchar(16) NOT NULL DEFAULT 'active',{_LIFE},
    CONSTRAINT ck_video_points_source
        CHECK (source IN ('public_security', 'traffic', 'work_safety', 'social')),
    CONSTRAINT ck_video_points_status CHECK (status IN ('active', 'deregistered'))
);
CREATE INDEX ix_video_points_path ON video_points USING gist (path);
CREATE INDEX ix_video_points_grid ON video_points (grid_id);
CREATE INDEX ix_video_points_location ON video_points USING gist (location);
SELECT grid_registry_table('video_points');
"""

DOWNGRADE = """
DROP TABLE video_points, components, jurisdiction_profiles, service_records, team_members,
    teams, place_kinds, places, organisations;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
