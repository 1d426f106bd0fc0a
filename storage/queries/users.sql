-- Users and their refresh tokens. A user with deleted_at set is gone for
-- every query but the ones that revoke its tokens.

-- name: CreateUser :one
INSERT INTO users (email, name, password_hash, role, status, expires_at)
VALUES (@email, @name, @password_hash, @role, @status, sqlc.narg('expires_at'))
RETURNING *;

-- name: UserByID :one
SELECT * FROM users WHERE id = @id AND deleted_at IS NULL;

-- name: UserByEmail :one
SELECT * FROM users WHERE lower(email) = lower(@email) AND deleted_at IS NULL;

-- name: CountUsers :one
SELECT count(*) FROM users
WHERE deleted_at IS NULL
  AND (sqlc.narg('search')::text IS NULL
       OR email ILIKE '%' || sqlc.narg('search') || '%' OR name ILIKE '%' || sqlc.narg('search') || '%')
  AND (sqlc.narg('role')::text IS NULL OR role = sqlc.narg('role'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'));

-- name: ListUsers :many
SELECT * FROM users
WHERE deleted_at IS NULL
  AND (sqlc.narg('search')::text IS NULL
       OR email ILIKE '%' || sqlc.narg('search') || '%' OR name ILIKE '%' || sqlc.narg('search') || '%')
  AND (sqlc.narg('role')::text IS NULL OR role = sqlc.narg('role'))
  AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
ORDER BY created_at DESC, id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: UpdateUser :one
UPDATE users SET
    email         = COALESCE(sqlc.narg('email')::text, email),
    name          = COALESCE(sqlc.narg('name')::text, name),
    role          = COALESCE(sqlc.narg('role')::text, role),
    status        = COALESCE(sqlc.narg('status')::text, status),
    password_hash = COALESCE(sqlc.narg('password_hash')::text, password_hash),
    expires_at    = CASE WHEN @set_expires_at::boolean THEN sqlc.narg('expires_at')::timestamptz ELSE expires_at END,
    updated_at    = now()
WHERE id = @id AND deleted_at IS NULL
RETURNING *;

-- name: SoftDeleteUser :execrows
UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = @id AND deleted_at IS NULL;

-- name: RecordLogin :one
UPDATE users SET last_login_at = now() WHERE id = @id RETURNING last_login_at;

-- name: RevokeUserRefreshTokens :exec
UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = @user_id AND revoked_at IS NULL;

-- name: CreateRefreshToken :exec
INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
VALUES (@user_id, @family_id, @token_hash, @expires_at);

-- name: RefreshTokenForUpdate :one
SELECT id, user_id, family_id, expires_at, used_at, revoked_at
FROM refresh_tokens WHERE token_hash = @token_hash FOR UPDATE;

-- name: RevokeRefreshFamily :exec
UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = @family_id AND revoked_at IS NULL;

-- name: RevokeRefreshFamilyOfHash :exec
UPDATE refresh_tokens SET revoked_at = now()
WHERE revoked_at IS NULL
  AND family_id = (SELECT t.family_id FROM refresh_tokens t WHERE t.token_hash = @token_hash);

-- name: SpendRefreshToken :exec
UPDATE refresh_tokens SET used_at = now() WHERE id = @id;

-- name: PurgeRefreshTokens :execrows
DELETE FROM refresh_tokens WHERE expires_at < @cutoff;
