-- Clients as the booking platform knows them. PHI lives here and only here.
CREATE TABLE clients (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id text NOT NULL,
  external_id text NOT NULL,
  first_name text NOT NULL,
  last_name text NOT NULL,
  email text,
  phone text,
  consent_sms boolean NOT NULL DEFAULT false,
  consent_email boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (clinic_id, external_id)
);

-- Appointments we have heard of; the generic connector answers booking checks from here.
CREATE TABLE appointments (
  clinic_id text NOT NULL,
  external_id text NOT NULL,
  client_external_id text NOT NULL,
  status text NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed')),
  start_at timestamptz,
  service_name text,
  treatment_type text,
  price_cents integer,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, external_id)
);
CREATE INDEX appointments_client ON appointments (clinic_id, client_external_id, status, start_at);

-- Every accepted event is written here before it is answered; a forwarder retries what did not reach Temporal.
CREATE TABLE inbox_events (
  id bigserial PRIMARY KEY,
  clinic_id text NOT NULL,
  source text NOT NULL,
  dedupe_key text NOT NULL,
  event_type text NOT NULL,
  payload jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'rejected')),
  result jsonb,
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  locked_until timestamptz,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  UNIQUE (clinic_id, source, dedupe_key)
);
CREATE INDEX inbox_pending ON inbox_events (received_at) WHERE status = 'pending';

-- One row per sequence workflow (clinic, client, treatment type); mirrors the workflow's progress.
CREATE TABLE sequences (
  workflow_id text PRIMARY KEY,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  treatment_type text NOT NULL,
  anchor_appointment_id text,
  anchor_at timestamptz,
  stage text,
  next_action_at timestamptz,
  outcome text NOT NULL DEFAULT 'running',
  outcome_stage text,
  running boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sequences_client ON sequences (clinic_id, client_id);

-- The message ledger: one row per (sequence run, stage); the idempotency key makes sends once-only.
CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  workflow_id text NOT NULL,
  treatment_type text NOT NULL,
  stage text NOT NULL,
  channel text NOT NULL,
  status text NOT NULL,
  provider text NOT NULL,
  provider_message_id text,
  recipient text,
  subject text,
  body text,
  due_at timestamptz NOT NULL,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_client ON messages (clinic_id, client_id, sent_at);

-- Work for the front desk: escalations and anything automation should not decide.
CREATE TABLE staff_tasks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL UNIQUE,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  workflow_id text,
  treatment_type text,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'resolved')),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  due_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_tasks_clinic ON staff_tasks (clinic_id, status, created_at);

-- Service names no synonym matched: staff map them, reports count them.
CREATE TABLE unmapped_services (
  clinic_id text NOT NULL,
  service_key text NOT NULL,
  service_id text,
  service_name text NOT NULL,
  occurrences integer NOT NULL DEFAULT 1,
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, service_key)
);
