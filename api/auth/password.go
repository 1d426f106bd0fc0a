package auth

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Password rules.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72 // bcrypt reads no further
)

// HashPassword hashes pw with bcrypt at cost.
func HashPassword(pw string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(b), nil
}

// CheckPassword reports whether pw matches hash.
func CheckPassword(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// PasswordProblem says what is wrong with pw, or "" when it is acceptable.
func PasswordProblem(pw string) string {
	switch {
	case len(pw) < MinPasswordLen:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Sprintf("must be at most %d bytes", MaxPasswordLen)
	}
	return ""
}

const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!@#%+="

// GeneratePassword returns a random 24-character password (about 145 bits).
func GeneratePassword() (string, error) {
	out := make([]byte, 24)
	max := big.NewInt(int64(len(passwordAlphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", errors.New("generate password: no randomness")
		}
		out[i] = passwordAlphabet[n.Int64()]
	}
	return string(out), nil
}
