-- Admin API (issue 5): API keys with tenant scope and role, and staff decisions on services
-- that classification did not recognise.

-- A key is shown once at creation (`rebook keys create`); only its SHA-256 is kept. `id` is the
-- public prefix of the key (rbk_<id>_<secret>), used to find the row without scanning.
-- Scope: an agency (all its clinics), one clinic of an agency, or one clinic without agency.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  key_hash text NOT NULL,
  agency_id text,
  clinic_id text,
  role text NOT NULL CHECK (role IN ('admin', 'staff')),
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  last_used_at timestamptz,
  CHECK (agency_id IS NOT NULL OR clinic_id IS NOT NULL)
);

-- A service (by vendor id `id:<id>` or normalised name `name:<name>`, the keys of
-- unmapped_services) mapped by staff to a treatment type, or to none (NULL: not a repeatable
-- treatment, e.g. a consultation). Ingest consults it before the configured synonyms.
CREATE TABLE service_mappings (
  clinic_id text NOT NULL,
  service_key text NOT NULL,
  treatment_type text,
  mapped_by text,
  mapped_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, service_key)
);
