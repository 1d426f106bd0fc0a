-- Marking an email SENT used to bump campaigns.email_count in the same
-- transaction, so every send of a campaign queued on its one row and the
-- window between the SMTP server's 250 and our commit (where a killed worker
-- sends a message twice) widened with the load. A SENT row is now only
-- flagged count_pending; the periodic email sweep folds the flagged rows into
-- email_count in batches (exact, late by at most one sweep).
ALTER TABLE campaign_emails ADD COLUMN count_pending boolean NOT NULL DEFAULT false;
CREATE INDEX campaign_emails_count_pending_idx ON campaign_emails (campaign_id) WHERE count_pending;
