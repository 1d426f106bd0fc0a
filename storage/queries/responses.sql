-- The response wall: responses and their upvotes.

-- name: CreateResponse :one
INSERT INTO campaign_responses (campaign_id, representative_name, representative_title, representative_level,
    representative_email, response_type, response_text, comment, submitter_name, submitter_email, is_anonymous)
VALUES (@campaign_id, @representative_name, @representative_title, @representative_level,
    @representative_email, @response_type, @response_text, @comment, @submitter_name, @submitter_email, @is_anonymous)
RETURNING *;

-- name: ResponseByID :one
SELECT * FROM campaign_responses WHERE id = @id;

-- name: CountResponses :one
SELECT count(*) FROM campaign_responses r
WHERE (sqlc.narg('campaign_id')::bigint IS NULL OR r.campaign_id = sqlc.narg('campaign_id'))
  AND (sqlc.narg('status')::text IS NULL OR r.status = sqlc.narg('status'))
  AND (sqlc.narg('created_by')::bigint IS NULL
       OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id AND c.created_by = sqlc.narg('created_by')));

-- ListResponses: each CASE is NULL for every row unless its sort is chosen,
-- so only the chosen one orders; newest first breaks the ties.
-- name: ListResponses :many
SELECT r.* FROM campaign_responses r
WHERE (sqlc.narg('campaign_id')::bigint IS NULL OR r.campaign_id = sqlc.narg('campaign_id'))
  AND (sqlc.narg('status')::text IS NULL OR r.status = sqlc.narg('status'))
  AND (sqlc.narg('created_by')::bigint IS NULL
       OR EXISTS (SELECT 1 FROM campaigns c WHERE c.id = r.campaign_id AND c.created_by = sqlc.narg('created_by')))
ORDER BY CASE WHEN @sort::text = 'upvotes' THEN r.upvote_count END DESC,
    CASE WHEN @sort::text = 'verified' THEN r.verified_at IS NOT NULL END DESC,
    r.created_at DESC, r.id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: ModerateResponse :one
UPDATE campaign_responses SET status = @status, moderation_note = @moderation_note, moderated_by = @moderated_by,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DeleteResponse :execrows
DELETE FROM campaign_responses WHERE id = @id;

-- name: VerifyResponse :one
UPDATE campaign_responses SET verified_at = COALESCE(verified_at, now()), updated_at = now()
WHERE id = @id
RETURNING *;

-- name: MarkVerificationSent :execrows
UPDATE campaign_responses SET verification_sent_at = now() WHERE id = @id AND verification_sent_at IS NULL;

-- name: MarkVerificationFailed :execrows
UPDATE campaign_responses SET verification_failed_at = now(), verification_error = @verification_error
WHERE id = @id AND verification_sent_at IS NULL AND verification_failed_at IS NULL;

-- name: UnsentVerificationIDs :many
SELECT id FROM campaign_responses
WHERE verification_sent_at IS NULL AND verification_failed_at IS NULL AND verified_at IS NULL
  AND submitter_email <> '' AND created_at > @after AND created_at < @before
ORDER BY created_at
LIMIT @max_rows::bigint;

-- Locking the response row makes the count and the votes move together.
-- name: LockApprovedResponse :one
SELECT upvote_count FROM campaign_responses WHERE id = @id AND status = 'APPROVED' FOR UPDATE;

-- name: InsertUpvote :execrows
INSERT INTO response_upvotes (response_id, voter_key) VALUES (@response_id, @voter_key) ON CONFLICT DO NOTHING;

-- name: CountUpvote :one
UPDATE campaign_responses SET upvote_count = upvote_count + 1 WHERE id = @id RETURNING upvote_count;

-- name: ClaimVerificationEmail :many
-- The claim is this response's when the address is free, its claim is older
-- than @interval_seconds, or it is already this response's (the worker claims
-- again what the API claimed; that keeps the claim's time).
INSERT INTO verification_email_claims AS c (address, response_id, claimed_at)
VALUES (@address, @response_id, now())
ON CONFLICT (address) DO UPDATE
SET response_id = EXCLUDED.response_id,
    claimed_at = CASE WHEN c.response_id = EXCLUDED.response_id THEN c.claimed_at ELSE now() END
WHERE c.response_id = EXCLUDED.response_id OR c.claimed_at < now() - make_interval(secs => @interval_seconds::float8)
RETURNING response_id;
