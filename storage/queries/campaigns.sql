-- Campaigns, their custom recipients and the calls made through them.

-- name: CreateCampaign :one
INSERT INTO campaigns (slug, title, description, email_subject, email_body, call_to_action, cover_photo,
    status, target_government_levels, allow_smtp_email, allow_mailto_link, collect_user_info,
    show_email_count, show_call_count, allow_email_editing, allow_custom_recipients, show_response_wall,
    highlight_campaign, created_by)
VALUES (@slug, sqlc.narg('title')::text,
    COALESCE(sqlc.narg('description')::text, ''),
    COALESCE(sqlc.narg('email_subject')::text, ''),
    COALESCE(sqlc.narg('email_body')::text, ''),
    COALESCE(sqlc.narg('call_to_action')::text, ''),
    COALESCE(sqlc.narg('cover_photo')::text, ''),
    COALESCE(sqlc.narg('status')::text, 'DRAFT'),
    @target_government_levels::text[],
    COALESCE(sqlc.narg('allow_smtp_email')::boolean, true),
    COALESCE(sqlc.narg('allow_mailto_link')::boolean, false),
    COALESCE(sqlc.narg('collect_user_info')::boolean, true),
    COALESCE(sqlc.narg('show_email_count')::boolean, true),
    COALESCE(sqlc.narg('show_call_count')::boolean, false),
    COALESCE(sqlc.narg('allow_email_editing')::boolean, false),
    COALESCE(sqlc.narg('allow_custom_recipients')::boolean, false),
    COALESCE(sqlc.narg('show_response_wall')::boolean, false),
    COALESCE(sqlc.narg('highlight_campaign')::boolean, false),
    @created_by)
RETURNING *;

-- name: CampaignByID :one
SELECT * FROM campaigns WHERE id = @id;

-- name: CampaignBySlug :one
SELECT * FROM campaigns WHERE slug = @slug;

-- name: UpdateCampaign :one
UPDATE campaigns SET
    slug                     = COALESCE(sqlc.narg('slug')::text, slug),
    title                    = COALESCE(sqlc.narg('title')::text, title),
    description              = COALESCE(sqlc.narg('description')::text, description),
    email_subject            = COALESCE(sqlc.narg('email_subject')::text, email_subject),
    email_body               = COALESCE(sqlc.narg('email_body')::text, email_body),
    call_to_action           = COALESCE(sqlc.narg('call_to_action')::text, call_to_action),
    cover_photo              = COALESCE(sqlc.narg('cover_photo')::text, cover_photo),
    status                   = COALESCE(sqlc.narg('status')::text, status),
    target_government_levels = COALESCE(sqlc.narg('target_government_levels')::text[], target_government_levels),
    allow_smtp_email         = COALESCE(sqlc.narg('allow_smtp_email')::boolean, allow_smtp_email),
    allow_mailto_link        = COALESCE(sqlc.narg('allow_mailto_link')::boolean, allow_mailto_link),
    collect_user_info        = COALESCE(sqlc.narg('collect_user_info')::boolean, collect_user_info),
    show_email_count         = COALESCE(sqlc.narg('show_email_count')::boolean, show_email_count),
    show_call_count          = COALESCE(sqlc.narg('show_call_count')::boolean, show_call_count),
    allow_email_editing      = COALESCE(sqlc.narg('allow_email_editing')::boolean, allow_email_editing),
    allow_custom_recipients  = COALESCE(sqlc.narg('allow_custom_recipients')::boolean, allow_custom_recipients),
    show_response_wall       = COALESCE(sqlc.narg('show_response_wall')::boolean, show_response_wall),
    highlight_campaign       = COALESCE(sqlc.narg('highlight_campaign')::boolean, highlight_campaign),
    updated_at               = now()
WHERE id = @id
RETURNING *;

-- name: DeleteCampaign :execrows
DELETE FROM campaigns WHERE id = @id;

-- name: CountCampaigns :one
SELECT count(*) FROM campaigns
WHERE (sqlc.narg('search')::text IS NULL
       OR title ILIKE '%' || sqlc.narg('search') || '%' OR slug ILIKE '%' || sqlc.narg('search') || '%')
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('created_by')::bigint IS NULL OR created_by = sqlc.narg('created_by'));

-- ListCampaigns: the public list puts highlighted campaigns first; the CASE
-- is NULL for every row otherwise, so it does not reorder the admin list.
-- name: ListCampaigns :many
SELECT * FROM campaigns
WHERE (sqlc.narg('search')::text IS NULL
       OR title ILIKE '%' || sqlc.narg('search') || '%' OR slug ILIKE '%' || sqlc.narg('search') || '%')
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
  AND (sqlc.narg('created_by')::bigint IS NULL OR created_by = sqlc.narg('created_by'))
ORDER BY CASE WHEN @highlighted_first::boolean THEN highlight_campaign END DESC, created_at DESC, id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: AddRecipient :one
INSERT INTO campaign_recipients (campaign_id, name, title, email)
VALUES (@campaign_id, @name, @title, @email)
RETURNING *;

-- name: Recipients :many
SELECT * FROM campaign_recipients WHERE campaign_id = @campaign_id ORDER BY id;

-- name: DeleteRecipient :execrows
DELETE FROM campaign_recipients WHERE id = @id AND campaign_id = @campaign_id;

-- name: InsertCall :one
INSERT INTO campaign_calls (campaign_id, recipient_kind, recipient_name, recipient_title, recipient_level,
    idempotency_key)
VALUES (@campaign_id, @recipient_kind, @recipient_name, @recipient_title, @recipient_level,
    sqlc.narg('idempotency_key'))
ON CONFLICT (campaign_id, idempotency_key) DO NOTHING
RETURNING *;

-- name: CallByIdempotencyKey :one
SELECT * FROM campaign_calls WHERE campaign_id = @campaign_id AND idempotency_key = @idempotency_key;

-- name: CampaignCallCount :one
SELECT call_count FROM campaigns WHERE id = @id;

-- name: CountCall :one
UPDATE campaigns SET call_count = call_count + 1 WHERE id = @id RETURNING call_count;

-- name: CallStats :many
SELECT recipient_kind, recipient_name, recipient_title, recipient_level, count(*) AS calls
FROM campaign_calls WHERE campaign_id = @campaign_id
GROUP BY recipient_kind, recipient_name, recipient_title, recipient_level
ORDER BY count(*) DESC, recipient_name;
