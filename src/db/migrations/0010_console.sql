-- The console (issue 10): people who sign in, their sessions, one-time links, and the audit log.

-- A user's scope: an agency admin sees every clinic of `agency_id` plus `clinic_ids`; a clinic
-- manager and a front-desk user see exactly `clinic_ids`. Passwords are argon2id hashes; a user
-- invited but not yet set up has none. `failed_logins` / `locked_until` lock an account after
-- repeated wrong passwords. `totp_secret` is set once the user enrols a second factor.
CREATE TABLE console_users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('agency_admin', 'clinic_manager', 'front_desk')),
  agency_id text,
  clinic_ids text[] NOT NULL DEFAULT '{}',
  password_hash text,
  totp_secret text,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE UNIQUE INDEX console_users_email ON console_users (lower(email));

-- Server-side sessions: the cookie holds a random id, the row its SHA-256. Revoking a row (logout,
-- a revoked user) ends the session at once. Idle and absolute limits are checked on every request.
CREATE TABLE console_sessions (
  id_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES console_users (id),
  csrf_token text NOT NULL,
  clinic_id text,
  created_at timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- One-time links (invitation, password reset, the first admin's login): SHA-256 of the token,
-- usable once before it expires.
CREATE TABLE console_links (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES console_users (id),
  purpose text NOT NULL CHECK (purpose IN ('invite', 'reset', 'setup')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- Append-only: who did or saw what, by id only (never a client field). Updates and deletes are
-- refused by the trigger below, so even a bug in the app cannot rewrite history.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  user_id uuid,
  role text NOT NULL,
  clinic_id text,
  client_id uuid,
  action text NOT NULL,
  target text
);
CREATE INDEX audit_log_at ON audit_log (at);

-- One line: migrations are split on a semicolon at the end of a line.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- A reply a person has dealt with: inbound_messages.handled_at/handled_by (0009_console_data.sql).
