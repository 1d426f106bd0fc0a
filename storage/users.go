package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

const userColumns = `id, email, name, role, status, expires_at, last_login_at, created_at, updated_at, password_hash`

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.ExpiresAt, &u.LastLoginAt,
		&u.CreatedAt, &u.UpdatedAt, &u.PasswordHash)
	return u, err
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
	u, err := scanUser(s.Pool.QueryRow(ctx, `
		INSERT INTO users (email, name, password_hash, role, status, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING `+userColumns,
		strings.TrimSpace(n.Email), n.Name, n.PasswordHash, n.Role, n.Status, n.ExpiresAt))
	if isUniqueViolation(err) {
		return User{}, ErrConflict
	}
	if err != nil {
		return User{}, fmt.Errorf("insert user: %w", err)
	}
	return u, nil
}

// UserByID finds a live (not deleted) user.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE id = $1 AND deleted_at IS NULL`, id))
	return u, notFound(err)
}

// UserByEmail finds a live user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	u, err := scanUser(s.Pool.QueryRow(ctx,
		`SELECT `+userColumns+` FROM users WHERE lower(email) = lower($1) AND deleted_at IS NULL`,
		strings.TrimSpace(email)))
	return u, notFound(err)
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
	rows, err := s.Pool.Query(ctx, `
		SELECT `+userColumns+`, count(*) OVER ()
		FROM users
		WHERE deleted_at IS NULL
		  AND ($1 = '' OR email ILIKE '%' || $1 || '%' OR name ILIKE '%' || $1 || '%')
		  AND ($2 = '' OR role = $2)
		  AND ($3 = '' OR status = $3)
		ORDER BY created_at DESC, id DESC
		LIMIT $4 OFFSET $5`,
		escapeLike(f.Search), f.Role, f.Status, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	users := []User{}
	total := 0
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.Status, &u.ExpiresAt, &u.LastLoginAt,
			&u.CreatedAt, &u.UpdatedAt, &u.PasswordHash, &total); err != nil {
			return nil, 0, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	if len(users) == 0 && f.Offset > 0 {
		// The window count is absent on an empty page; count separately.
		err := s.Pool.QueryRow(ctx, `
			SELECT count(*) FROM users
			WHERE deleted_at IS NULL
			  AND ($1 = '' OR email ILIKE '%' || $1 || '%' OR name ILIKE '%' || $1 || '%')
			  AND ($2 = '' OR role = $2)
			  AND ($3 = '' OR status = $3)`,
			escapeLike(f.Search), f.Role, f.Status).Scan(&total)
		if err != nil {
			return nil, 0, fmt.Errorf("count users: %w", err)
		}
	}
	return users, total, nil
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
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE users SET
				email         = COALESCE($2, email),
				name          = COALESCE($3, name),
				role          = COALESCE($4, role),
				status        = COALESCE($5, status),
				password_hash = COALESCE($6, password_hash),
				expires_at    = CASE WHEN $7 THEN $8 ELSE expires_at END,
				updated_at    = now()
			WHERE id = $1 AND deleted_at IS NULL
			RETURNING `+userColumns,
			id, p.Email, p.Name, p.Role, p.Status, p.PasswordHash, p.SetExpiresAt, p.ExpiresAt))
		if isUniqueViolation(err) {
			return ErrConflict
		}
		if err != nil {
			return notFound(err)
		}
		if p.PasswordHash != nil || (p.Status != nil && *p.Status != StatusActive) {
			if _, err := tx.Exec(ctx,
				`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id); err != nil {
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
		tag, err := tx.Exec(ctx,
			`UPDATE users SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete user %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx,
			`UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id)
		return err
	})
}

// RecordLogin stamps a user's last login time.
func (s *Store) RecordLogin(ctx context.Context, id int64) error {
	_, err := s.Pool.Exec(ctx, `UPDATE users SET last_login_at = now() WHERE id = $1`, id)
	return err
}
