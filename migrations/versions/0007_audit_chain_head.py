"""Audit chain head: the last entry's id and hash in a one-row table.

Linking a new entry used to read the newest row of `audit_log` (ORDER BY id DESC LIMIT 1);
with stale statistics the planner may scan the whole log for that, once per entry. The head
row is read and updated in O(1), and its row lock serialises writers until commit exactly as
the advisory lock did, so ids still follow commit order.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_id bigint,
    last_hash char(64) NOT NULL
);
INSERT INTO audit_chain_head (last_id, last_hash)
SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1;
INSERT INTO audit_chain_head (last_id, last_hash)
SELECT NULL, repeat('0', 64) WHERE NOT EXISTS (SELECT FROM audit_chain_head);

CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    previous text;
BEGIN
    SELECT last_hash INTO previous FROM audit_chain_head FOR UPDATE;
    NEW.id := nextval('audit_log_id_seq');
    NEW.prev_hash := previous;
    NEW.hash := audit_hash(NEW);
    UPDATE audit_chain_head SET last_id = NEW.id, last_hash = NEW.hash;
    RETURN NEW;
END $$;
"""

DOWNGRADE = """
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    previous text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
    SELECT hash INTO previous FROM audit_log ORDER BY id DESC LIMIT 1;
    NEW.id := nextval('audit_log_id_seq');
    NEW.prev_hash := coalesce(previous, repeat('0', 64));
    NEW.hash := audit_hash(NEW);
    RETURN NEW;
END $$;
DROP TABLE audit_chain_head;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
