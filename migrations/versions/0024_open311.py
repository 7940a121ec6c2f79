"""Open311 GeoReport v2 facade (R-API-2).

A service request is an event; what Open311 adds to it — the service code it was filed under,
the submitter's contact fields, the media URL, the raw attributes, the token of a batch
service and the API key that filed it — lives beside the event, filed under its path
(row-level security as for events). Events gain the source `open311`; the requested/updated
time filters get their indexes.

Revision ID: 0024
Revises: 0023
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_SOURCES = "'app', 'hotline', 'web', 'walk_in', 'video_patrol', 'third_party', 'citizen'"

UPGRADE = f"""
ALTER TABLE events DROP CONSTRAINT ck_events_source;
ALTER TABLE events ADD CONSTRAINT ck_events_source CHECK (source IN ({_SOURCES}, 'open311'));
CREATE INDEX ix_events_created_at ON events (created_at);
CREATE INDEX ix_events_updated_at ON events (updated_at);

CREATE TABLE open311_requests (
    event_id uuid PRIMARY KEY REFERENCES events (id),
    path ltree NOT NULL,
    service_code varchar(80) NOT NULL,
    token varchar(32),
    api_key_id uuid,
    email varchar(254),
    device_id varchar(100),
    account_id varchar(100),
    first_name varchar(50),
    last_name varchar(50),
    phone varchar(20),
    media_url varchar(500),
    address_string varchar(300),
    attributes jsonb NOT NULL DEFAULT '{{}}',
    created_at timestamptz NOT NULL,
    CONSTRAINT uq_open311_requests_token UNIQUE (token)
);
CREATE INDEX ix_open311_requests_path ON open311_requests USING gist (path);
SELECT grid_registry_table('open311_requests');
"""

DOWNGRADE = f"""
DROP TABLE open311_requests;
DROP INDEX ix_events_updated_at;
DROP INDEX ix_events_created_at;
ALTER TABLE events DROP CONSTRAINT ck_events_source;
ALTER TABLE events ADD CONSTRAINT ck_events_source CHECK (source IN ({_SOURCES}));
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
