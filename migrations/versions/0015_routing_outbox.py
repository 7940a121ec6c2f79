"""Routing rules and the manual dispatch queue (R-WF-3), appeals (R-WF-2), reminders before
deadlines (R-SUP-6), and the outbox that carries SMS to a gateway (R-WF-5).

Routing rules are configuration that every reporter's request must match against, whoever
reports: they are readable by all, and writable only inside the writer's jurisdiction (the
owner unit's path). The outbox is drained by the worker only; it holds phone numbers and is
never served. `event_recipients` finds the users who act for a unit or department whatever
the caller may see (users are row-level secured): it returns ids and phones only.

Revision ID: 0015
Revises: 0010
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None

_PERMS = (Perm.ROUTING_WRITE,)

UPGRADE = """
CREATE TABLE routing_rules (
    id uuid PRIMARY KEY,
    owner_unit_id uuid NOT NULL REFERENCES org_units (id),
    owner_path ltree NOT NULL,
    level varchar(16) NOT NULL,
    category varchar(32) NOT NULL,
    subtype varchar(32),
    keywords text[],
    target_unit_id uuid REFERENCES org_units (id),
    target_department_id uuid REFERENCES departments (id),
    target_path ltree NOT NULL,
    priority integer NOT NULL DEFAULT 100,
    enabled boolean NOT NULL DEFAULT true,
    note text,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    created_by uuid,
    CONSTRAINT ck_routing_rules_level CHECK (level IN ('community', 'street', 'district')),
    CONSTRAINT ck_routing_rules_target CHECK (
        num_nonnulls(target_unit_id, target_department_id) = 1),
    CONSTRAINT ck_routing_rules_keywords CHECK (keywords IS NULL OR cardinality(keywords) > 0)
);
CREATE INDEX ix_routing_rules_match ON routing_rules (category, level) WHERE enabled;
CREATE INDEX ix_routing_rules_owner_path ON routing_rules USING gist (owner_path);
ALTER TABLE routing_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE routing_rules FORCE ROW LEVEL SECURITY;
CREATE POLICY routing_rules_read ON routing_rules FOR SELECT USING (true);
CREATE POLICY routing_rules_insert ON routing_rules FOR INSERT
    WITH CHECK (grid_scope_contains(owner_path));
CREATE POLICY routing_rules_update ON routing_rules FOR UPDATE
    USING (grid_scope_contains(owner_path)) WITH CHECK (grid_scope_contains(owner_path));
CREATE POLICY routing_rules_delete ON routing_rules FOR DELETE
    USING (grid_scope_contains(owner_path));
GRANT SELECT, INSERT, UPDATE, DELETE ON routing_rules TO grid_app;

ALTER TABLE event_steps
    ADD COLUMN routing_rule_id uuid REFERENCES routing_rules (id) ON DELETE SET NULL,
    ADD COLUMN accept_remind_at timestamptz,
    ADD COLUMN handle_remind_at timestamptz;

CREATE TABLE step_reminders (
    step_id uuid NOT NULL REFERENCES event_steps (id),
    kind varchar(16) NOT NULL,
    event_id uuid NOT NULL REFERENCES events (id),
    path ltree NOT NULL,
    due_at timestamptz NOT NULL,
    sent_at timestamptz NOT NULL,
    CONSTRAINT pk_step_reminders PRIMARY KEY (step_id, kind)
);
SELECT grid_registry_table('step_reminders');

CREATE TABLE event_appeals (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id),
    path ltree NOT NULL,
    verify_action_id uuid NOT NULL REFERENCES event_actions (id),
    step_id uuid NOT NULL REFERENCES event_steps (id),
    appellant_unit_id uuid REFERENCES org_units (id),
    appellant_department_id uuid REFERENCES departments (id),
    evaluator_unit_id uuid REFERENCES org_units (id),
    evaluator_path ltree NOT NULL,
    appellant_path ltree NOT NULL,
    reason text NOT NULL,
    filed_by uuid,
    filed_at timestamptz NOT NULL,
    decided_by uuid,
    decided_at timestamptz,
    upheld boolean,
    decision_note text,
    -- One appeal per verification: a second one is a conflict, not a retry.
    CONSTRAINT uq_event_appeals_verify_action_id UNIQUE (verify_action_id),
    CONSTRAINT ck_event_appeals_decided CHECK ((decided_at IS NULL) = (upheld IS NULL))
);
CREATE INDEX ix_event_appeals_event ON event_appeals (event_id, filed_at);
SELECT grid_registry_table('event_appeals');

CREATE TABLE outbox (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind varchar(16) NOT NULL,
    payload jsonb NOT NULL,
    dedupe_key varchar(200),
    created_at timestamptz NOT NULL,
    available_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    sent_at timestamptz,
    failed_at timestamptz,
    CONSTRAINT uq_outbox_dedupe_key UNIQUE (dedupe_key)
);
CREATE INDEX ix_outbox_due ON outbox (available_at, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
GRANT SELECT, INSERT, UPDATE ON outbox TO grid_app;

CREATE FUNCTION event_recipients(p_unit uuid, p_department uuid, p_permission text)
RETURNS TABLE (user_id uuid, phone varchar) LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public, pg_temp AS $$
    SELECT u.id, u.phone
    FROM users u
    WHERE u.is_active
      AND ((p_unit IS NOT NULL AND u.unit_id = p_unit)
           OR (p_department IS NOT NULL AND u.department_id = p_department))
      AND (u.is_superuser OR EXISTS (
          SELECT 1 FROM user_roles ur
          JOIN role_permissions rp ON rp.role_code = ur.role_code
          WHERE ur.user_id = u.id AND rp.permission_code = p_permission))
$$;
REVOKE ALL ON FUNCTION event_recipients(uuid, uuid, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION event_recipients(uuid, uuid, text) TO grid_app;
"""

DOWNGRADE = """
DROP FUNCTION event_recipients(uuid, uuid, text);
DROP TABLE outbox, event_appeals, step_reminders;
ALTER TABLE event_steps DROP COLUMN routing_rule_id, DROP COLUMN accept_remind_at,
    DROP COLUMN handle_remind_at;
DROP TABLE routing_rules;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_PERMS))


def downgrade() -> None:
    op.execute(revoke_sql(_PERMS) + DOWNGRADE)
