-- One vendor call budget per clinic, platform and scope across every server and worker process
-- (issue 12): the in-process limiter let N replicas spend N times a clinic's budget. Each row is a
-- sliding window log, the instants (epoch ms) of the calls granted within the last window, kept
-- sorted and pruned on every take; one upsert checks and takes atomically (see
-- src/db/connector-store.ts takeVendorCall). `scope` splits a platform's budget where the vendor
-- counts per endpoint (Jane: 100 requests a minute per endpoint and clinic).
CREATE TABLE vendor_rate_buckets (
  clinic_id text NOT NULL,
  platform text NOT NULL,
  scope text NOT NULL,
  call_times bigint[] NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, platform, scope)
);
