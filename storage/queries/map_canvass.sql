-- Canvassing: sessions, visits, GPS track points, and what is reported on them.

-- name: CreateCanvassSession :one
INSERT INTO map_canvass_sessions (user_id, cut_id, shift_id)
VALUES (@user_id, @cut_id, sqlc.narg('shift_id'))
RETURNING *;

-- name: CanvassSessionByID :one
SELECT * FROM map_canvass_sessions WHERE id = @id;

-- name: EndCanvassSession :one
UPDATE map_canvass_sessions SET status = 'COMPLETED', ended_at = now(), last_activity_at = now()
WHERE id = @id AND status = 'ACTIVE'
RETURNING *;

-- name: TouchCanvassSession :exec
UPDATE map_canvass_sessions SET last_activity_at = greatest(last_activity_at, now())
WHERE id = @id AND status = 'ACTIVE';

-- name: AbandonIdleSessions :execrows
UPDATE map_canvass_sessions SET status = 'ABANDONED', ended_at = last_activity_at
WHERE status = 'ACTIVE' AND last_activity_at < @cutoff;

-- name: CutExists :one
SELECT EXISTS (SELECT 1 FROM map_cuts WHERE id = @id);

-- name: CutNames :many
SELECT id, name, color FROM map_cuts WHERE id = ANY(@ids::bigint[]) ORDER BY id;

-- name: LocationIDsExisting :many
SELECT id FROM map_locations WHERE id = ANY(@ids::bigint[]);

-- name: UnitLocations :many
SELECT id, location_id FROM map_units WHERE id = ANY(@ids::bigint[]);

-- name: InsertVisit :one
INSERT INTO map_canvass_visits (client_id, session_id, user_id, location_id, unit_id, outcome, support_level,
    notes, visited_at)
VALUES (@client_id, sqlc.narg('session_id'), @user_id, @location_id, sqlc.narg('unit_id'), @outcome,
    sqlc.narg('support_level'), @notes, @visited_at)
ON CONFLICT (client_id) DO NOTHING
RETURNING *;

-- name: VisitByClientID :one
SELECT * FROM map_canvass_visits WHERE client_id = @client_id;

