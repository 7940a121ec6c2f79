"""The audit chain and the commit-ordered serials take their lock at commit, not at the first
write (R-AUD-1, R-API-3, R-MOB-2).

Until now the first audit entry of a transaction locked the chain head, and the workflow
history and the visit log took the same turn before numbering a row, each held to commit:
every audited transaction in the city waited for the whole of the one before it. Now:

- An entry is linked as it is written to the transaction's own previous entry, else to the
  committed head, without a lock, so the transaction reads a sound chain of its own entries.
  The writer's transaction id (`xact`) marks the entries as its own.
- At commit a deferred constraint trigger takes the chain's lock (the advisory lock the
  serials have always used), and if another transaction committed entries in between it
  renumbers and rehashes this transaction's entries after them; then it moves the head. The
  lock is held from that instant to the end of the commit only. A transaction that takes its
  turn before writing (`services.audit.take_turn`, for a batch written last) links to the
  head as it writes and is only checked at commit.
- The serials of `event_actions` and `visit_logs` are drawn as the row is written (so the
  transaction sees its own rows in order) and drawn again at commit under the same lock, so
  serials still become visible in commit order and a reader past one never misses a smaller
  one committed later.

Until commit the head is this transaction's own last entry (`audit_chain_tip()`, read by the
verifier); the relinking is the only update the append-only trigger lets through, and only
of the committing transaction's own entries. The hash functions are declared stable, which
they are, so that they inline.

Revision ID: 0040
Revises: 0039
"""

from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None

UPGRADE = """
-- Their bodies call stable functions (concat_ws, to_char), so declared immutable they could
-- not be inlined: each hash was a separate SQL-function call, ~0.3 ms an entry. Declared
-- stable they inline into the trigger and the verifier; the hashes do not change.
ALTER FUNCTION audit_payload(audit_log) STABLE;
ALTER FUNCTION audit_hash(audit_log) STABLE;

ALTER TABLE audit_log ADD COLUMN xact xid8;
COMMENT ON COLUMN audit_log.xact IS
    'The writing transaction: finds its own entries at commit; not part of the hash.';

-- A transaction's run of entries not yet linked at commit, from its first entry. Written only
-- by the triggers, and never committed: the link at commit deletes it. Its deferred trigger
-- lives here, not on audit_log, whose TRUNCATE (refused) must not meet pending events.
CREATE UNLOGGED TABLE audit_chain_runs (first_id bigint PRIMARY KEY);

-- Transaction-local settings: grid.audit_tip is 'id hash' of this transaction's last entry,
-- grid.audit_pending the first id of its open run.
CREATE OR REPLACE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    tip text := coalesce(current_setting('grid.audit_tip', true), '');
BEGIN
    IF tip = '' THEN
        SELECT last_hash INTO NEW.prev_hash FROM audit_chain_head;
    ELSE
        NEW.prev_hash := split_part(tip, ' ', 2);
    END IF;
    NEW.id := nextval('audit_log_id_seq');
    NEW.xact := pg_current_xact_id();
    NEW.hash := audit_hash(NEW);
    IF coalesce(current_setting('grid.audit_pending', true), '') = '' THEN
        INSERT INTO audit_chain_runs (first_id) VALUES (NEW.id);
        PERFORM set_config('grid.audit_pending', NEW.id::text, true);
    END IF;
    PERFORM set_config('grid.audit_tip', NEW.id || ' ' || NEW.hash, true);
    RETURN NEW;
END $$;

CREATE FUNCTION audit_log_link() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    me xid8 := pg_current_xact_id();
    head audit_chain_head;
    entry audit_log;
    written bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
    SELECT * INTO head FROM audit_chain_head;
    IF NEW.first_id > coalesce(head.last_id, 0) AND EXISTS (
        SELECT FROM audit_log WHERE id = NEW.first_id AND prev_hash = head.last_hash
    ) THEN
        -- Nobody committed since the run began: its entries stand as written.
        SELECT id, hash INTO head.last_id, head.last_hash FROM audit_log
        WHERE id >= NEW.first_id AND xact = me ORDER BY id DESC LIMIT 1;
    ELSE
        PERFORM set_config('grid.audit_relinking', me::text, true);
        FOR entry IN
            SELECT * FROM audit_log WHERE id >= NEW.first_id AND xact = me ORDER BY id
        LOOP
            written := entry.id;
            entry.id := nextval('audit_log_id_seq');
            entry.prev_hash := head.last_hash;
            entry.hash := audit_hash(entry);
            UPDATE audit_log SET id = entry.id, prev_hash = entry.prev_hash, hash = entry.hash
            WHERE id = written;
            head.last_id := entry.id;
            head.last_hash := entry.hash;
        END LOOP;
        PERFORM set_config('grid.audit_relinking', '', true);
    END IF;
    UPDATE audit_chain_head SET last_id = head.last_id, last_hash = head.last_hash;
    DELETE FROM audit_chain_runs WHERE first_id = NEW.first_id;
    PERFORM set_config('grid.audit_pending', '', true);
    PERFORM set_config('grid.audit_tip', head.last_id || ' ' || head.last_hash, true);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER audit_chain_runs_link AFTER INSERT ON audit_chain_runs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_log_link();

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.xact = pg_current_xact_id()
           AND current_setting('grid.audit_relinking', true) = OLD.xact::text THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;

-- The head as this transaction sees it: its own last entry until commit.
CREATE FUNCTION audit_chain_tip(OUT last_id bigint, OUT last_hash text) LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN tip = '' THEN h.last_id ELSE split_part(tip, ' ', 1)::bigint END,
           CASE WHEN tip = '' THEN h.last_hash ELSE split_part(tip, ' ', 2) END
    FROM audit_chain_head h, coalesce(current_setting('grid.audit_tip', true), '') AS tip
$$;

-- A row's serial drawn again at commit, under the chain's lock, in the order of writing.
CREATE FUNCTION commit_serial() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('audit_log_chain'));
    IF TG_TABLE_NAME = 'event_actions' THEN
        UPDATE event_actions SET serial = DEFAULT WHERE id = NEW.id;
    ELSE
        UPDATE visit_logs SET serial = nextval('field_change_serial_seq') WHERE id = NEW.id;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER event_actions_commit_serial AFTER INSERT ON event_actions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_serial();
-- Every change the application writes; not the renumbering itself (run from the trigger).
CREATE CONSTRAINT TRIGGER visit_logs_commit_serial AFTER INSERT OR UPDATE ON visit_logs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (pg_trigger_depth() = 0)
    EXECUTE FUNCTION commit_serial();
"""

DOWNGRADE = """
DROP TRIGGER visit_logs_commit_serial ON visit_logs;
DROP TRIGGER event_actions_commit_serial ON event_actions;
DROP FUNCTION commit_serial();
DROP FUNCTION audit_chain_tip();
DROP TABLE audit_chain_runs;
DROP FUNCTION audit_log_link();
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
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
ALTER TABLE audit_log DROP COLUMN xact;
ALTER FUNCTION audit_hash(audit_log) IMMUTABLE;
ALTER FUNCTION audit_payload(audit_log) IMMUTABLE;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
