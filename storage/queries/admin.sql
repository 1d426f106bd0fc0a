-- The admin dashboard's counts. A NULL created_by counts every campaign's
-- rows; a user ID counts only the campaigns that user created (what an
-- INFLUENCE_ADMIN may see).

-- name: DashboardCampaignCounts :many
SELECT status, count(*) AS n FROM campaigns
WHERE (sqlc.narg('created_by')::bigint IS NULL OR created_by = sqlc.narg('created_by'))
GROUP BY status;

-- DashboardEmailCounts: queued now (whenever they were written), sent and
-- failed since @since.
-- name: DashboardEmailCounts :one
SELECT count(*) FILTER (WHERE e.status = 'QUEUED') AS queued,
       count(*) FILTER (WHERE e.status = 'SENT' AND e.sent_at >= @since::timestamptz) AS sent,
       count(*) FILTER (WHERE e.status = 'FAILED' AND e.updated_at >= @since::timestamptz) AS failed
FROM campaign_emails e
WHERE (e.status = 'QUEUED' OR e.updated_at >= @since::timestamptz OR e.sent_at >= @since::timestamptz)
  AND (sqlc.narg('created_by')::bigint IS NULL
       OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = e.campaign_id AND c.created_by = sqlc.narg('created_by')));

-- name: DashboardVideoCounts :one
SELECT count(*) AS total,
       count(*) FILTER (WHERE v.status = 'processing') AS processing,
       count(*) FILTER (WHERE v.status = 'invalid') AS invalid,
       count(*) FILTER (WHERE v.status = 'ready' AND s.video_id IS NOT NULL) AS published
FROM media_videos v LEFT JOIN media_shared s ON s.video_id = v.id
WHERE v.deleted_at IS NULL;
