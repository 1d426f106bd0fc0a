-- Videos, the gallery (media_shared) and reactions. A video with deleted_at
-- set is gone; a published one has a media_shared row.

-- name: CurrentTxID :one
SELECT txid_current()::bigint AS xid;

-- txid_status is NULL for a transaction too old to know: '' here.
-- name: TxStatus :one
SELECT COALESCE(txid_status(@xid::bigint), '')::text AS status;

-- name: InsertVideo :one
INSERT INTO media_videos (title, original_name, path, sha256, size_bytes, container, source, uploaded_by,
    producer, creator, tags)
VALUES (@title, @original_name, @path, @sha256, @size_bytes, @container, @source, sqlc.narg('uploaded_by'),
    @producer, @creator, @tags::text[])
RETURNING *;

-- name: VideoByID :one
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.id = @id AND v.deleted_at IS NULL;

-- name: VideoByIDAnyState :one
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.id = @id;

-- name: VideoBySHA256 :one
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.sha256 = @sha256 AND v.deleted_at IS NULL;

-- name: VideoByPathLive :one
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.path = @path AND v.deleted_at IS NULL;

-- name: PublishedVideo :one
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v JOIN media_shared s ON s.video_id = v.id
WHERE v.id = @id AND v.deleted_at IS NULL AND v.status = 'ready';

-- producer and creator match case-insensitively and whole (ILIKE without
-- wildcards: the caller escapes them); search matches anywhere.
-- name: CountVideos :one
SELECT count(*)
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.deleted_at IS NULL
  AND (sqlc.narg('orientation')::text IS NULL OR v.orientation = sqlc.narg('orientation'))
  AND (sqlc.narg('producer')::text IS NULL OR v.producer ILIKE sqlc.narg('producer'))
  AND (sqlc.narg('creator')::text IS NULL OR v.creator ILIKE sqlc.narg('creator'))
  AND (sqlc.narg('tag')::text IS NULL OR v.tags @> ARRAY[sqlc.narg('tag')::text])
  AND (sqlc.narg('status')::text IS NULL OR v.status = sqlc.narg('status'))
  AND (sqlc.narg('search')::text IS NULL
       OR v.title ILIKE '%' || sqlc.narg('search') || '%' OR v.original_name ILIKE '%' || sqlc.narg('search') || '%'
       OR v.producer ILIKE '%' || sqlc.narg('search') || '%' OR v.creator ILIKE '%' || sqlc.narg('search') || '%')
  AND (NOT @published::boolean OR (s.video_id IS NOT NULL AND v.status = 'ready'))
  AND (sqlc.narg('category')::text IS NULL OR s.category = sqlc.narg('category'));

-- ListVideos: the library is newest first, the gallery most recently
-- published first; the CASE not chosen is NULL for every row.
-- name: ListVideos :many
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.deleted_at IS NULL
  AND (sqlc.narg('orientation')::text IS NULL OR v.orientation = sqlc.narg('orientation'))
  AND (sqlc.narg('producer')::text IS NULL OR v.producer ILIKE sqlc.narg('producer'))
  AND (sqlc.narg('creator')::text IS NULL OR v.creator ILIKE sqlc.narg('creator'))
  AND (sqlc.narg('tag')::text IS NULL OR v.tags @> ARRAY[sqlc.narg('tag')::text])
  AND (sqlc.narg('status')::text IS NULL OR v.status = sqlc.narg('status'))
  AND (sqlc.narg('search')::text IS NULL
       OR v.title ILIKE '%' || sqlc.narg('search') || '%' OR v.original_name ILIKE '%' || sqlc.narg('search') || '%'
       OR v.producer ILIKE '%' || sqlc.narg('search') || '%' OR v.creator ILIKE '%' || sqlc.narg('search') || '%')
  AND (NOT @published::boolean OR (s.video_id IS NOT NULL AND v.status = 'ready'))
  AND (sqlc.narg('category')::text IS NULL OR s.category = sqlc.narg('category'))
ORDER BY CASE WHEN @published::boolean THEN s.published_at END DESC,
    CASE WHEN NOT @published::boolean THEN v.created_at END DESC,
    v.id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: UpdateVideo :one
UPDATE media_videos SET
    title    = COALESCE(sqlc.narg('title')::text, title),
    producer = COALESCE(sqlc.narg('producer')::text, producer),
    creator  = COALESCE(sqlc.narg('creator')::text, creator),
    tags     = CASE WHEN @set_tags::boolean THEN @tags::text[] ELSE tags END,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING id;

-- name: SoftDeleteVideo :execrows
UPDATE media_videos SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: UnpublishVideo :execrows
DELETE FROM media_shared WHERE video_id = @video_id;

-- name: SetVideoProbe :execrows
UPDATE media_videos SET duration_seconds = @duration_seconds, width = @width, height = @height,
    orientation = @orientation, has_audio = @has_audio, video_codec = @video_codec,
    audio_codec = sqlc.narg('audio_codec'),
    size_bytes = CASE WHEN @size_bytes::bigint > 0 THEN @size_bytes::bigint ELSE size_bytes END,
    updated_at = now()
WHERE id = @id AND deleted_at IS NULL AND status <> 'invalid';

-- name: MarkVideoInvalid :exec
UPDATE media_videos SET status = 'invalid', invalid_reason = @invalid_reason, updated_at = now()
WHERE id = @id AND status = 'processing';

-- name: MarkVideoReady :exec
UPDATE media_videos SET status = 'ready', updated_at = now(),
    thumbnail_path = COALESCE(sqlc.narg('thumbnail_path')::text, thumbnail_path)
WHERE id = @id AND status IN ('processing', 'ready') AND duration_seconds IS NOT NULL;

-- name: LiveVideoStatusForShare :one
SELECT status FROM media_videos WHERE id = @id AND deleted_at IS NULL FOR SHARE;

-- name: UpsertShared :exec
INSERT INTO media_shared (video_id, category, published_by) VALUES (@video_id, @category, @published_by)
ON CONFLICT (video_id) DO UPDATE SET category = EXCLUDED.category;

-- name: CountView :one
UPDATE media_videos SET view_count = view_count + 1 WHERE id = @id AND deleted_at IS NULL RETURNING view_count;

-- name: ReactionCounts :many
SELECT video_id, type, count(*) AS reactions FROM media_reactions
WHERE video_id = ANY(@video_ids::bigint[])
GROUP BY video_id, type;

-- name: ViewerReactionForUpdate :one
SELECT type FROM media_reactions WHERE video_id = @video_id AND viewer = @viewer FOR UPDATE;

-- name: ViewerReaction :one
SELECT type FROM media_reactions WHERE video_id = @video_id AND viewer = @viewer;

-- name: InsertReaction :exec
INSERT INTO media_reactions (video_id, viewer, type) VALUES (@video_id, @viewer, @type)
ON CONFLICT (video_id, viewer) DO UPDATE SET type = EXCLUDED.type, created_at = now();

-- name: DeleteReaction :exec
DELETE FROM media_reactions WHERE video_id = @video_id AND viewer = @viewer;

-- name: ChangeReaction :exec
UPDATE media_reactions SET type = @type, created_at = now() WHERE video_id = @video_id AND viewer = @viewer;

-- name: StalledVideos :many
SELECT sqlc.embed(v), s.category, s.published_at
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.status = 'processing' AND v.deleted_at IS NULL AND v.updated_at < @cutoff
ORDER BY v.updated_at, v.id
LIMIT @max_rows::bigint;
