-- A geocode job can be cancelled: its chunks stop at their next location
-- and what is still pending stays PENDING (never placed by this job).
ALTER TABLE map_geocode_jobs DROP CONSTRAINT map_geocode_jobs_status_check;
ALTER TABLE map_geocode_jobs ADD CONSTRAINT map_geocode_jobs_status_check
    CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED'));

-- The sweeps look for jobs and imports still going whose last change is old.
CREATE INDEX map_geocode_jobs_going_idx ON map_geocode_jobs (updated_at)
    WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX map_imports_going_idx ON map_imports (updated_at)
    WHERE status IN ('QUEUED', 'RUNNING');
