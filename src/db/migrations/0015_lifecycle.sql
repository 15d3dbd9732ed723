-- Message categories (issue 11): care touches (clinical check-ins, post-care tips, results
-- messages) are not marketing. Frequency caps count marketing sends only unless a clinic's
-- rules include care, so the ledger remembers each message's category. Existing rows were all
-- marketing stages.
ALTER TABLE messages ADD COLUMN category text NOT NULL DEFAULT 'marketing';

-- A booked appointment the client did not come to (the platforms' no-show statuses, mapped to the
-- canonical `appointment.no_show` event).
ALTER TABLE appointments DROP CONSTRAINT IF EXISTS appointments_status_check;
ALTER TABLE appointments ADD CONSTRAINT appointments_status_check
  CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show'));
