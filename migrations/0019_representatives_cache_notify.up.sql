-- The API keeps the representatives of a postal code that its public send
-- routes read in memory too (storage/cachenotify): a change of a postal
-- code's representatives (a lookup refreshed, a representative gone, the
-- postal code deleted) announces itself at commit with NOTIFY
-- cm_worker_cache 'postal:<code>'; a TRUNCATE with 'representatives', which
-- the processes do not know and so drop everything for.
CREATE FUNCTION notify_cache_representatives() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('cm_worker_cache', 'representatives');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('cm_worker_cache', 'postal:' || OLD.postal_code);
    ELSE
        PERFORM pg_notify('cm_worker_cache', 'postal:' || NEW.postal_code);
        IF TG_OP = 'UPDATE' AND OLD.postal_code IS DISTINCT FROM NEW.postal_code THEN
            PERFORM pg_notify('cm_worker_cache', 'postal:' || OLD.postal_code);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER representatives_cache
    AFTER INSERT OR UPDATE OR DELETE ON representatives
    FOR EACH ROW EXECUTE FUNCTION notify_cache_representatives();

CREATE TRIGGER representatives_cache_truncate
    AFTER TRUNCATE ON representatives
    FOR EACH STATEMENT EXECUTE FUNCTION notify_cache_representatives();
