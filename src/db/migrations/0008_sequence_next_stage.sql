-- The stage due at next_action_at (issue 9): `stage` is the last stage reached, so after stages
-- skipped as past due it named the incentive while next_action_at was the day-95 check-in.
ALTER TABLE sequences ADD COLUMN next_stage text;
