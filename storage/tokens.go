package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Refresh-token failures. ErrTokenReused means a token was presented after it
// had been rotated: the whole family has been revoked.
var (
	ErrTokenInvalid = errors.New("refresh token invalid or expired")
	ErrTokenReused  = errors.New("refresh token reused")
)

// CreateRefreshToken stores the hash of a new token starting a new family.
func (s *Store) CreateRefreshToken(ctx context.Context, userID int64, hash []byte, expiresAt time.Time) error {
	_, err := s.Pool.Exec(ctx, `
		INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
		VALUES ($1, $2, $3, $4)`, userID, uuid.New(), hash, expiresAt)
	if err != nil {
		return fmt.Errorf("store refresh token: %w", err)
	}
	return nil
}

// RotateRefreshToken consumes the token with oldHash and stores newHash in its
// family, in one transaction. A token already used or revoked revokes the whole
// family and returns ErrTokenReused. It returns the token's user.
func (s *Store) RotateRefreshToken(ctx context.Context, oldHash, newHash []byte, expiresAt time.Time) (int64, error) {
	var userID int64
	var reused bool
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		var (
			id        int64
			familyID  uuid.UUID
			expires   time.Time
			usedAt    *time.Time
			revokedAt *time.Time
		)
		err := tx.QueryRow(ctx, `
			SELECT id, user_id, family_id, expires_at, used_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, oldHash).
			Scan(&id, &userID, &familyID, &expires, &usedAt, &revokedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		if usedAt != nil || revokedAt != nil {
			// Someone holds a copy of a spent token: burn the family.
			if _, err := tx.Exec(ctx, `
				UPDATE refresh_tokens SET revoked_at = now()
				WHERE family_id = $1 AND revoked_at IS NULL`, familyID); err != nil {
				return fmt.Errorf("revoke token family: %w", err)
			}
			reused = true
			return nil
		}
		if !time.Now().Before(expires) {
			return ErrTokenInvalid
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET used_at = now() WHERE id = $1`, id); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)
			VALUES ($1, $2, $3, $4)`, userID, familyID, newHash, expiresAt)
		if err != nil {
			return fmt.Errorf("store rotated refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if reused {
		return 0, ErrTokenReused
	}
	return userID, nil
}

// RevokeRefreshFamily revokes the family of the token with hash, if any.
func (s *Store) RevokeRefreshFamily(ctx context.Context, hash []byte) error {
	_, err := s.Pool.Exec(ctx, `
		UPDATE refresh_tokens SET revoked_at = now()
		WHERE revoked_at IS NULL
		  AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)`, hash)
	if err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// PurgeRefreshTokens deletes tokens that expired before cutoff.
func (s *Store) PurgeRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM refresh_tokens WHERE expires_at < $1`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	return tag.RowsAffected(), nil
}
