-- A vendor's query-cost budget per clinic and platform, shared by every server and worker process
-- (Boulevard meters its GraphQL Admin API by query cost: a bucket of points refilling per second).
-- `available` is the level at `at_ms` (epoch ms); the level now is that plus the refill since,
-- capped at `capacity`. One upsert refills, checks and spends atomically; what the API reports
-- after a call (points left, capacity, restore rate) overwrites the row (src/db/connector-store.ts
-- takeVendorCost / observeVendorCost).
CREATE TABLE vendor_cost_buckets (
  clinic_id text NOT NULL,
  platform text NOT NULL,
  available double precision NOT NULL,
  capacity double precision NOT NULL,
  restore_per_second double precision NOT NULL,
  at_ms bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, platform)
);
