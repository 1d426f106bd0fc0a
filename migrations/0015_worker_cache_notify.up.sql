-- Email workers keep the settings (SMTP server, sender) and campaigns'
-- titles and slugs in memory between emails. These triggers tell them when
-- to drop their copy: NOTIFY cm_worker_cache 'settings' on any change of the
-- settings, 'campaign:<id>' when a campaign's title or slug is written or the
-- campaign deleted. The notification goes out at commit (and not at all on
-- rollback). Counting sent emails (email_count) notifies nobody.
CREATE FUNCTION notify_worker_cache_settings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cm_worker_cache', 'settings');
    RETURN NULL;
END
$$;

CREATE TRIGGER site_settings_worker_cache
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON site_settings
    FOR EACH STATEMENT EXECUTE FUNCTION notify_worker_cache_settings();

CREATE FUNCTION notify_worker_cache_campaign() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cm_worker_cache', 'campaign:' || OLD.id);
    RETURN NULL;
END
$$;

CREATE TRIGGER campaigns_worker_cache_update
    AFTER UPDATE OF title, slug ON campaigns
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.slug IS DISTINCT FROM NEW.slug)
    EXECUTE FUNCTION notify_worker_cache_campaign();

CREATE TRIGGER campaigns_worker_cache_delete
    AFTER DELETE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION notify_worker_cache_campaign();
