-- dashboard_rollup_touch runs in every trigger of the dashboard rollup (0014): each run upsert,
-- message, hold, task and completed appointment. Written in SQL and called from PL/pgSQL, its
-- body was parsed and planned again on every call; in PL/pgSQL its plan is kept for the session.
-- Same statement, same effect.
CREATE OR REPLACE FUNCTION dashboard_rollup_touch(c text, at timestamptz) RETURNS void LANGUAGE plpgsql AS $$ BEGIN
  UPDATE dashboard_rollup SET version = version + 1
  WHERE clinic_id = c AND day_start <= at AND day_start > at - interval '2 days' AND at < day_end
; END $$;
