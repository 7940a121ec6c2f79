"""Third-party API keys (R-API-1) and their webhook subscriptions (R-API-3).

A key belongs to an org unit (its `path` is the key's jurisdiction and, as for registry
rows, row-level security scopes who may manage it). Its secrets live beside it, stored only
as SHA-256 digests: the current one, and after a rotation the old one until its overlap
ends (`retires_at`). Webhook subscriptions hang off a key and remember how far into the
change feed they have fanned out (`last_serial`); every delivery attempt is logged.

The attempt log names the event it carried but has no foreign key to it: a log records,
it never constrains what may happen to the rows it mentions.

Revision ID: 0023
Revises: 0012
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_PERMS = (Perm.API_KEY_MANAGE,)

UPGRADE = """
CREATE TABLE api_keys (
    id uuid PRIMARY KEY,
    unit_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    agency varchar(100) NOT NULL,
    note text,
    operations text[] NOT NULL CHECK (cardinality(operations) > 0),
    rate_limit_per_minute integer NOT NULL CHECK (rate_limit_per_minute > 0),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    revoked_by uuid,
    revoke_reason text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid
);
CREATE INDEX ix_api_keys_path ON api_keys USING gist (path);
SELECT grid_registry_table('api_keys');

CREATE TABLE api_key_secrets (
    id uuid PRIMARY KEY,
    api_key_id uuid NOT NULL REFERENCES api_keys (id),
    path ltree NOT NULL,
    prefix varchar(16) NOT NULL,
    digest bytea NOT NULL,
    created_at timestamptz NOT NULL,
    retires_at timestamptz,
    CONSTRAINT uq_api_key_secrets_digest UNIQUE (digest)
);
CREATE INDEX ix_api_key_secrets_key ON api_key_secrets (api_key_id, created_at DESC);
SELECT grid_registry_table('api_key_secrets');

CREATE TABLE webhook_subscriptions (
    id uuid PRIMARY KEY,
    api_key_id uuid NOT NULL REFERENCES api_keys (id),
    path ltree NOT NULL,
    url varchar(2000) NOT NULL,
    secret varchar(100) NOT NULL,
    actions text[],
    categories text[],
    enabled boolean NOT NULL DEFAULT true,
    last_serial bigint NOT NULL,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid
);
CREATE INDEX ix_webhook_subscriptions_key ON webhook_subscriptions (api_key_id);
SELECT grid_registry_table('webhook_subscriptions');

CREATE TABLE webhook_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id),
    path ltree NOT NULL,
    delivery_id uuid NOT NULL,
    event_id uuid,
    action varchar(32),
    attempt integer NOT NULL,
    at timestamptz NOT NULL,
    status_code integer,
    ok boolean NOT NULL,
    error text,
    duration_ms integer NOT NULL
);
CREATE INDEX ix_webhook_attempts_subscription ON webhook_attempts (subscription_id, id DESC);
CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id);
SELECT grid_registry_table('webhook_attempts');
"""

DOWNGRADE = "DROP TABLE webhook_attempts, webhook_subscriptions, api_key_secrets, api_keys;"


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
