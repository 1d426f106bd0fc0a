-- Fold what is still pending before the flag goes, so no sent email is lost
-- from the counts.
UPDATE campaigns c SET email_count = c.email_count + p.n
FROM (SELECT campaign_id, count(*)::integer AS n FROM campaign_emails WHERE count_pending GROUP BY campaign_id) p
WHERE c.id = p.campaign_id;
DROP INDEX campaign_emails_count_pending_idx;
ALTER TABLE campaign_emails DROP COLUMN count_pending;
