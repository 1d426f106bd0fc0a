package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
)

// Refresh-token failures. ErrTokenReused means a token was presented after it
// had been rotated: the whole family has been revoked.
var (
	ErrTokenInvalid = errors.New("refresh token invalid or expired")
	ErrTokenReused  = errors.New("refresh token reused")
)

// CreateRefreshToken stores the hash of a new token starting a new family.
func (s *Store) CreateRefreshToken(ctx context.Context, userID int64, hash []byte, expiresAt time.Time) error {
	err := s.q().CreateRefreshToken(ctx, db.CreateRefreshTokenParams{UserID: userID, FamilyID: uuid.New(),
		TokenHash: hash, ExpiresAt: expiresAt})
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
		q := queries(tx)
		t, err := q.RefreshTokenForUpdate(ctx, oldHash)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrTokenInvalid
		}
		if err != nil {
			return fmt.Errorf("find refresh token: %w", err)
		}
		userID = t.UserID
		if t.UsedAt != nil || t.RevokedAt != nil {
			// Someone holds a copy of a spent token: burn the family.
			if err := q.RevokeRefreshFamily(ctx, t.FamilyID); err != nil {
				return fmt.Errorf("revoke token family: %w", err)
			}
			reused = true
			return nil
		}
		if !time.Now().Before(t.ExpiresAt) {
			return ErrTokenInvalid
		}
		if err := q.SpendRefreshToken(ctx, t.ID); err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		err = q.CreateRefreshToken(ctx, db.CreateRefreshTokenParams{UserID: userID, FamilyID: t.FamilyID,
			TokenHash: newHash, ExpiresAt: expiresAt})
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
	if err := s.q().RevokeRefreshFamilyOfHash(ctx, hash); err != nil {
		return fmt.Errorf("revoke refresh family: %w", err)
	}
	return nil
}

// PurgeRefreshTokens deletes tokens that expired before cutoff.
func (s *Store) PurgeRefreshTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	n, err := s.q().PurgeRefreshTokens(ctx, cutoff)
	if err != nil {
		return 0, fmt.Errorf("purge refresh tokens: %w", err)
	}
	return n, nil
}
