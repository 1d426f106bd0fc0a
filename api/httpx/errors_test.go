package httpx_test

import (
	"errors"
	"fmt"
	"testing"

	"changemaker/api/httpx"
	"changemaker/storage"
)

func TestAsError(t *testing.T) {
	t.Parallel()
	notFound := fmt.Errorf("campaign 7: %w", storage.ErrNotFound)
	conflict := fmt.Errorf("update user 3: %w", storage.ErrConflict)
	cases := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"a wrapped storage.ErrNotFound is a 404", notFound, 404, httpx.CodeNotFound, "not found"},
		{"a wrapped storage.ErrConflict is a 409", conflict, 409, httpx.CodeConflict, "this conflicts with what is already stored"},
		{"a video not ready is a 409", fmt.Errorf("publish: %w", storage.ErrVideoNotReady), 409, httpx.CodeConflict, "only a ready video can be published"},
		{"a reused refresh token is a 401", storage.ErrTokenReused, 401, httpx.CodeUnauthorized, "refresh token was already used; sign in again"},
		{"NotFoundf names what is missing", httpx.NotFoundf(notFound, "no such campaign"), 404, httpx.CodeNotFound, "no such campaign"},
		{"NotFoundf formats", httpx.NotFoundf(notFound, "no such %s", "video"), 404, httpx.CodeNotFound, "no such video"},
		{"the outermost description wins",
			fmt.Errorf("handler: %w", httpx.NotFoundf(httpx.NotFoundf(notFound, "inner"), "outer")), 404, httpx.CodeNotFound, "outer"},
		{"a description for another error is ignored", httpx.NotFoundf(conflict, "no such user"), 409, httpx.CodeConflict,
			"this conflicts with what is already stored"},
		{"descriptions of two errors stack: not found",
			httpx.Conflictf(httpx.NotFoundf(notFound, "no such user"), "email taken"), 404, httpx.CodeNotFound, "no such user"},
		{"descriptions of two errors stack: conflict",
			httpx.Conflictf(httpx.NotFoundf(conflict, "no such user"), "email taken"), 409, httpx.CodeConflict, "email taken"},
		{"a description under errors.Join is found",
			errors.Join(errors.New("other"), httpx.NotFoundf(notFound, "no such recipient")), 404, httpx.CodeNotFound, "no such recipient"},
		{"a described internal error stays a 500 and says nothing",
			httpx.NotFoundf(errors.New("connection refused"), "no such campaign"), 500, httpx.CodeInternal, "internal error"},
		{"an *Error in the chain wins over the table",
			fmt.Errorf("x: %w", httpx.Forbidden("not yours")), 403, httpx.CodeForbidden, "not yours"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := httpx.AsError(tc.err)
			if e.Status != tc.status || e.Code != tc.code || e.Message != tc.message {
				t.Errorf("AsError(%v) = %d %s %q, want %d %s %q", tc.err, e.Status, e.Code, e.Message, tc.status, tc.code, tc.message)
			}
		})
	}
	t.Run("a nil error stays nil", func(t *testing.T) {
		t.Parallel()
		if err := httpx.NotFoundf(nil, "no such campaign"); err != nil {
			t.Errorf("NotFoundf(nil) = %v, want nil", err)
		}
		if err := httpx.Conflictf(nil, "taken"); err != nil {
			t.Errorf("Conflictf(nil) = %v, want nil", err)
		}
	})
	t.Run("the log keeps the cause", func(t *testing.T) {
		t.Parallel()
		err := httpx.NotFoundf(notFound, "no such campaign")
		if err.Error() != "campaign 7: not found" || !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("NotFoundf(...) = %q, want the cause's text and errors.Is ErrNotFound", err)
		}
	})
}
