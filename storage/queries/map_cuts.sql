-- Map core: cuts (turf), what lies in them, and vector tiles.
-- Geometry goes in as GeoJSON text and comes out as GeoJSON text.

-- name: InsertMapCut :one
INSERT INTO map_cuts (name, description, category, color, opacity, is_public, geom, created_by)
VALUES (@name, @description, @category, @color, @opacity, @is_public,
    ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(@geometry::text), 4326)), sqlc.narg('created_by')::bigint)
RETURNING id;

-- name: MapCutByID :one
SELECT id, name, description, category, color, opacity, is_public, ST_AsGeoJSON(geom)::text AS geometry,
    created_by, created_at, updated_at
FROM map_cuts WHERE id = @id;

-- name: UpdateMapCut :execrows
UPDATE map_cuts SET
    name        = COALESCE(sqlc.narg('name')::text, name),
    description = COALESCE(sqlc.narg('description')::text, description),
    category    = COALESCE(sqlc.narg('category')::text, category),
    color       = COALESCE(sqlc.narg('color')::text, color),
    opacity     = COALESCE(sqlc.narg('opacity')::real, opacity),
    is_public   = COALESCE(sqlc.narg('is_public')::boolean, is_public),
    geom        = COALESCE(ST_Multi(ST_SetSRID(ST_GeomFromGeoJSON(sqlc.narg('geometry')::text), 4326)), geom),
    updated_at  = now()
WHERE id = @id;

-- name: DeleteMapCut :execrows
DELETE FROM map_cuts WHERE id = @id;

-- name: CountMapCuts :one
SELECT count(*) FROM map_cuts
WHERE (sqlc.narg('category')::text IS NULL OR category = sqlc.narg('category')::text)
  AND (sqlc.narg('is_public')::boolean IS NULL OR is_public = sqlc.narg('is_public')::boolean);

-- name: ListMapCuts :many
SELECT id, name, description, category, color, opacity, is_public, ST_AsGeoJSON(geom)::text AS geometry,
    created_by, created_at, updated_at
FROM map_cuts
WHERE (sqlc.narg('category')::text IS NULL OR category = sqlc.narg('category')::text)
  AND (sqlc.narg('is_public')::boolean IS NULL OR is_public = sqlc.narg('is_public')::boolean)
ORDER BY name, id
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: PublicMapCuts :many
SELECT id, name, description, category, color, opacity, ST_AsGeoJSON(geom)::text AS geometry
FROM map_cuts WHERE is_public ORDER BY name, id;

-- The locations of a cut: ST_Intersects on the cut's geometry uses the GiST
-- index of map_locations.geom (a point on the boundary counts as inside).
-- name: CountMapCutLocations :one
SELECT count(*) FROM map_cuts c JOIN map_locations l ON ST_Intersects(c.geom, l.geom)
WHERE c.id = @cut_id;

-- ListMapCutLocations reads the page and the total in one scan of the
-- cut's points (count(*) OVER () before the LIMIT). The scan carries only
-- the IDs (the window and the top-N sort hold 50,000 integers, not 50,000
-- rows); the page's 20 rows are read afterwards by primary key, with their
-- unit counts. A page past the end has no row to carry the total: the
-- caller counts then (CountMapCutLocations).
-- name: ListMapCutLocations :many
SELECT l.id, l.address, l.city, l.province, l.postal_code,
    COALESCE(ST_Y(l.geom), 0)::float8 AS lat, COALESCE(ST_X(l.geom), 0)::float8 AS lng,
    (l.geom IS NOT NULL)::boolean AS has_point,
    l.building_type, l.geocode_provider, l.geocode_confidence, l.geocoded_at, l.source, l.source_id,
    l.address_key, l.created_by, l.created_at, l.updated_at,
    (SELECT count(*) FROM map_units u WHERE u.location_id = l.id) AS unit_count,
    p.total
FROM (
    SELECT l.id, count(*) OVER () AS total
    FROM map_cuts c JOIN map_locations l ON ST_Intersects(c.geom, l.geom)
    WHERE c.id = @cut_id
    ORDER BY l.id
    LIMIT @page_limit::bigint OFFSET @page_offset::bigint
) p
JOIN map_locations l ON l.id = p.id
ORDER BY l.id;

-- MapCutStats counts what a cut holds: locations, units, the locations with
-- at least one canvass visit, and units per support level.
-- name: MapCutStats :one
WITH locs AS (
    SELECT l.id FROM map_cuts c JOIN map_locations l ON ST_Intersects(c.geom, l.geom) WHERE c.id = @cut_id
), units AS (
    SELECT u.support_level FROM map_units u JOIN locs ON locs.id = u.location_id
)
SELECT
    (SELECT count(*) FROM locs) AS locations,
    (SELECT count(*) FROM units) AS units,
    (SELECT count(*) FROM locs WHERE EXISTS (SELECT 1 FROM map_canvass_visits v WHERE v.location_id = locs.id)) AS visited,
    (SELECT count(*) FROM units WHERE support_level = 1) AS level1,
    (SELECT count(*) FROM units WHERE support_level = 2) AS level2,
    (SELECT count(*) FROM units WHERE support_level = 3) AS level3,
    (SELECT count(*) FROM units WHERE support_level = 4) AS level4,
    (SELECT count(*) FROM units WHERE support_level IS NULL) AS unknown;

-- MapCutWalk is a cut's locations with their points, for the walk list;
-- at most max_rows of them (the caller asks one more to know it is over).
-- name: MapCutWalk :many
SELECT l.id, ST_Y(l.geom)::float8 AS lat, ST_X(l.geom)::float8 AS lng
FROM map_cuts c JOIN map_locations l ON ST_Intersects(c.geom, l.geom)
WHERE c.id = @cut_id
ORDER BY l.id
LIMIT @max_rows::bigint;

