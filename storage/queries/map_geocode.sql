-- Geocoding: what the geocode fleet reads of a location and writes back,
-- the nar provider's look-ups in the imported register rows, and batch jobs
-- with their per-location items.

-- name: GeocodeTarget :one
SELECT id, address, city, province, postal_code, source,
    (geom IS NOT NULL)::boolean AS has_point,
    COALESCE(ST_Y(geom), 0)::float8 AS lat,
    COALESCE(ST_X(geom), 0)::float8 AS lng,
    geocode_provider,
    geocode_confidence
FROM map_locations
WHERE id = @id;

-- name: GeocodeTargetForUpdate :one
SELECT id,
    (geom IS NOT NULL)::boolean AS has_point,
    COALESCE(ST_Y(geom), 0)::float8 AS lat,
    COALESCE(ST_X(geom), 0)::float8 AS lng,
    geocode_provider,
    geocode_confidence
FROM map_locations
WHERE id = @id
FOR UPDATE;

-- name: SetLocationPoint :exec
UPDATE map_locations SET
    geom               = ST_SetSRID(ST_MakePoint(@lng::float8, @lat::float8), 4326),
    geocode_provider   = @provider::text,
    geocode_confidence = @confidence::smallint,
    geocoded_at        = now(),
    updated_at         = now()
WHERE id = @id;

-- name: TouchLocationGeocodedAt :exec
UPDATE map_locations SET geocoded_at = now() WHERE id = @id;

-- name: AddGeocodeHistory :exec
INSERT INTO map_location_history (location_id, user_id, action, changes)
VALUES (@location_id, sqlc.narg('user_id')::bigint, 'GEOCODE', @changes::jsonb);

-- name: NARLocationsByKey :many
SELECT id, address, city, province, postal_code,
    ST_Y(geom)::float8 AS lat,
    ST_X(geom)::float8 AS lng
FROM map_locations
WHERE address_key = ANY(@address_keys::text[]) AND source = 'NAR' AND geom IS NOT NULL
ORDER BY id
LIMIT 50;

-- name: NARUnitLabels :many
SELECT location_id, unit_label
FROM map_units
WHERE location_id = ANY(@location_ids::bigint[]) AND unit_label <> '';

-- name: NARNearest :many
SELECT id, address, city, province, postal_code,
    ST_Y(geom)::float8 AS lat,
    ST_X(geom)::float8 AS lng,
    ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(@lng::float8, @lat::float8), 4326)::geography)::float8 AS meters
FROM map_locations
WHERE source = 'NAR' AND geom IS NOT NULL
ORDER BY geom <-> ST_SetSRID(ST_MakePoint(@lng::float8, @lat::float8), 4326)
LIMIT 1;

-- name: CreateGeocodeJob :one
INSERT INTO map_geocode_jobs (request, created_by)
VALUES (@request::jsonb, sqlc.narg('created_by')::bigint)
RETURNING id;

-- name: MissingLocationIDs :many
SELECT x::bigint AS id
FROM unnest(@ids::bigint[]) AS x
WHERE NOT EXISTS (SELECT 1 FROM map_locations WHERE map_locations.id = x)
ORDER BY x
LIMIT 10;

-- name: AddGeocodeItemsByIDs :execrows
INSERT INTO map_geocode_job_items (job_id, location_id)
SELECT @job_id::bigint, id FROM map_locations WHERE id = ANY(@ids::bigint[])
ON CONFLICT DO NOTHING;

-- name: AddGeocodeItemsByFilter :execrows
INSERT INTO map_geocode_job_items (job_id, location_id)
SELECT @job_id::bigint, id
FROM map_locations
WHERE (NOT @without_point::boolean OR geom IS NULL)
  AND (sqlc.narg('postal_prefix')::text IS NULL OR postal_code LIKE sqlc.narg('postal_prefix')::text || '%')
  AND (sqlc.narg('source')::text IS NULL OR source = sqlc.narg('source')::text)
  AND (sqlc.narg('city')::text IS NULL OR lower(city) = lower(sqlc.narg('city')::text))
ORDER BY id
LIMIT @max_items::int;

-- name: SetGeocodeJobTotal :one
UPDATE map_geocode_jobs SET
    total       = @total::int,
    status      = CASE WHEN @total::int = 0 THEN 'DONE' ELSE status END,
    finished_at = CASE WHEN @total::int = 0 THEN now() ELSE finished_at END,
    updated_at  = now()
WHERE id = @id
RETURNING *;

-- name: GeocodeJobByID :one
SELECT * FROM map_geocode_jobs WHERE id = @id;

-- name: StartGeocodeJob :exec
UPDATE map_geocode_jobs SET
    status     = 'RUNNING',
    started_at = COALESCE(started_at, now()),
    updated_at = now()
WHERE id = @id AND status = 'QUEUED';

-- name: FailGeocodeJob :exec
UPDATE map_geocode_jobs SET
    status      = 'FAILED',
    error       = left(@error::text, 1000),
    finished_at = now(),
    updated_at  = now()
WHERE id = @id AND status IN ('QUEUED', 'RUNNING');

-- name: PendingGeocodeItems :many
SELECT location_id
FROM map_geocode_job_items
WHERE job_id = @job_id AND location_id > @after_id AND location_id <= @to_id AND status = 'PENDING'
ORDER BY location_id
LIMIT @max_items::int;

-- name: FinishGeocodeItem :execrows
WITH item AS (
    UPDATE map_geocode_job_items SET
        status      = @status::text,
        provider    = @provider::text,
        error       = left(@error::text, 500),
        finished_at = now()
    WHERE job_id = @job_id AND location_id = @location_id AND status = 'PENDING'
    RETURNING status
), counted AS (
    SELECT count(*) FILTER (WHERE status = 'DONE')::int AS done,
           count(*) FILTER (WHERE status = 'FAILED')::int AS failed
    FROM item
)
UPDATE map_geocode_jobs j SET
    done        = j.done + counted.done,
    failed      = j.failed + counted.failed,
    status      = CASE
                      WHEN j.status IN ('FAILED', 'CANCELLED') THEN j.status
                      WHEN j.done + j.failed + counted.done + counted.failed >= j.total THEN 'DONE'
                      ELSE 'RUNNING'
                  END,
    started_at  = COALESCE(j.started_at, now()),
    finished_at = CASE
                      WHEN j.status NOT IN ('FAILED', 'CANCELLED') AND j.done + j.failed + counted.done + counted.failed >= j.total THEN now()
                      ELSE j.finished_at
                  END,
    updated_at  = now()
FROM counted
WHERE j.id = @job_id AND counted.done + counted.failed > 0;

-- name: GeocodeItemIDs :many
SELECT location_id
FROM map_geocode_job_items
WHERE job_id = @job_id AND location_id > @after_id
ORDER BY location_id
LIMIT @max_items::int;

-- name: CancelGeocodeJob :one
UPDATE map_geocode_jobs SET
    status      = 'CANCELLED',
    finished_at = now(),
    updated_at  = now()
WHERE id = @id AND status IN ('QUEUED', 'RUNNING')
RETURNING *;

-- Jobs still going whose last change is older than @before: their tasks
-- may have been lost from Redis (the sweep plans them again).
-- name: StaleGeocodeJobs :many
SELECT id FROM map_geocode_jobs
WHERE status IN ('QUEUED', 'RUNNING') AND updated_at < @before
ORDER BY updated_at
LIMIT @max_jobs::int;

-- name: TouchGeocodeJob :exec
UPDATE map_geocode_jobs SET updated_at = now() WHERE id = @id AND status IN ('QUEUED', 'RUNNING');
