-- Two-step sign-in (issue 10): TOTP for console users.

-- `totp_secret` (0010) is the active secret and `totp_pending_secret` one shown for enrolment and
-- not yet confirmed with a code; both are sealed (AES-256-GCM, REBOOK_SECRETS_KEY). A code works
-- once: `totp_last_step` is the latest 30-second step accepted, and only later steps pass.
ALTER TABLE console_users ADD COLUMN totp_pending_secret text;
ALTER TABLE console_users ADD COLUMN totp_last_step bigint;

-- Between a right password and the code: the browser holds a random token in a cookie, the row
-- its SHA-256. Spent on use, short-lived, never a session: nothing but the code form accepts it.
CREATE TABLE console_sign_in_steps (
  token_hash text PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES console_users (id),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
CREATE INDEX console_sign_in_steps_user ON console_sign_in_steps (user_id);
