-- Messaging and compliance (issue 4): consent history, channel state, ledger tracking, provider
-- events, replies, incentives, staff task workflow.

-- What we know about a client beyond the booking platform's record.
ALTER TABLE clients ADD COLUMN phone_e164 text;
ALTER TABLE clients ADD COLUMN time_zone text;
CREATE INDEX clients_phone_e164 ON clients (clinic_id, phone_e164);

-- Every consent change with its source and time: platform flags, imports, replies, unsubscribes, staff.
CREATE TABLE consent_events (
  id bigserial PRIMARY KEY,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  channel text NOT NULL CHECK (channel IN ('sms', 'email')),
  action text NOT NULL CHECK (action IN ('granted', 'revoked')),
  source text NOT NULL,
  ref text,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_client ON consent_events (client_id, channel, occurred_at);

-- Current per-channel state: an opt-out here beats any platform flag that says yes; an
-- undeliverable channel is skipped for the rest of every sequence.
CREATE TABLE client_channels (
  client_id uuid NOT NULL REFERENCES clients(id),
  channel text NOT NULL CHECK (channel IN ('sms', 'email')),
  opted_out_at timestamptz,
  opt_out_source text,
  undeliverable_at timestamptz,
  undeliverable_code text,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, channel)
);

-- Ledger tracking: when the send was attempted (workflow time, what caps count), the provider's
-- error code and when the status last changed.
ALTER TABLE messages ADD COLUMN attempted_at timestamptz;
ALTER TABLE messages ADD COLUMN error_code text;
ALTER TABLE messages ADD COLUMN status_updated_at timestamptz;
CREATE INDEX messages_provider_id ON messages (provider, provider_message_id);
CREATE INDEX messages_caps ON messages (client_id, attempted_at);

-- Provider webhook deliveries already handled (SendGrid sg_event_id, Twilio MessageSid of replies).
CREATE TABLE provider_events (
  provider text NOT NULL,
  event_id text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider, event_id)
);

-- Engagement for reports (opens, clicks), by ledger message.
CREATE TABLE message_events (
  id bigserial PRIMARY KEY,
  message_id uuid NOT NULL REFERENCES messages(id),
  event text NOT NULL,
  occurred_at timestamptz NOT NULL
);
CREATE INDEX message_events_message ON message_events (message_id);

-- Inbound replies. The text is PHI and stays here (never in logs or Temporal).
CREATE TABLE inbound_messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  clinic_id text NOT NULL,
  client_id uuid REFERENCES clients(id),
  provider text NOT NULL,
  provider_message_id text NOT NULL,
  from_address text NOT NULL,
  body text NOT NULL,
  intent text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_message_id)
);

-- One incentive per client and sequence run: the code is random and unguessable.
CREATE TABLE incentives (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL UNIQUE,
  idempotency_key text NOT NULL UNIQUE,
  clinic_id text NOT NULL,
  client_id uuid NOT NULL REFERENCES clients(id),
  workflow_id text NOT NULL,
  run_key text NOT NULL,
  offer jsonb NOT NULL,
  description text NOT NULL,
  expires_at timestamptz NOT NULL,
  message_id uuid REFERENCES messages(id),
  redeemed_at timestamptz,
  redeemed_ref text,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Staff task workflow: who claimed it, how it ended, and the ledger message it concerns.
ALTER TABLE staff_tasks ADD COLUMN claimed_by text;
ALTER TABLE staff_tasks ADD COLUMN claimed_at timestamptz;
ALTER TABLE staff_tasks ADD COLUMN resolved_at timestamptz;
ALTER TABLE staff_tasks ADD COLUMN outcome text;
ALTER TABLE staff_tasks ADD COLUMN message_id uuid REFERENCES messages(id);
ALTER TABLE staff_tasks ADD COLUMN inbound_message_id uuid REFERENCES inbound_messages(id);
