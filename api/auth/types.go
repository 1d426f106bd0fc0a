package auth

import (
	"time"

	"changemaker/storage"
)

// User is an account as clients see it. The password hash is not in it, and
// cannot reach a client unless someone adds it here.
type User struct {
	ID          int64      `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Status      string     `json:"status"`
	ExpiresAt   *time.Time `json:"expiresAt"`
	LastLoginAt *time.Time `json:"lastLoginAt"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
}

// ToUser is the response form of u.
func ToUser(u storage.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Status: u.Status, ExpiresAt: u.ExpiresAt,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}
