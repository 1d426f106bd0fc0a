-- A response-wall verification email the email fleet gave up on (a permanent
-- SMTP refusal, an address it cannot send to, or its retries ran out) is
-- recorded as failed, so the sweeper stops picking it up: left unmarked, such
-- rows were swept for the link's whole 30 days, and enough of them filled the
-- sweeper's batch ahead of verifications that were only lost in Redis.
ALTER TABLE campaign_responses
    ADD COLUMN verification_failed_at timestamptz,
    ADD COLUMN verification_error     text NOT NULL DEFAULT '';

-- What the sweeper reads: verifications neither sent, failed nor needed any more.
CREATE INDEX campaign_responses_unsent_verification_idx ON campaign_responses (created_at)
    WHERE verification_sent_at IS NULL AND verification_failed_at IS NULL AND verified_at IS NULL
      AND submitter_email <> '';

-- A campaign offers mailto links (which publish its custom recipients'
-- addresses) only when an admin turns them on. Existing campaigns keep theirs.
ALTER TABLE campaigns ALTER COLUMN allow_mailto_link SET DEFAULT false;
