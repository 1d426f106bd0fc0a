DROP TRIGGER representatives_cache_truncate ON representatives;
DROP TRIGGER representatives_cache ON representatives;
DROP FUNCTION notify_cache_representatives();
