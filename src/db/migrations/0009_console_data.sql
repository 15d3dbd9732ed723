-- What the console's connector health, sending health and conversations need that nothing
-- recorded durably before (issue 10).

-- Vendor API calls per clinic, platform and UTC day. The connectors' in-process counter feeds
-- /metrics, which resets with the process and is per replica; the budget (Mindbody bills past
-- ~1,000 calls a day per site) is per clinic across every process.
CREATE TABLE vendor_api_calls (
  clinic_id text NOT NULL,
  platform text NOT NULL,
  day date NOT NULL,
  calls integer NOT NULL DEFAULT 0,
  PRIMARY KEY (clinic_id, platform, day)
);

-- Connector failures that were only logged: a poll that failed (the vendor down, a refused
-- credential). Codes only, never a vendor body.
CREATE TABLE connector_errors (
  id bigserial PRIMARY KEY,
  clinic_id text NOT NULL,
  platform text NOT NULL,
  source text NOT NULL,
  code text NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connector_errors_clinic ON connector_errors (clinic_id, occurred_at);

-- A reply staff marked handled in the conversations page (replies that raised a task are also
-- handled once the task is resolved).
ALTER TABLE inbound_messages ADD COLUMN handled_at timestamptz;
ALTER TABLE inbound_messages ADD COLUMN handled_by text;
CREATE INDEX inbound_messages_clinic ON inbound_messages (clinic_id, received_at);
CREATE INDEX staff_tasks_inbound ON staff_tasks (inbound_message_id) WHERE inbound_message_id IS NOT NULL;

-- The last inbox rows of a clinic (connector health: last webhook received).
CREATE INDEX inbox_clinic_received ON inbox_events (clinic_id, received_at);
