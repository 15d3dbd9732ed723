-- Reports (issue 5): one row per sequence run, and what held a stage back.

-- The `sequences` row mirrors a workflow's latest run only: a newer treatment of the same type
-- restarts the workflow and overwrites it. Reports need every run (the earlier one usually ended
-- in the very booking that led to the newer treatment). Times are workflow time.
CREATE TABLE sequence_runs (
  workflow_id text NOT NULL,
  run_key text NOT NULL,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  treatment_type text NOT NULL,
  anchor_at timestamptz,
  outcome text NOT NULL DEFAULT 'running',
  outcome_stage text,
  running boolean NOT NULL DEFAULT true,
  started_at timestamptz NOT NULL,
  ended_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workflow_id, run_key)
);
CREATE INDEX sequence_runs_clinic ON sequence_runs (clinic_id, anchor_at);

-- Runs recorded before this table existed: their latest run, as the sequences row has it.
INSERT INTO sequence_runs (workflow_id, run_key, clinic_id, client_id, treatment_type, anchor_at, outcome, outcome_stage, running, started_at, ended_at)
  SELECT workflow_id, anchor_appointment_id, clinic_id, client_id, treatment_type, anchor_at, outcome, outcome_stage, running, created_at, CASE WHEN running THEN NULL ELSE updated_at END
  FROM sequences WHERE anchor_appointment_id IS NOT NULL;

-- A stage held back by the send window or caps (deferred) or not sent at all (suppressed: caps,
-- consent, no usable channel, …): one row per run, stage, kind and reason, first occurrence.
CREATE TABLE delivery_holds (
  id bigserial PRIMARY KEY,
  clinic_id text NOT NULL,
  workflow_id text NOT NULL,
  run_key text NOT NULL,
  treatment_type text NOT NULL,
  stage text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('deferred', 'suppressed')),
  reason text NOT NULL,
  occurred_at timestamptz NOT NULL,
  until timestamptz,
  UNIQUE (workflow_id, run_key, stage, kind, reason)
);
CREATE INDEX delivery_holds_clinic ON delivery_holds (clinic_id, occurred_at);
