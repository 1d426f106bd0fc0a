package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
)

// Roles, most powerful first.
const (
	RoleSuperAdmin     = "SUPER_ADMIN"
	RoleInfluenceAdmin = "INFLUENCE_ADMIN"
	RoleMapAdmin       = "MAP_ADMIN"
	RoleUser           = "USER"
	RoleTemp           = "TEMP"
)

// Roles lists every role.
var Roles = []string{RoleSuperAdmin, RoleInfluenceAdmin, RoleMapAdmin, RoleUser, RoleTemp}

// User statuses. Only ACTIVE users may authenticate.
const (
	StatusActive    = "ACTIVE"
	StatusInactive  = "INACTIVE"
	StatusSuspended = "SUSPENDED"
	StatusExpired   = "EXPIRED"
)

// UserStatuses lists every status.
var UserStatuses = []string{StatusActive, StatusInactive, StatusSuspended, StatusExpired}

// User is an account. PasswordHash never leaves the process.
type User struct {
	ID           int64
	Email        string
	Name         string
	Role         string
	Status       string
	ExpiresAt    *time.Time
	LastLoginAt  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	PasswordHash string
}

// EffectiveStatus is the status with expiry applied: an account past its
// expires_at is EXPIRED whatever the stored status says.
func (u User) EffectiveStatus(now time.Time) string {
	if u.Status == StatusActive && u.ExpiresAt != nil && !now.Before(*u.ExpiresAt) {
		return StatusExpired
	}
	return u.Status
}

func userFromDB(r db.User) User {
	return User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, Status: r.Status, ExpiresAt: r.ExpiresAt,
		LastLoginAt: r.LastLoginAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, PasswordHash: r.PasswordHash}
}

// NewUser is what CreateUser needs.
type NewUser struct {
	Email        string
	Name         string
	PasswordHash string
	Role         string
	Status       string
	ExpiresAt    *time.Time
}

// CreateUser inserts a user. A live account with the same email is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, n NewUser) (User, error) {
	if n.Status == "" {
		n.Status = StatusActive
	}
	r, err := s.q().CreateUser(ctx, db.CreateUserParams{Email: strings.TrimSpace(n.Email), Name: n.Name,
		PasswordHash: n.PasswordHash, Role: n.Role, Status: n.Status, ExpiresAt: n.ExpiresAt})
	if errors.Is(err, ErrConflict) {
		return User{}, ErrConflict
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return userFromDB(r), nil
}

// UserByID finds a live (not deleted) user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	r, err := s.q().UserByID(ctx, id)
	return userFromDB(r), notFound(err)
}

// UserByEmail finds a live user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	r, err := s.q().UserByEmail(ctx, strings.TrimSpace(email))
	return userFromDB(r), notFound(err)
}

// UserFilter narrows ListUsers. Empty fields do not filter.
type UserFilter struct {
	Search string
	Role   string
	Status string
	Limit  int
	Offset int
}

// ListUsers returns one page of live users, newest first, and the total.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]User, int, error) {
	search, role, status := optText(escapeLike(f.Search)), optText(f.Role), optText(f.Status)
	return page(ctx, s, "users",
		func(ctx context.Context, q *db.Queries) (int64, error) {
			return q.CountUsers(ctx, db.CountUsersParams{Search: search, Role: role, Status: status})
		},
		func(ctx context.Context, q *db.Queries) ([]db.User, error) {
			return q.ListUsers(ctx, db.ListUsersParams{Search: search, Role: role, Status: status,
				PageLimit: int64(f.Limit), PageOffset: int64(f.Offset)})
		},
		userFromDB)
}

// escapeLike makes s match literally inside an ILIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// UserPatch holds the fields UpdateUser changes; nil fields stay as they are.
type UserPatch struct {
	Email        *string
	Name         *string
	Role         *string
	Status       *string
	PasswordHash *string
	// ExpiresAt is applied only when SetExpiresAt is true (nil clears it).
	SetExpiresAt bool
	ExpiresAt    *time.Time
}

// UpdateUser applies p to a live user and returns the result. A new password
// or a status other than ACTIVE revokes the user's refresh tokens in the same
// transaction, so a reset ends every session an attacker may hold.
func (s *Store) UpdateUser(ctx context.Context, id int64, p UserPatch) (User, error) {
	var u User
	err := s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		r, err := q.UpdateUser(ctx, db.UpdateUserParams{ID: id, Email: p.Email, Name: p.Name, Role: p.Role,
			Status: p.Status, PasswordHash: p.PasswordHash, SetExpiresAt: p.SetExpiresAt, ExpiresAt: p.ExpiresAt})
		if errors.Is(err, ErrConflict) {
			return ErrConflict
		}
		if err != nil {
			return notFound(err)
		}
		u = userFromDB(r)
		if p.PasswordHash != nil || (p.Status != nil && *p.Status != StatusActive) {
			if err := q.RevokeUserRefreshTokens(ctx, id); err != nil {
				return fmt.Errorf("revoke refresh tokens of user %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// SoftDeleteUser marks a user deleted and revokes their refresh tokens.
func (s *Store) SoftDeleteUser(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		n, err := q.SoftDeleteUser(ctx, id)
		if err != nil {
			return fmt.Errorf("delete user %d: %w", id, err)
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := q.RevokeUserRefreshTokens(ctx, id); err != nil {
			return fmt.Errorf("revoke refresh tokens of user %d: %w", id, err)
		}
		return nil
	})
}

// RecordLogin stamps a user's last login time and returns it.
func (s *Store) RecordLogin(ctx context.Context, id int64) (time.Time, error) {
	at, err := s.q().RecordLogin(ctx, id)
	if err != nil {
		return time.Time{}, fmt.Errorf("record login of user %d: %w", id, err)
	}
	if at == nil {
		return time.Time{}, fmt.Errorf("record login of user %d: no time recorded", id)
	}
	return *at, nil
}
