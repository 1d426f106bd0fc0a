-- The site-settings singleton (id 1).

-- name: GetSettings :one
SELECT * FROM site_settings WHERE id = 1;

-- name: UpdateSettings :one
UPDATE site_settings SET
    organization_name  = COALESCE(sqlc.narg('organization_name')::text, organization_name),
    email_from_name    = COALESCE(sqlc.narg('email_from_name')::text, email_from_name),
    email_from_address = COALESCE(sqlc.narg('email_from_address')::text, email_from_address),
    smtp_host          = COALESCE(sqlc.narg('smtp_host')::text, smtp_host),
    smtp_port          = COALESCE(sqlc.narg('smtp_port')::integer, smtp_port),
    smtp_username      = COALESCE(sqlc.narg('smtp_username')::text, smtp_username),
    smtp_tls           = COALESCE(sqlc.narg('smtp_tls')::text, smtp_tls),
    allow_registration = COALESCE(sqlc.narg('allow_registration')::boolean, allow_registration),
    enable_influence   = COALESCE(sqlc.narg('enable_influence')::boolean, enable_influence),
    enable_map         = COALESCE(sqlc.narg('enable_map')::boolean, enable_map),
    enable_media       = COALESCE(sqlc.narg('enable_media')::boolean, enable_media),
    smtp_password_enc  = CASE WHEN @set_smtp_password::boolean THEN sqlc.narg('smtp_password_enc')::bytea
                              ELSE smtp_password_enc END,
    updated_at         = now()
WHERE id = 1
RETURNING *;
