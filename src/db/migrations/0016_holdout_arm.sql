-- Proof of lift (issue 13): the arm a sequence's client was assigned at enrolment ('treated' or
-- 'holdout', from a keyed hash of clinic and client), kept on the sequence, on every run (what the
-- lift report counts) and on every ledger row. NULL: enrolled before holdouts existed = treated.
ALTER TABLE sequences ADD COLUMN arm text CHECK (arm IN ('treated', 'holdout'));
ALTER TABLE sequence_runs ADD COLUMN arm text CHECK (arm IN ('treated', 'holdout'));
ALTER TABLE messages ADD COLUMN arm text CHECK (arm IN ('treated', 'holdout'));
