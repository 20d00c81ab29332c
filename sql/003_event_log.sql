-- The append-only event log. Rows are never updated or deleted by the service; event_id makes re-sends idempotent
-- (INSERT ... ON CONFLICT DO NOTHING); the time index serves the trainer's point-in-time range reads.
CREATE TABLE IF NOT EXISTS event_log (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id     text NOT NULL,
    user_id      text NOT NULL,
    item_id      text NOT NULL,
    event_type   smallint NOT NULL,
    value        real,
    request_id   text,
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    device       text,
    region       text,
    language     text,
    CONSTRAINT event_log_event_id UNIQUE (event_id)
);

CREATE INDEX IF NOT EXISTS event_log_occurred_at ON event_log (occurred_at, seq);
CREATE INDEX IF NOT EXISTS event_log_user_time ON event_log (user_id, occurred_at);

-- Append-only is enforced, not just promised.
CREATE OR REPLACE FUNCTION event_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'event_log is append-only: % refused', TG_OP;
END $$;

DROP TRIGGER IF EXISTS event_log_append_only ON event_log;
CREATE TRIGGER event_log_append_only BEFORE UPDATE OR DELETE ON event_log
    FOR EACH ROW EXECUTE FUNCTION event_log_refuse_change();
