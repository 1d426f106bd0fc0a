// Package password holds the rules every way of setting a password follows —
// registration, user management and the admin create-user command — and the
// one bcrypt cost they hash with.
package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Password rules.
const (
	MinLen = 10
	MaxLen = 72 // bcrypt reads no further
)

// Cost is the bcrypt cost of every stored password. Tests pass
// bcrypt.MinCost where a cost is taken, to stay fast.
const Cost = bcrypt.DefaultCost + 2

// Hash hashes pw with bcrypt at cost.
func Hash(pw string, cost int) (string, error) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(b), nil
}

// Check reports whether pw matches hash.
func Check(hash, pw string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// Problem says what is wrong with pw, or "" when it is acceptable.
func Problem(pw string) string {
	switch {
	case len(pw) < MinLen:
		return fmt.Sprintf("must be at least %d characters", MinLen)
	case len(pw) > MaxLen:
		return fmt.Sprintf("must be at most %d bytes", MaxLen)
	}
	return ""
}

const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_!@#%+="

// Generate returns a random 24-character password (about 145 bits).
func Generate() (string, error) {
	out := make([]byte, 24)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", errors.New("generate password: no randomness")
		}
		out[i] = alphabet[n.Int64()]
	}
	return string(out), nil
}
