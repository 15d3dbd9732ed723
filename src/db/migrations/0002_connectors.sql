-- Booking-platform connectors (issue 3): event time for ordering, polling cursors, vendor refs, merges.

-- The vendor's own event time: ordering uses it, never the time we happened to receive the event.
ALTER TABLE inbox_events ADD COLUMN occurred_at timestamptz;

-- Event time of the last vendor update applied to a row; older updates arriving later are stale.
ALTER TABLE clients ADD COLUMN source_updated_at timestamptz;
ALTER TABLE appointments ADD COLUMN source_updated_at timestamptz;

-- Polling cursors and small per-clinic connector state (one row per clinic, platform and key).
CREATE TABLE connector_state (
  clinic_id text NOT NULL,
  platform text NOT NULL,
  key text NOT NULL,
  value text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, platform, key)
);

-- The platform's mutable client reference next to our immutable key (Mindbody: Id next to UniqueId).
CREATE TABLE connector_client_refs (
  clinic_id text NOT NULL,
  platform text NOT NULL,
  external_id text NOT NULL,
  vendor_ref text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, platform, external_id)
);

-- Merged client profiles: events naming the removed id are applied to the kept one.
CREATE TABLE client_aliases (
  clinic_id text NOT NULL,
  alias_external_id text NOT NULL,
  external_id text NOT NULL,
  merged_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, alias_external_id)
);
