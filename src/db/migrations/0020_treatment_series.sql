-- Treatment series (issue 11 §4): the session a completed appointment was and the course's length,
-- when the booking platform says so (a Mindbody pricing option or contract, a Vagaro package).
-- NULL: the platform did not say; the planner then counts completed appointments of the type.
ALTER TABLE appointments ADD COLUMN series_session integer CHECK (series_session >= 1);
ALTER TABLE appointments ADD COLUMN series_sessions integer CHECK (series_sessions >= 1);
