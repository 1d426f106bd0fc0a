DROP TABLE IF EXISTS map_geocode_job_items;
DROP TABLE IF EXISTS map_geocode_jobs;
