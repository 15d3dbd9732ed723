-- The clinic dashboard's facts per clinic and local day of treatment (issue 10: the dashboard under
-- 100 ms on a 20,000-client clinic). A row holds the facts of the runs anchored in [day_start,
-- day_end): each run's outcome, the message tallies, escalation tasks and holds (ids, stages and
-- counts only, never client fields), as src/reports/rollup.ts read them at `computed_version`.
-- Every write that changes those facts bumps `version` in the same transaction (the triggers
-- below), so a row is fresh only while computed_version = version; a stale row is read again the
-- slow way on the next view. Counting stays in the pure report: rows hold facts, not rates.
CREATE TABLE dashboard_rollup (
  clinic_id text NOT NULL,
  day_start timestamptz NOT NULL,
  day_end timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT 0,
  computed_version bigint,
  facts json,
  PRIMARY KEY (clinic_id, day_start)
);

-- The appointments trigger finds a client's runs.
CREATE INDEX sequence_runs_client ON sequence_runs (client_id);

-- Function bodies keep their semicolons off line ends: migrations are split on a semicolon at the end of a line.
-- A local day is at most 25 hours long: the day holding `at` starts less than two days before it.
CREATE FUNCTION dashboard_rollup_touch(c text, at timestamptz) RETURNS void LANGUAGE sql AS $$
  UPDATE dashboard_rollup SET version = version + 1
  WHERE clinic_id = c AND day_start <= at AND day_start > at - interval '2 days' AND at < day_end $$;

-- A client message belongs to the run whose "workflowId|runKey|" prefixes its idempotency key (as in reports/query.ts).
CREATE FUNCTION dashboard_rollup_touch_message(wf text, ikey text) RETURNS void LANGUAGE sql AS $$
  SELECT dashboard_rollup_touch(r.clinic_id, r.anchor_at) FROM sequence_runs r
  WHERE r.workflow_id = wf AND r.anchor_at IS NOT NULL
    AND left(ikey, length(r.workflow_id) + length(r.run_key) + 2) = r.workflow_id || '|' || r.run_key || '|' $$;

CREATE FUNCTION dashboard_rollup_on_run() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF TG_OP <> 'INSERT' AND OLD.anchor_at IS NOT NULL THEN PERFORM dashboard_rollup_touch(OLD.clinic_id, OLD.anchor_at)
  ; END IF
  ; IF TG_OP <> 'DELETE' AND NEW.anchor_at IS NOT NULL THEN PERFORM dashboard_rollup_touch(NEW.clinic_id, NEW.anchor_at)
  ; END IF
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_run AFTER INSERT OR UPDATE OR DELETE ON sequence_runs
  FOR EACH ROW EXECUTE FUNCTION dashboard_rollup_on_run();

CREATE FUNCTION dashboard_rollup_on_message() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM dashboard_rollup_touch_message(OLD.workflow_id, OLD.idempotency_key)
  ; END IF
  ; IF TG_OP <> 'DELETE' THEN PERFORM dashboard_rollup_touch_message(NEW.workflow_id, NEW.idempotency_key)
  ; END IF
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_message AFTER INSERT OR DELETE OR UPDATE OF status, stage, channel, workflow_id, idempotency_key
  ON messages FOR EACH ROW EXECUTE FUNCTION dashboard_rollup_on_message();

-- Opens and clicks are counted per email.
CREATE FUNCTION dashboard_rollup_on_message_event() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  PERFORM dashboard_rollup_touch_message(m.workflow_id, m.idempotency_key) FROM messages m WHERE m.id = NEW.message_id
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_message_event AFTER INSERT ON message_events
  FOR EACH ROW WHEN (NEW.event IN ('open', 'click')) EXECUTE FUNCTION dashboard_rollup_on_message_event();

-- A run's escalation task is keyed "workflowId|runKey|escalation".
CREATE FUNCTION dashboard_rollup_on_task() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  PERFORM dashboard_rollup_touch(r.clinic_id, r.anchor_at) FROM sequence_runs r
  WHERE r.workflow_id = coalesce(NEW.workflow_id, split_part(NEW.idempotency_key, '|', 1)) AND r.anchor_at IS NOT NULL
    AND NEW.idempotency_key = r.workflow_id || '|' || r.run_key || '|escalation'
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_task AFTER INSERT OR UPDATE ON staff_tasks
  FOR EACH ROW WHEN (NEW.idempotency_key LIKE '%|escalation') EXECUTE FUNCTION dashboard_rollup_on_task();

CREATE FUNCTION dashboard_rollup_on_hold() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE h delivery_holds
; BEGIN
  IF TG_OP = 'DELETE' THEN h := OLD
  ; ELSE h := NEW
  ; END IF
  ; PERFORM dashboard_rollup_touch(r.clinic_id, r.anchor_at) FROM sequence_runs r
  WHERE r.workflow_id = h.workflow_id AND r.run_key = h.run_key AND r.anchor_at IS NOT NULL
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_hold AFTER INSERT OR UPDATE OR DELETE ON delivery_holds
  FOR EACH ROW EXECUTE FUNCTION dashboard_rollup_on_hold();

-- A booked run's revenue is the price of the client's next completed appointment: a completed
-- appointment (or one that stops being completed) touches every run of that client.
CREATE FUNCTION dashboard_rollup_on_appointment() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE a appointments
; BEGIN
  IF TG_OP = 'DELETE' THEN a := OLD
  ; ELSE a := NEW
  ; END IF
  ; IF a.status <> 'completed' AND (TG_OP = 'INSERT' OR OLD.status <> 'completed') THEN RETURN NULL
  ; END IF
  ; PERFORM dashboard_rollup_touch(r.clinic_id, r.anchor_at) FROM clients c JOIN sequence_runs r ON r.client_id = c.id
  WHERE c.clinic_id = a.clinic_id AND c.external_id = a.client_external_id AND r.anchor_at IS NOT NULL
  ; RETURN NULL
; END $$;
CREATE TRIGGER dashboard_rollup_appointment AFTER INSERT OR UPDATE OR DELETE ON appointments
  FOR EACH ROW EXECUTE FUNCTION dashboard_rollup_on_appointment();
