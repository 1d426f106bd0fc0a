DROP INDEX IF EXISTS map_imports_going_idx;
DROP INDEX IF EXISTS map_geocode_jobs_going_idx;
UPDATE map_geocode_jobs SET status = 'FAILED', error = 'cancelled' WHERE status = 'CANCELLED';
ALTER TABLE map_geocode_jobs DROP CONSTRAINT map_geocode_jobs_status_check;
ALTER TABLE map_geocode_jobs ADD CONSTRAINT map_geocode_jobs_status_check
    CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED'));