-- AdminMapTile is one Mapbox Vector Tile for organizers: layer "locations"
-- (id, address, unitCount, maxSupportLevel per building; visited, and for
-- a visited one lastOutcome and lastVisitedAt in Unix seconds) from zoom
-- point_zoom on, layer "clusters" (count per grid cell, 64 cells across
-- the tile) below it, and layer "cuts" (id, name, color, opacity). Points
-- are found with the GiST index in 4326 (geom && the tile's envelope
-- transformed); clusters are grouped in degrees, so only their centres are
-- transformed to 3857.
-- name: AdminMapTile :one
WITH bounds AS (
    SELECT ST_TileEnvelope(@z::int, @x::int, @y::int) AS b3857,
           ST_Transform(ST_TileEnvelope(@z::int, @x::int, @y::int), 4326) AS b4326,
           360.0 / (2 ^ @z::int) / 64 AS cell
), loc AS (
    SELECT ST_AsMVTGeom(ST_Transform(l.geom, 3857), bounds.b3857, 4096, 64, true) AS geom, l.id, l.address,
        (SELECT count(*) FROM map_units u WHERE u.location_id = l.id)::int AS "unitCount",
        (SELECT max(u.support_level) FROM map_units u WHERE u.location_id = l.id)::int AS "maxSupportLevel",
        (lv.outcome IS NOT NULL) AS visited,
        lv.outcome AS "lastOutcome",
        extract(epoch FROM lv.visited_at)::bigint AS "lastVisitedAt"
    FROM map_locations l CROSS JOIN bounds
    LEFT JOIN LATERAL (
        SELECT v.outcome, v.visited_at FROM map_canvass_visits v
        WHERE v.location_id = l.id ORDER BY v.visited_at DESC LIMIT 1
    ) lv ON true
    WHERE @z::int >= @point_zoom::int AND l.geom && bounds.b4326
), clu AS (
    SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(l.geom)), avg(ST_Y(l.geom))), 4326), 3857),
            bounds.b3857, 4096, 64, true) AS geom,
        count(*)::int AS count
    FROM map_locations l, bounds
    WHERE @z::int < @point_zoom::int AND l.geom && bounds.b4326
    GROUP BY floor(ST_X(l.geom) / bounds.cell), floor(ST_Y(l.geom) / bounds.cell), bounds.b3857
), cut AS (
    SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), bounds.b3857, 4096, 64, true) AS geom, c.id, c.name,
        c.color, c.opacity
    FROM map_cuts c, bounds WHERE c.geom && bounds.b4326
)
SELECT ((SELECT COALESCE(ST_AsMVT(loc, 'locations', 4096, 'geom'), ''::bytea) FROM loc WHERE loc.geom IS NOT NULL)
     || (SELECT COALESCE(ST_AsMVT(clu, 'clusters', 4096, 'geom'), ''::bytea) FROM clu WHERE clu.geom IS NOT NULL)
     || (SELECT COALESCE(ST_AsMVT(cut, 'cuts', 4096, 'geom'), ''::bytea) FROM cut WHERE cut.geom IS NOT NULL))::bytea
    AS tile;

-- PublicMapTile is the tile anyone may read: no identifiers and no personal
-- data. Layer "points" (bare points, one per distinct tile pixel) from zoom
-- point_zoom on, "clusters" (count per grid cell) below it, and the
-- published cuts (name, color, opacity).
-- name: PublicMapTile :one
WITH bounds AS (
    SELECT ST_TileEnvelope(@z::int, @x::int, @y::int) AS b3857,
           ST_Transform(ST_TileEnvelope(@z::int, @x::int, @y::int), 4326) AS b4326,
           360.0 / (2 ^ @z::int) / 64 AS cell
), pt AS (
    SELECT DISTINCT ST_AsMVTGeom(ST_Transform(l.geom, 3857), bounds.b3857, 4096, 64, true) AS geom
    FROM map_locations l, bounds
    WHERE @z::int >= @point_zoom::int AND l.geom && bounds.b4326
), clu AS (
    SELECT ST_AsMVTGeom(ST_Transform(ST_SetSRID(ST_MakePoint(avg(ST_X(l.geom)), avg(ST_Y(l.geom))), 4326), 3857),
            bounds.b3857, 4096, 64, true) AS geom,
        count(*)::int AS count
    FROM map_locations l, bounds
    WHERE @z::int < @point_zoom::int AND l.geom && bounds.b4326
    GROUP BY floor(ST_X(l.geom) / bounds.cell), floor(ST_Y(l.geom) / bounds.cell), bounds.b3857
), cut AS (
    SELECT ST_AsMVTGeom(ST_Transform(c.geom, 3857), bounds.b3857, 4096, 64, true) AS geom, c.name,
        c.color, c.opacity
    FROM map_cuts c, bounds WHERE c.is_public AND c.geom && bounds.b4326
)
SELECT ((SELECT COALESCE(ST_AsMVT(pt, 'points', 4096, 'geom'), ''::bytea) FROM pt WHERE pt.geom IS NOT NULL)
     || (SELECT COALESCE(ST_AsMVT(clu, 'clusters', 4096, 'geom'), ''::bytea) FROM clu WHERE clu.geom IS NOT NULL)
     || (SELECT COALESCE(ST_AsMVT(cut, 'cuts', 4096, 'geom'), ''::bytea) FROM cut WHERE cut.geom IS NOT NULL))::bytea
    AS tile;
