package testenv

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContractCheck: the check refuses what the document does not describe.
func TestContractCheck(t *testing.T) {
	all, err := contracts()
	if err != nil {
		t.Fatal(err)
	}
	c := all["changemaker-main"]
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	user := `{"id":1,"email":"a@b.c","name":"","role":"USER","status":"ACTIVE","expiresAt":null,` +
		`"lastLoginAt":"2026-01-01T00:00:00Z","createdAt":"2026-01-01T00:00:00Z","updatedAt":"2026-01-01T00:00:00Z"}`
	notFound := `{"error":{"code":"not_found","message":"no such route","details":[]}}`
	for _, tc := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body               string
		ok                 bool
	}{
		{"described answer", "GET", "/api/auth/me", 200, jsonHeader, `{"user":` + user + `}`, true},
		{"trailing slash", "GET", "/api/auth/me/", 200, jsonHeader, `{"user":` + user + `}`, true},
		{"missing field", "GET", "/api/auth/me", 200, jsonHeader, `{"user":{"id":1}}`, false},
		{"extra field", "GET", "/api/auth/me", 200, jsonHeader, `{"user":` + user + `,"x":1}`, false},
		{"wrong enum", "GET", "/api/auth/me", 200, jsonHeader, `{"user":` + strings.Replace(user, "USER", "KING", 1) + `}`, false},
		{"wrong content type", "GET", "/api/auth/me", 200, http.Header{"Content-Type": {"text/html"}}, `{}`, false},
		{"error format", "GET", "/api/auth/me", 401, jsonHeader, `{"error":{"code":"unauthorized","message":"m","details":[]}}`, true},
		{"error without details", "GET", "/api/auth/me", 401, jsonHeader, `{"error":{"code":"unauthorized","message":"m"}}`, false},
		{"unknown route 404", "GET", "/api/nope", 404, jsonHeader, notFound, true},
		{"unknown route 200", "GET", "/api/nope", 200, jsonHeader, `{}`, false},
		{"unknown method 405", "PUT", "/api/auth/me", 405, jsonHeader,
			`{"error":{"code":"method_not_allowed","message":"m","details":[]}}`, true},
		{"preflight", "OPTIONS", "/api/auth/me", 204, http.Header{}, ``, true},
		{"dashboard subtree", "GET", "/api/admin/queues/api/queues", 200, jsonHeader, `[]`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			err := c.check(r, &Response{Status: tc.status, Header: tc.header, Body: []byte(tc.body)})
			if (err == nil) != tc.ok {
				t.Errorf("check = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