-- LocationUnitsForUpdate: the units of a building, locked, at most two (a
-- visit without a unit may set the support of a building's only unit).
-- name: LocationUnitsForUpdate :many
SELECT id, support_level FROM map_units WHERE location_id = @location_id ORDER BY id LIMIT 2 FOR UPDATE;

-- name: UnitSupportForUpdate :one
SELECT support_level FROM map_units WHERE id = @id FOR UPDATE;

-- name: SetUnitSupport :exec
UPDATE map_units SET support_level = @support_level, updated_at = now() WHERE id = @id;

-- name: CreateBuildingUnit :one
INSERT INTO map_units (location_id, unit_label, support_level) VALUES (@location_id, '', @support_level)
RETURNING id;

-- name: InsertVisitHistory :exec
INSERT INTO map_location_history (location_id, unit_id, user_id, action, changes)
VALUES (@location_id, sqlc.narg('unit_id'), @user_id, 'VISIT', @changes::jsonb);

-- RouteStops: the cut's located buildings not yet settled, nearest the
-- start first (index-backed KNN), at most @max_stops. A building is settled
-- by a visit in this session, or by any visit whose outcome closes the door
-- (SPOKE_WITH, REFUSED, MOVED, LEFT_LITERATURE); NOT_HOME and
-- COME_BACK_LATER keep it on the route.
-- name: RouteStops :many
SELECT l.id, l.address, ST_Y(l.geom)::float8 AS lat, ST_X(l.geom)::float8 AS lng
FROM map_locations l, map_cuts c
WHERE c.id = @cut_id
  AND l.geom IS NOT NULL
  AND ST_Contains(c.geom, l.geom)
  AND NOT EXISTS (SELECT 1 FROM map_canvass_visits v WHERE v.location_id = l.id
                  AND (v.session_id = @session_id OR v.outcome IN ('SPOKE_WITH', 'REFUSED', 'MOVED', 'LEFT_LITERATURE')))
ORDER BY l.geom <-> ST_SetSRID(ST_MakePoint(@start_lng::float8, @start_lat::float8), 4326), l.id
LIMIT @max_stops::bigint;

-- name: InsertTrackPoints :execrows
INSERT INTO map_canvass_track_points (session_id, geom, accuracy_m, recorded_at)
SELECT @session_id, ST_SetSRID(ST_MakePoint(p.lng, p.lat), 4326), NULLIF(p.acc, -1), p.t
FROM (SELECT unnest(@lngs::float8[]) AS lng, unnest(@lats::float8[]) AS lat,
             unnest(@accuracies::float4[]) AS acc, unnest(@recorded::timestamptz[]) AS t) AS p;

-- name: CountTrackPoints :one
SELECT count(*) FROM map_canvass_track_points WHERE session_id = @session_id;

-- name: RecentVisits :many
SELECT v.id, v.client_id, v.session_id, v.user_id, v.location_id, v.unit_id, v.outcome, v.support_level,
    v.notes, v.visited_at, v.created_at, COALESCE(u.name, '')::text AS user_name, l.address
FROM map_canvass_visits v
JOIN map_locations l ON l.id = v.location_id
LEFT JOIN users u ON u.id = v.user_id
ORDER BY v.created_at DESC, v.id DESC
LIMIT @max_rows::bigint;

-- name: ActiveSessions :many
SELECT s.id, s.user_id, s.cut_id, s.shift_id, s.status, s.started_at, s.last_activity_at,
    u.name AS user_name, COALESCE(c.name, '')::text AS cut_name,
    (SELECT count(*) FROM map_canvass_visits v WHERE v.session_id = s.id) AS visits
FROM map_canvass_sessions s
JOIN users u ON u.id = s.user_id
LEFT JOIN map_cuts c ON c.id = s.cut_id
WHERE s.status = 'ACTIVE'
ORDER BY s.last_activity_at DESC, s.id DESC
LIMIT @max_rows::bigint;

-- name: Leaderboard :many
SELECT u.id AS user_id, u.name, count(*) AS visits,
    count(*) FILTER (WHERE v.outcome = 'SPOKE_WITH') AS conversations,
    count(DISTINCT v.location_id) AS doors
FROM map_canvass_visits v JOIN users u ON u.id = v.user_id
WHERE v.visited_at >= @since AND u.deleted_at IS NULL
GROUP BY u.id, u.name
ORDER BY visits DESC, u.id
LIMIT @max_rows::bigint;

-- name: UserVisitOutcomes :many
SELECT outcome, count(*) AS visits FROM map_canvass_visits WHERE user_id = @user_id GROUP BY outcome ORDER BY outcome;

-- name: UserCanvassTotals :one
SELECT
    (SELECT count(DISTINCT location_id) FROM map_canvass_visits v WHERE v.user_id = @user_id) AS doors,
    (SELECT count(*) FROM map_canvass_visits v WHERE v.user_id = @user_id AND v.visited_at >= @today) AS visits_today,
    (SELECT count(*) FROM map_canvass_sessions s WHERE s.user_id = @user_id) AS sessions,
    (SELECT count(*) FROM map_canvass_sessions s WHERE s.user_id = @user_id AND s.status = 'ACTIVE') AS active_sessions;

-- name: UserSessionCuts :many
SELECT DISTINCT s.cut_id::bigint AS cut_id FROM map_canvass_sessions s
WHERE s.user_id = @user_id AND s.status = 'ACTIVE' AND s.cut_id IS NOT NULL;

-- name: ListTrackPoints :many
SELECT ST_Y(geom)::float8 AS lat, ST_X(geom)::float8 AS lng, accuracy_m, recorded_at
FROM map_canvass_track_points
WHERE session_id = @session_id
ORDER BY recorded_at, id
LIMIT @max_points::int;
