DROP TRIGGER campaigns_worker_cache_update ON campaigns;

CREATE TRIGGER campaigns_worker_cache_update
    AFTER UPDATE OF title, slug ON campaigns
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION notify_worker_cache_campaign();
