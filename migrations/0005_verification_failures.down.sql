ALTER TABLE campaigns ALTER COLUMN allow_mailto_link SET DEFAULT true;
DROP INDEX campaign_responses_unsent_verification_idx;
ALTER TABLE campaign_responses
    DROP COLUMN verification_error,
    DROP COLUMN verification_failed_at;
