-- Message categories (issue 11): care touches (clinical check-ins, post-care tips, results
-- messages) are not marketing. Frequency caps count marketing sends only unless a clinic's
-- rules include care, so the ledger remembers each message's category. Existing rows were all
-- marketing stages.
ALTER TABLE messages ADD COLUMN category text NOT NULL DEFAULT 'marketing';
