-- Map core: locations (buildings), their units and their change history.
-- Points are never selected raw: ST_Y/ST_X give latitude and longitude.

-- name: InsertMapLocation :one
INSERT INTO map_locations (address, city, province, postal_code, geom, building_type, source, source_id,
    address_key, created_by)
VALUES (@address, @city, @province, @postal_code,
    CASE WHEN sqlc.narg('lng')::float8 IS NULL THEN NULL
         ELSE ST_SetSRID(ST_MakePoint(sqlc.narg('lng')::float8, sqlc.narg('lat')::float8), 4326) END,
    @building_type, @source, sqlc.narg('source_id')::text, @address_key, sqlc.narg('created_by')::bigint)
RETURNING id;

-- name: MapLocationByID :one
SELECT l.id, l.address, l.city, l.province, l.postal_code,
    COALESCE(ST_Y(l.geom), 0)::float8 AS lat, COALESCE(ST_X(l.geom), 0)::float8 AS lng, (l.geom IS NOT NULL)::boolean AS has_point,
    l.building_type, l.geocode_provider, l.geocode_confidence, l.geocoded_at, l.source, l.source_id,
    l.address_key, l.created_by, l.created_at, l.updated_at,
    (SELECT count(*) FROM map_units u WHERE u.location_id = l.id) AS unit_count
FROM map_locations l WHERE l.id = @id;

-- name: LockMapLocation :one
SELECT id FROM map_locations WHERE id = @id FOR UPDATE;

-- FindMapLocationNear is the join rule of a create with a point: the same
-- building key within radius metres (nearest first), or, when the existing
-- location has no point yet, the same key and the same postal code.
-- name: FindMapLocationNear :one
SELECT id FROM map_locations
WHERE address_key = @address_key
  AND ((geom IS NOT NULL AND ST_DWithin(geom::geography,
            ST_SetSRID(ST_MakePoint(@lng::float8, @lat::float8), 4326)::geography, @radius::float8))
       OR (geom IS NULL AND @postal_code::text <> '' AND postal_code = @postal_code::text))
ORDER BY CASE WHEN geom IS NULL THEN 'Infinity'::float8
    ELSE ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(@lng::float8, @lat::float8), 4326)::geography) END,
    id
LIMIT 1;

-- FindMapLocationByPostal is the join rule of a create without a point:
-- the same building key and the same postal code.
-- name: FindMapLocationByPostal :one
SELECT id FROM map_locations
WHERE address_key = @address_key AND postal_code = @postal_code::text AND @postal_code::text <> ''
ORDER BY id
LIMIT 1;

-- LockAddressKey serialises creates of one building key, so two creates of
-- the same address at the same instant cannot both add a building.
-- name: LockAddressKey :exec
SELECT pg_advisory_xact_lock(hashtextextended('map_locations:' || @address_key::text, 0));

-- name: UpdateMapLocation :exec
UPDATE map_locations SET
    address = @address, city = @city, province = @province, postal_code = @postal_code,
    geom = CASE WHEN sqlc.narg('lng')::float8 IS NULL THEN NULL
                ELSE ST_SetSRID(ST_MakePoint(sqlc.narg('lng')::float8, sqlc.narg('lat')::float8), 4326) END,
    building_type = @building_type, address_key = @address_key, updated_at = now()
WHERE id = @id;

-- name: DeleteMapLocation :execrows
DELETE FROM map_locations WHERE id = @id;

-- The filters of the location list and its CSV export; NULL does not filter.
-- name: CountMapLocations :one
SELECT count(*) FROM map_locations l
WHERE (sqlc.narg('min_lng')::float8 IS NULL OR l.geom && ST_MakeEnvelope(sqlc.narg('min_lng')::float8,
        sqlc.narg('min_lat')::float8, sqlc.narg('max_lng')::float8, sqlc.narg('max_lat')::float8, 4326))
  AND (sqlc.narg('cut_id')::bigint IS NULL OR EXISTS (SELECT 1 FROM map_cuts c
        WHERE c.id = sqlc.narg('cut_id')::bigint AND ST_Intersects(c.geom, l.geom)))
  AND (sqlc.narg('postal_code')::text IS NULL OR l.postal_code = sqlc.narg('postal_code')::text)
  AND (sqlc.narg('support_level')::smallint IS NULL OR EXISTS (SELECT 1 FROM map_units u
        WHERE u.location_id = l.id AND u.support_level = sqlc.narg('support_level')::smallint))
  AND (sqlc.narg('q')::text IS NULL OR l.address ILIKE '%' || sqlc.narg('q')::text || '%');

