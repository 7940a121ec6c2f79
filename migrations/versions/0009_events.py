"""Events, their steps (环节) and action history (R-EVT-1, R-WF-1, R-WF-5), and the event
permissions.

Row-level security: steps and actions carry the EVENT's path (not the handling unit's), so
everyone whose jurisdiction covers the event's area sees its whole history. A handling unit is
always at or above the event's grid and a department handles only events under its own unit
(the service refuses other targets), so the handler sees the rows too; that a department user
sees only the events dispatched to it (R-JUR-2) is enforced by the application layer.
`handler_path` is the handling unit's path (a department's own unit) for the sub-to-do box.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from domain.permissions import Perm
from services.permission_rows import grant_sql, revoke_sql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE SEQUENCE event_service_no_seq;
GRANT USAGE ON SEQUENCE event_service_no_seq TO grid_app;

CREATE TABLE events (
    id uuid PRIMARY KEY,
    service_no varchar(20) NOT NULL,
    title varchar(200) NOT NULL,
    category varchar(32) NOT NULL,
    subtype varchar(32) NOT NULL,
    grid_id uuid NOT NULL REFERENCES org_units (id),
    path ltree NOT NULL,
    occurred_at timestamptz NOT NULL,
    place_id uuid REFERENCES places (id),
    location geometry(Point, 4326),
    address varchar(300),
    description text NOT NULL,
    parties text,
    involved_count integer NOT NULL DEFAULT 0 CHECK (involved_count >= 0),
    is_major boolean NOT NULL DEFAULT false,
    is_urgent boolean NOT NULL DEFAULT false,
    source varchar(16) NOT NULL,
    state varchar(16) NOT NULL,
    process varchar(32) NOT NULL,
    current_step_id uuid,
    expedited boolean NOT NULL DEFAULT false,
    legacy boolean NOT NULL DEFAULT false,
    typical boolean NOT NULL DEFAULT false,
    duplicate_of uuid REFERENCES events (id),
    reporter_id uuid,
    closed_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT uq_events_service_no UNIQUE (service_no),
    CONSTRAINT ck_events_category CHECK (
        category IN ('dispute', 'security_hazard', 'livelihood', 'city_component', 'other')),
    CONSTRAINT ck_events_source CHECK (source IN ('app', 'hotline', 'web', 'walk_in',
        'video_patrol', 'third_party', 'citizen')),
    CONSTRAINT ck_events_state CHECK (
        state IN ('dispatch', 'pending_accept', 'handling', 'pending_verify', 'closed'))
);
CREATE INDEX ix_events_path ON events USING gist (path);
CREATE INDEX ix_events_grid ON events (grid_id);
CREATE INDEX ix_events_state ON events (state, category);
CREATE INDEX ix_events_title_trgm ON events USING gin (title gin_trgm_ops);
CREATE INDEX ix_events_location ON events USING gist (location);
SELECT grid_registry_table('events');

CREATE TABLE event_steps (
    id uuid PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES events (id),
    seq integer NOT NULL,
    unit_id uuid REFERENCES org_units (id),
    department_id uuid REFERENCES departments (id),
    path ltree NOT NULL,
    handler_path ltree NOT NULL,
    assigned_at timestamptz NOT NULL,
    accepted_at timestamptz,
    first_feedback_at timestamptz,
    last_feedback_at timestamptz,
    finished_at timestamptz,
    responsible_person varchar(100),
    responsible_phone varchar(20),
    outcome varchar(32),
    result text,
    accept_yellow_at timestamptz,
    accept_red_at timestamptz,
    handle_yellow_at timestamptz,
    handle_red_at timestamptz,
    CONSTRAINT uq_event_steps_seq UNIQUE (event_id, seq),
    CONSTRAINT ck_event_steps_handler CHECK (num_nonnulls(unit_id, department_id) = 1)
);
CREATE INDEX ix_event_steps_unit ON event_steps (unit_id) WHERE finished_at IS NULL;
CREATE INDEX ix_event_steps_department ON event_steps (department_id);
CREATE INDEX ix_event_steps_handler_path ON event_steps USING gist (handler_path);
SELECT grid_registry_table('event_steps');
ALTER TABLE events ADD CONSTRAINT fk_events_current_step
    FOREIGN KEY (current_step_id) REFERENCES event_steps (id);

CREATE TABLE event_actions (
    id uuid PRIMARY KEY,
    -- The order actions were taken in (several may share one instant).
    serial bigint GENERATED ALWAYS AS IDENTITY,
    event_id uuid NOT NULL REFERENCES events (id),
    step_id uuid REFERENCES event_steps (id),
    path ltree NOT NULL,
    action varchar(32) NOT NULL,
    actor_id uuid,
    actor_unit_id uuid,
    actor_department_id uuid,
    from_state varchar(16),
    to_state varchar(16) NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    at timestamptz NOT NULL
);
CREATE INDEX ix_event_actions_event ON event_actions (event_id, serial);
CREATE INDEX ix_event_actions_actor_unit ON event_actions (actor_unit_id, event_id);
CREATE INDEX ix_event_actions_actor_department ON event_actions (actor_department_id, event_id);
SELECT grid_registry_table('event_actions');
"""

_EVENT_PERMS = (Perm.EVENT_READ, Perm.EVENT_REPORT, Perm.EVENT_HANDLE, Perm.EVENT_SUPERVISE)


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(grant_sql(_EVENT_PERMS))


def downgrade() -> None:
    op.execute(
        revoke_sql(_EVENT_PERMS) + "ALTER TABLE events DROP CONSTRAINT fk_events_current_step;"
        "DROP TABLE event_actions; DROP TABLE event_steps; DROP TABLE events;"
        "DROP SEQUENCE event_service_no_seq;"
    )
