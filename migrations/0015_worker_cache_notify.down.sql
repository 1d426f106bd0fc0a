DROP TRIGGER IF EXISTS campaigns_worker_cache_delete ON campaigns;
DROP TRIGGER IF EXISTS campaigns_worker_cache_update ON campaigns;
DROP FUNCTION IF EXISTS notify_worker_cache_campaign();
DROP TRIGGER IF EXISTS site_settings_worker_cache ON site_settings;
DROP FUNCTION IF EXISTS notify_worker_cache_settings();