-- name: ListMapLocations :many
SELECT l.id, l.address, l.city, l.province, l.postal_code,
    COALESCE(ST_Y(l.geom), 0)::float8 AS lat, COALESCE(ST_X(l.geom), 0)::float8 AS lng, (l.geom IS NOT NULL)::boolean AS has_point,
    l.building_type, l.geocode_provider, l.geocode_confidence, l.geocoded_at, l.source, l.source_id,
    l.address_key, l.created_by, l.created_at, l.updated_at,
    (SELECT count(*) FROM map_units u WHERE u.location_id = l.id) AS unit_count
FROM map_locations l
WHERE (sqlc.narg('min_lng')::float8 IS NULL OR l.geom && ST_MakeEnvelope(sqlc.narg('min_lng')::float8,
        sqlc.narg('min_lat')::float8, sqlc.narg('max_lng')::float8, sqlc.narg('max_lat')::float8, 4326))
  AND (sqlc.narg('cut_id')::bigint IS NULL OR EXISTS (SELECT 1 FROM map_cuts c
        WHERE c.id = sqlc.narg('cut_id')::bigint AND ST_Intersects(c.geom, l.geom)))
  AND (sqlc.narg('postal_code')::text IS NULL OR l.postal_code = sqlc.narg('postal_code')::text)
  AND (sqlc.narg('support_level')::smallint IS NULL OR EXISTS (SELECT 1 FROM map_units u
        WHERE u.location_id = l.id AND u.support_level = sqlc.narg('support_level')::smallint))
  AND (sqlc.narg('q')::text IS NULL OR l.address ILIKE '%' || sqlc.narg('q')::text || '%')
ORDER BY l.id
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: InsertMapUnit :one
INSERT INTO map_units (location_id, unit_label, source_id, resident_name, phone, email, support_level,
    lawn_sign, notes)
VALUES (@location_id, @unit_label, sqlc.narg('source_id')::text, @resident_name, @phone, @email,
    sqlc.narg('support_level')::smallint, @lawn_sign, @notes)
RETURNING *;

-- name: MapUnitByID :one
SELECT * FROM map_units WHERE id = @id AND location_id = @location_id;

-- name: LockMapUnit :one
SELECT * FROM map_units WHERE id = @id AND location_id = @location_id FOR UPDATE;

-- name: MapUnits :many
SELECT * FROM map_units WHERE location_id = @location_id ORDER BY unit_label, id;

-- name: UpdateMapUnit :one
UPDATE map_units SET
    unit_label = @unit_label, resident_name = @resident_name, phone = @phone, email = @email,
    support_level = sqlc.narg('support_level')::smallint, lawn_sign = @lawn_sign, notes = @notes,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteMapUnit :execrows
DELETE FROM map_units WHERE id = @id AND location_id = @location_id;

-- name: TouchMapLocation :exec
UPDATE map_locations SET updated_at = now() WHERE id = @id;

-- name: InsertMapHistory :exec
INSERT INTO map_location_history (location_id, unit_id, user_id, action, changes)
VALUES (@location_id, sqlc.narg('unit_id')::bigint, sqlc.narg('user_id')::bigint, @action, @changes::jsonb);

-- name: CountMapHistory :one
SELECT count(*) FROM map_location_history WHERE location_id = @location_id;

-- name: ListMapHistory :many
SELECT h.id, h.location_id, h.unit_id, h.user_id, COALESCE(u.name, '')::text AS user_name, h.action,
    h.changes::text AS changes, h.created_at
FROM map_location_history h LEFT JOIN users u ON u.id = h.user_id
WHERE h.location_id = @location_id
ORDER BY h.created_at DESC, h.id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- PublicMapPoints: points in a bounding box and nothing else, at most
-- max_points of them (the caller asks one more to know the list was cut).
-- name: PublicMapPoints :many
SELECT ST_Y(geom)::float8 AS lat, ST_X(geom)::float8 AS lng
FROM map_locations
WHERE geom && ST_MakeEnvelope(@min_lng::float8, @min_lat::float8, @max_lng::float8, @max_lat::float8, 4326)
LIMIT @max_points::bigint;

-- name: MapUnitsOf :many
SELECT * FROM map_units WHERE location_id = ANY(@location_ids::bigint[]) ORDER BY location_id, unit_label, id;

-- name: MapLocationsByIDs :many
SELECT l.id, l.address, l.city, l.province, l.postal_code,
    COALESCE(ST_Y(l.geom), 0)::float8 AS lat, COALESCE(ST_X(l.geom), 0)::float8 AS lng, (l.geom IS NOT NULL)::boolean AS has_point,
    l.building_type, l.geocode_provider, l.geocode_confidence, l.geocoded_at, l.source, l.source_id,
    l.address_key, l.created_by, l.created_at, l.updated_at,
    (SELECT count(*) FROM map_units u WHERE u.location_id = l.id) AS unit_count
FROM map_locations l WHERE l.id = ANY(@ids::bigint[]);
