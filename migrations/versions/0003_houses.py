"""Standard addresses, houses and rentals (R-HOUSE-1, R-HOUSE-2, R-MAP-3).

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
-- Standard address register (楼宇/地址库, R-MAP-3). `full_text` is stored normalised (see
-- domain/addresses.py), so one address cannot be registered twice in different spellings.
-- Typo-tolerant search ranks pg_trgm word similarity over `search_text` (the address cut into
-- components) and `pinyin_initials`; it is computed over the caller's jurisdiction (the path
-- index narrows it), which is why no trigram index is kept: word similarity with a threshold
-- below the `<%` default cannot use one without a session setting.
CREATE TABLE addresses (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    full_text varchar(300) NOT NULL,
    road varchar(100),
    house_number varchar(50),
    building varchar(100),
    search_text varchar(600) NOT NULL DEFAULT '',
    pinyin_initials varchar(600) NOT NULL DEFAULT '',
    location geometry(Point, 4326),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_addresses_status CHECK (status IN ('active', 'deregistered'))
);
CREATE UNIQUE INDEX uq_addresses_full_text_active ON addresses (full_text)
    WHERE status = 'active';
CREATE INDEX ix_addresses_path ON addresses USING gist (path);
CREATE INDEX ix_addresses_grid ON addresses (grid_id);
CREATE INDEX ix_addresses_location ON addresses USING gist (location);
CREATE INDEX ix_addresses_full_text ON addresses (full_text, id);
SELECT grid_registry_table('addresses');

-- Actual houses (实有房屋, R-HOUSE-1): the house number is unique among active houses.
CREATE TABLE houses (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    house_no varchar(64) NOT NULL,
    address_id uuid REFERENCES addresses (id),
    address varchar(300) NOT NULL,
    building varchar(50),
    unit_no varchar(20),
    room varchar(20),
    location geometry(Point, 4326),
    use varchar(32),
    structure varchar(32),
    area numeric(10, 2) CHECK (area IS NULL OR area > 0),
    owner_name varchar(100),
    owner_id_number varchar(32),
    owner_phone varchar(20),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_houses_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_houses_house_no CHECK (btrim(house_no) <> '')
);
CREATE UNIQUE INDEX uq_houses_house_no_active ON houses (house_no) WHERE status = 'active';
CREATE INDEX ix_houses_path ON houses USING gist (path);
CREATE INDEX ix_houses_grid ON houses (grid_id, house_no);
CREATE INDEX ix_houses_house_no ON houses (house_no, id);
CREATE INDEX ix_houses_address ON houses (address_id);
CREATE INDEX ix_houses_location ON houses USING gist (location);
SELECT grid_registry_table('houses');

-- Rentals (出租房, R-HOUSE-2): one active rental record per house.
CREATE TABLE rentals (
    id uuid PRIMARY KEY,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    house_id uuid NOT NULL REFERENCES houses (id),
    landlord_name varchar(100) NOT NULL,
    landlord_phone varchar(20),
    landlord_id_number varchar(32),
    rooms integer CHECK (rooms IS NULL OR rooms > 0),
    nature varchar(32),
    category varchar(32),
    use varchar(32),
    structure varchar(32),
    hazard_level varchar(16),
    status varchar(16) NOT NULL DEFAULT 'active',
    status_reason text,
    status_changed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    created_by uuid,
    CONSTRAINT ck_rentals_status CHECK (status IN ('active', 'deregistered')),
    CONSTRAINT ck_rentals_hazard_level CHECK (hazard_level IN ('无', '低', '中', '高'))
);
CREATE UNIQUE INDEX uq_rentals_house_active ON rentals (house_id) WHERE status = 'active';
CREATE INDEX ix_rentals_house ON rentals (house_id);
CREATE INDEX ix_rentals_grid ON rentals (grid_id);
CREATE INDEX ix_rentals_path ON rentals USING gist (path);
SELECT grid_registry_table('rentals');
"""

DOWNGRADE = """
DROP TABLE rentals, houses, addresses;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
