-- Address imports: the import row, one part per Address (or CSV) file.
-- The bulk load itself (COPY into a staging table and the upserts) is in
-- storage/map_imports.go: it runs on one connection with temporary tables.

-- name: InsertMapImport :one
INSERT INTO map_imports (kind, dir, file_names, filters, mapping, created_by)
VALUES (@kind, @dir, @file_names::text[], @filters::jsonb, @mapping::jsonb, sqlc.narg('created_by'))
RETURNING *;

-- name: InsertMapImportPart :exec
INSERT INTO map_import_parts (import_id, name, archive, location_files)
VALUES (@import_id, @name, @archive, @location_files::text[]);

-- name: MapImportByID :one
SELECT * FROM map_imports WHERE id = @id;

-- name: MapImportParts :many
SELECT * FROM map_import_parts WHERE import_id = @import_id ORDER BY name;

-- name: MapImportPart :one
SELECT * FROM map_import_parts WHERE import_id = @import_id AND name = @name;

-- name: MapImportTotals :many
SELECT import_id,
       COALESCE(sum(rows_read), 0)::bigint AS rows_read,
       COALESCE(sum(inserted), 0)::bigint  AS inserted,
       COALESCE(sum(updated), 0)::bigint   AS updated,
       COALESCE(sum(skipped), 0)::bigint   AS skipped,
       COALESCE(sum(filtered), 0)::bigint  AS filtered
FROM map_import_parts
WHERE import_id = ANY(@ids::bigint[])
GROUP BY import_id;

-- name: CountMapImports :one
SELECT count(*) FROM map_imports
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind));

-- name: ListMapImports :many
SELECT * FROM map_imports
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(kind)::text IS NULL OR kind = sqlc.narg(kind))
ORDER BY created_at DESC, id DESC
LIMIT @lim OFFSET @off;

-- name: CancelMapImport :one
UPDATE map_imports SET status = 'CANCELLED', finished_at = now(), updated_at = now()
WHERE id = @id AND status IN ('QUEUED', 'RUNNING')
RETURNING *;

-- name: CancelMapImportParts :exec
UPDATE map_import_parts SET status = 'CANCELLED', finished_at = now()
WHERE import_id = @import_id AND status = 'QUEUED';

-- The import is RUNNING from its first part's start.
-- name: StartMapImport :exec
UPDATE map_imports SET status = 'RUNNING', started_at = COALESCE(started_at, now()), updated_at = now()
WHERE id = @id AND status = 'QUEUED';

-- A part starts (or, after a crash, starts again) only while it and its
-- import are still going.
-- name: StartMapImportPart :one
UPDATE map_import_parts p SET status = 'RUNNING', started_at = COALESCE(p.started_at, now())
FROM map_imports i
WHERE p.import_id = @import_id AND p.name = @name AND i.id = p.import_id
  AND p.status IN ('QUEUED', 'RUNNING') AND i.status IN ('QUEUED', 'RUNNING')
RETURNING p.*;

-- A part's slots: fixed at n by its first load (each starting where the
-- part stands), kept as they are by every later one.
-- name: MapImportSlots :one
UPDATE map_import_parts SET slot_rows_done = CASE WHEN cardinality(slot_rows_done) = 0
    THEN array_fill(rows_done, ARRAY[@n::int]) ELSE slot_rows_done END
WHERE import_id = @import_id AND name = @name
RETURNING slot_rows_done;

-- name: MapImportStatus :one
SELECT status FROM map_imports WHERE id = @id;

-- A batch of slot @slot (1-based; 0 for a part loaded without slots)
-- moves that slot's rows and the part's counters.
-- name: AdvanceMapImportPart :exec
UPDATE map_import_parts SET
    rows_done = CASE WHEN @slot::int = 0 THEN @rows_done::bigint ELSE
        (SELECT min(CASE WHEN i = @slot::int THEN @rows_done::bigint ELSE v END)
         FROM unnest(slot_rows_done) WITH ORDINALITY AS t(v, i)) END,
    slot_rows_done = CASE WHEN @slot::int = 0 THEN slot_rows_done ELSE
        ARRAY(SELECT CASE WHEN i = @slot::int THEN @rows_done::bigint ELSE v END
              FROM unnest(slot_rows_done) WITH ORDINALITY AS t(v, i) ORDER BY i) END,
    rows_read = rows_read + @add_read,
    inserted = inserted + @add_inserted,
    updated = updated + @add_updated,
    skipped = skipped + @add_skipped,
    filtered = filtered + @add_filtered,
    skipped_lines = skipped_lines || @new_skipped_lines::jsonb
WHERE import_id = @import_id AND name = @name;

-- name: FinishMapImportPart :exec
UPDATE map_import_parts SET status = @status, error = @error, finished_at = now()
WHERE import_id = @import_id AND name = @name AND status IN ('QUEUED', 'RUNNING');

-- Once no part is left to run, the import is DONE, or FAILED with the first
-- failed part's reason. A cancelled import stays CANCELLED.
-- name: SettleMapImport :execrows
UPDATE map_imports i SET
    status = CASE WHEN f.name IS NULL THEN 'DONE' ELSE 'FAILED' END,
    error = COALESCE(f.name || ': ' || f.error, ''),
    finished_at = now(), updated_at = now()
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT p.name, p.error FROM map_import_parts p
    WHERE p.import_id = @id AND p.status = 'FAILED' ORDER BY p.name LIMIT 1
) f ON true
WHERE i.id = @id AND i.status IN ('QUEUED', 'RUNNING')
  AND NOT EXISTS (SELECT 1 FROM map_import_parts p WHERE p.import_id = @id AND p.status IN ('QUEUED', 'RUNNING'));

-- Imports left QUEUED or RUNNING whose parts have no task any more are found
-- by the caller; this marks one FAILED.
-- name: FailMapImport :exec
UPDATE map_imports SET status = 'FAILED', error = @error, finished_at = now(), updated_at = now()
WHERE id = @id AND status IN ('QUEUED', 'RUNNING');

-- Imports still going whose last change is older than @before: their
-- tasks may have been lost from Redis (the sweep plans them again; planning
-- an import whose part is loading finds that part's task still there).
-- name: StaleMapImports :many
SELECT i.id FROM map_imports i
WHERE i.status IN ('QUEUED', 'RUNNING') AND i.updated_at < @before
ORDER BY i.updated_at
LIMIT @max_imports::int;

-- name: TouchMapImport :exec
UPDATE map_imports SET updated_at = now() WHERE id = @id AND status IN ('QUEUED', 'RUNNING');
