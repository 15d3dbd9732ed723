-- SendGrid dynamic templates (issue 4): an email stage may name a template kept at SendGrid. The
-- ledger then holds its id and the token values it is filled with (no rendered body), so a
-- retried send sends exactly the same.
ALTER TABLE messages ADD COLUMN template_id text;
ALTER TABLE messages ADD COLUMN template_data jsonb;
