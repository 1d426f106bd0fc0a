package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
func upper(s string) string { return strings.ToUpper(s) }

func httptestRequest(method, path string) *http.Request {
	return httptest.NewRequest(method, path, nil)
}
