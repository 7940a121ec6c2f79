"""Foundation hardening: the audit trail refuses TRUNCATE and its verifier reads the chain
head (R-AUD-1); idempotency keys keep the replayed headers and expire; notifications come
under row-level security (R-JUR-1).

The row triggers of 0001 stop UPDATE and DELETE, but TRUNCATE fires no row trigger: a
statement trigger refuses it too, for the owner as well. The verifier compares the newest
entry with the chain head of 0007, so a tail deleted behind the triggers' back is seen; the
application role may read the head (never write it: only the SECURITY DEFINER trigger does).

A replay repeats ETag and Location besides Content-Type, so the stored response keeps its
headers; keys are purged 24 h after their creation, by `created_at`.

Notifications were the one table with a jurisdiction path but no policy. A row is visible in
the jurisdiction of its subject (`path`, the event or record it is about: whoever acts on
it may write and read back notices to others) and to its recipient (`grid.user`, set with
the scope), so a notice reaches someone outside the subject's subtree (a copied unit). An
unset or empty scope sees nothing either way.

Revision ID: 0020
Revises: 0012
"""

from alembic import op

revision = "0020"
down_revision = "0012"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
GRANT SELECT ON audit_chain_head TO grid_app;

ALTER TABLE idempotency_keys ADD COLUMN response_headers jsonb NOT NULL DEFAULT '{}';
UPDATE idempotency_keys SET response_headers = jsonb_build_object('content-type', content_type)
    WHERE content_type IS NOT NULL;
ALTER TABLE idempotency_keys DROP COLUMN content_type;
CREATE INDEX ix_idempotency_keys_created_at ON idempotency_keys (created_at);

CREATE FUNCTION grid_notification_visible(p ltree, recipient uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT grid_scope_contains(p)
        OR (coalesce(current_setting('grid.scope', true), '') <> ''
            AND recipient::text = current_setting('grid.user', true))
$$;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY notifications_scope ON notifications
    USING (grid_notification_visible(path, user_id))
    WITH CHECK (grid_notification_visible(path, user_id));
"""

DOWNGRADE = """
DROP POLICY notifications_scope ON notifications;
ALTER TABLE notifications NO FORCE ROW LEVEL SECURITY;
ALTER TABLE notifications DISABLE ROW LEVEL SECURITY;
DROP FUNCTION grid_notification_visible(ltree, uuid);
DROP INDEX ix_idempotency_keys_created_at;
ALTER TABLE idempotency_keys ADD COLUMN content_type varchar(128);
UPDATE idempotency_keys SET content_type = response_headers ->> 'content-type';
ALTER TABLE idempotency_keys DROP COLUMN response_headers;
REVOKE SELECT ON audit_chain_head FROM grid_app;
DROP TRIGGER audit_log_no_truncate ON audit_log;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
