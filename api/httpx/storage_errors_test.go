package httpx_test

import (
	"fmt"
	"testing"

	"changemaker/api/httpx"
	"changemaker/storage"
)

// TestStorageErrorsAnswer: what storage reports about Postgres reaches the
// client as a status and code, wrapped however deep.
func TestStorageErrorsAnswer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		err        error
		status     int
		code       string
		retryAfter int
	}{
		{"text Postgres cannot store is the client's 400", storage.ErrInvalidText, 400, httpx.CodeInvalidText, 0},
		{"a database out of reach is a 503 to retry", storage.ErrUnavailable, 503, httpx.CodeUnavailable, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := httpx.AsError(fmt.Errorf("save thing: %w", fmt.Errorf("query: %w", c.err)))
			if e.Status != c.status || e.Code != c.code || e.RetryAfter != c.retryAfter {
				t.Fatalf("= %d %s (Retry-After %d), want %d %s (%d)", e.Status, e.Code, e.RetryAfter,
					c.status, c.code, c.retryAfter)
			}
		})
	}
}
