-- The API keeps the campaigns its public send routes read by slug in memory
-- too (storage/cachenotify), and they need more than a title and a slug:
-- status, the allow_* switches, subject, body, target levels. So a campaign
-- now announces any change of its row but its counts: NOTIFY cm_worker_cache
-- 'campaign:<id>' (as in 0015) whenever a column other than email_count and
-- call_count changes. Counting sent emails and calls still notifies nobody.
DROP TRIGGER campaigns_worker_cache_update ON campaigns;

CREATE TRIGGER campaigns_worker_cache_update
    AFTER UPDATE ON campaigns
    FOR EACH ROW WHEN ((to_jsonb(OLD) - 'email_count' - 'call_count')
        IS DISTINCT FROM (to_jsonb(NEW) - 'email_count' - 'call_count'))
    EXECUTE FUNCTION notify_worker_cache_campaign();
