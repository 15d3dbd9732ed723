-- Inbox dead letters (issue 3): a row whose processing keeps failing for a reason other than
-- Temporal being unreachable (a vendor API down for days, a refused credential, a bug) ends as
-- 'dead' with its error code instead of being retried for ever. Temporal-unreachable rows are
-- never dead-lettered: an outage of the cluster is exactly what the inbox is for.
ALTER TABLE inbox_events DROP CONSTRAINT IF EXISTS inbox_events_status_check;
ALTER TABLE inbox_events ADD CONSTRAINT inbox_events_status_check CHECK (status IN ('pending', 'done', 'rejected', 'dead'));

-- Failures that count toward dead-lettering, and when the first of them happened.
ALTER TABLE inbox_events ADD COLUMN failures integer NOT NULL DEFAULT 0;
ALTER TABLE inbox_events ADD COLUMN failing_since timestamptz;

CREATE INDEX inbox_dead ON inbox_events (clinic_id, received_at) WHERE status = 'dead';
