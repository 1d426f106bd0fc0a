package password_test

import (
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"changemaker/internal/password"
)

func TestGenerate(t *testing.T) {
	t.Parallel()
	pw, err := password.Generate()
	if err != nil || len(pw) < 20 || password.Problem(pw) != "" {
		t.Fatalf("generated password %q unusable: %v", pw, err)
	}
	other, _ := password.Generate()
	if other == pw {
		t.Fatal("two generated passwords are equal")
	}
}

func TestProblem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"nine characters are too few", strings.Repeat("a", password.MinLen-1), false},
		{"ten characters are enough", strings.Repeat("a", password.MinLen), true},
		{"72 bytes are the most bcrypt reads", strings.Repeat("a", password.MaxLen), true},
		{"73 bytes are too many", strings.Repeat("a", password.MaxLen+1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := password.Problem(tc.pw); (got == "") != tc.ok {
				t.Errorf("Problem(%d bytes) = %q, want ok=%v", len(tc.pw), got, tc.ok)
			}
		})
	}
}

func TestHashAndCheck(t *testing.T) {
	t.Parallel()
	hash, err := password.Hash("correct horse battery", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if !password.Check(hash, "correct horse battery") {
		t.Error("the right password does not match its hash")
	}
	if password.Check(hash, "correct horse battery!") {
		t.Error("a wrong password matches")
	}
	if password.Cost < bcrypt.DefaultCost {
		t.Errorf("Cost = %d, below bcrypt's default %d", password.Cost, bcrypt.DefaultCost)
	}
}
