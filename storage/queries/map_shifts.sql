-- Volunteer shifts, their series, signups and the shift email outbox.

-- name: CreateShiftSeries :one
INSERT INTO map_shift_series (created_by) VALUES (sqlc.narg('created_by')) RETURNING id;

-- name: CreateShift :one
INSERT INTO map_shifts (series_id, title, description, shift_date, start_time, end_time, location, capacity,
    cut_id, is_public, created_by)
VALUES (sqlc.narg('series_id'), @title, @description, @shift_date, @start_time, @end_time, @location, @capacity,
    sqlc.narg('cut_id'), @is_public, sqlc.narg('created_by'))
RETURNING *;

-- name: ShiftByID :one
SELECT * FROM map_shifts WHERE id = @id;

-- name: ShiftForUpdate :one
SELECT * FROM map_shifts WHERE id = @id FOR UPDATE;

-- ShiftsInScope: the shifts an edit of shift @id reaches, locked, in date
-- order: itself ('this'), itself and the later ones of its series
-- ('following'), or its whole series ('all').
-- name: ShiftsInScope :many
SELECT s.* FROM map_shifts s, map_shifts me
WHERE me.id = @id
  AND (s.id = me.id
       OR (me.series_id IS NOT NULL AND s.series_id = me.series_id
           AND (@scope::text = 'all'
                OR (@scope::text = 'following' AND (s.shift_date, s.start_time, s.id) >= (me.shift_date, me.start_time, me.id)))))
ORDER BY s.shift_date, s.start_time, s.id
FOR UPDATE OF s;

-- UpdateShift applies the given fields. The date is moved by @shift_days
-- days (0 leaves it). Status follows the signups unless the shift is (or is
-- being) cancelled.
-- name: UpdateShift :one
UPDATE map_shifts SET
    title       = COALESCE(sqlc.narg('title')::text, title),
    description = COALESCE(sqlc.narg('description')::text, description),
    shift_date  = COALESCE(sqlc.narg('shift_date')::date, shift_date),
    start_time  = COALESCE(sqlc.narg('start_time')::time, start_time),
    end_time    = COALESCE(sqlc.narg('end_time')::time, end_time),
    location    = COALESCE(sqlc.narg('location')::text, location),
    capacity    = COALESCE(sqlc.narg('capacity')::integer, capacity),
    cut_id      = CASE WHEN @set_cut::boolean THEN sqlc.narg('cut_id')::bigint ELSE cut_id END,
    is_public   = COALESCE(sqlc.narg('is_public')::boolean, is_public),
    status      = CASE
        WHEN COALESCE(sqlc.narg('status')::text, status) = 'CANCELLED' THEN 'CANCELLED'
        WHEN signup_count >= COALESCE(sqlc.narg('capacity')::integer, capacity) THEN 'FULL'
        ELSE 'OPEN' END,
    updated_at  = now()
WHERE id = @id
RETURNING *;

-- name: DeleteShift :execrows
DELETE FROM map_shifts WHERE id = @id;

-- name: CountShifts :one
SELECT count(*) FROM map_shifts
WHERE (sqlc.narg('from_date')::date IS NULL OR shift_date >= sqlc.narg('from_date'))
  AND (sqlc.narg('to_date')::date IS NULL OR shift_date <= sqlc.narg('to_date'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('series_id')::bigint IS NULL OR series_id = sqlc.narg('series_id'))
  AND (sqlc.narg('cut_id')::bigint IS NULL OR cut_id = sqlc.narg('cut_id'))
  AND (NOT @public_only::boolean OR (is_public AND status = 'OPEN'));

-- name: ListShifts :many
SELECT * FROM map_shifts
WHERE (sqlc.narg('from_date')::date IS NULL OR shift_date >= sqlc.narg('from_date'))
  AND (sqlc.narg('to_date')::date IS NULL OR shift_date <= sqlc.narg('to_date'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('series_id')::bigint IS NULL OR series_id = sqlc.narg('series_id'))
  AND (sqlc.narg('cut_id')::bigint IS NULL OR cut_id = sqlc.narg('cut_id'))
  AND (NOT @public_only::boolean OR (is_public AND status = 'OPEN'))
ORDER BY shift_date, start_time, id
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: InsertSignup :one
INSERT INTO map_shift_signups (shift_id, user_id, source, added_by, lang)
VALUES (@shift_id, @user_id, @source, sqlc.narg('added_by'), @lang)
ON CONFLICT (shift_id, user_id) DO NOTHING
RETURNING *;

-- name: SignupOf :one
SELECT * FROM map_shift_signups WHERE shift_id = @shift_id AND user_id = @user_id;

-- name: DeleteSignup :execrows
DELETE FROM map_shift_signups WHERE shift_id = @shift_id AND user_id = @user_id;

-- AdjustSignupCount moves the count by @delta and lets the status follow it.
-- name: AdjustSignupCount :one
UPDATE map_shifts SET
    signup_count = signup_count + @delta::integer,
    status = CASE WHEN status = 'CANCELLED' THEN 'CANCELLED'
                  WHEN signup_count + @delta::integer >= capacity THEN 'FULL' ELSE 'OPEN' END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ShiftSignupUsers :many
SELECT g.id, g.shift_id, g.user_id, g.source, g.created_at, g.lang, u.name, u.email, u.role
FROM map_shift_signups g JOIN users u ON u.id = g.user_id
WHERE g.shift_id = @shift_id
ORDER BY g.created_at, g.id;

-- name: CountSignups :one
SELECT count(*) FROM map_shift_signups WHERE shift_id = @shift_id;

-- name: ListSignups :many
SELECT g.id, g.shift_id, g.user_id, g.source, g.created_at, u.name, u.email, u.role
FROM map_shift_signups g JOIN users u ON u.id = g.user_id
WHERE g.shift_id = @shift_id
ORDER BY g.created_at, g.id
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: UserShifts :many
SELECT s.* FROM map_shifts s JOIN map_shift_signups g ON g.shift_id = s.id
WHERE g.user_id = @user_id AND s.shift_date >= @from_date::date
ORDER BY s.shift_date, s.start_time, s.id
LIMIT @page_limit::bigint;

-- name: InsertShiftEmail :one
INSERT INTO map_shift_emails (shift_id, user_id, kind, to_email, to_name, subject, body)
VALUES (sqlc.narg('shift_id'), sqlc.narg('user_id'), @kind, @to_email, @to_name, @subject, @body)
RETURNING id;

-- name: ShiftEmailByID :one
SELECT * FROM map_shift_emails WHERE id = @id;

-- name: MarkShiftEmailSent :execrows
UPDATE map_shift_emails SET status = 'SENT', sent_at = now(), attempts = attempts + 1, last_error = '', updated_at = now()
WHERE id = @id AND status = 'QUEUED';

-- name: RecordShiftEmailAttempt :exec
UPDATE map_shift_emails SET attempts = attempts + 1, last_error = @last_error,
    status = CASE WHEN @final::boolean THEN 'FAILED' ELSE status END, updated_at = now()
WHERE id = @id AND status = 'QUEUED';

-- name: QueuedShiftEmailIDs :many
SELECT id FROM map_shift_emails WHERE status = 'QUEUED' AND updated_at < @cutoff
ORDER BY updated_at, id LIMIT @max_rows::bigint;
