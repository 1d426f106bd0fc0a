package api_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/testenv"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t)

	t.Run("main and media report healthy with both dependencies up", func(t *testing.T) {
		for _, c := range []struct {
			app  *api.App
			path string
		}{{env.Main, "/api/health"}, {env.Media, "/health"}, {env.Media, "/api/media/health"}} {
			res := testenv.Do(t, c.app, testenv.Request{Method: "GET", Path: c.path})
			var body struct {
				Status string `json:"status"`
				Checks map[string]struct {
					Status string `json:"status"`
				} `json:"checks"`
			}
			res.JSON(t, &body)
			if res.Status != 200 || body.Status != "healthy" || body.Checks["postgres"].Status != "up" || body.Checks["redis"].Status != "up" {
				t.Errorf("GET %s = %d %s, want 200 healthy with postgres and redis up", c.path, res.Status, res.Body)
			}
		}
	})

	t.Run("503 degraded naming redis when redis is unreachable", func(t *testing.T) {
		deps := env.Deps
		// Nothing listens on port 1: Redis is unreachable.
		deps.Redis = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		defer deps.Redis.Close()
		for _, build := range []func(api.Deps) (*api.App, error){api.NewMain, api.NewMedia} {
			app, err := build(deps)
			if err != nil {
				t.Fatal(err)
			}
			path := "/api/health"
			if strings.Contains(app.Config().AppName, "media") {
				path = "/api/media/health"
			}
			res := testenv.Do(t, app, testenv.Request{Method: "GET", Path: path})
			var body struct {
				Status string   `json:"status"`
				Failed []string `json:"failed"`
			}
			res.JSON(t, &body)
			if res.Status != 503 || body.Status != "degraded" || len(body.Failed) != 1 || body.Failed[0] != "redis" {
				t.Errorf("GET %s with redis down = %d %s, want 503 degraded failed=[redis]", path, res.Status, res.Body)
			}
			app.Close()
		}
	})
}

func TestErrorFormat(t *testing.T) {
	t.Parallel()
	env := testenv.NewAPI(t, func(c *config.Config) { c.APIBodyLimit = 1024 })
	admin := env.TokenFor("SUPER_ADMIN")
	cases := []struct {
		name       string
		req        testenv.Request
		wantStatus int
		wantCode   string
	}{
		{"malformed JSON", testenv.Request{Method: "POST", Path: "/api/auth/login", Body: `{"email":`}, 400, httpx.CodeInvalidJSON},
		{"wrong JSON type", testenv.Request{Method: "POST", Path: "/api/auth/login", Body: `{"email":42,"password":"x"}`}, 400, httpx.CodeInvalidJSON},
		{"failed validation", testenv.Request{Method: "POST", Path: "/api/users", Token: admin, Body: map[string]any{"email": "nope", "role": "KING"}}, 400, httpx.CodeValidation},
		{"unknown route", testenv.Request{Method: "GET", Path: "/api/no-such-thing"}, 404, httpx.CodeNotFound},
		{"wrong method", testenv.Request{Method: "DELETE", Path: "/api/health"}, 405, httpx.CodeMethodNotAllowed},
		{"no credentials", testenv.Request{Method: "GET", Path: "/api/users"}, 401, httpx.CodeUnauthorized},
		{"bad id", testenv.Request{Method: "GET", Path: "/api/users/abc", Token: admin}, 400, httpx.CodeValidation},
		{"missing resource", testenv.Request{Method: "GET", Path: "/api/users/999999", Token: admin}, 404, httpx.CodeNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := testenv.Do(t, env.Main, tc.req)
			if res.Status != tc.wantStatus || res.ErrorCode() != tc.wantCode {
				t.Fatalf("%s %s = %d %s, want %d with code %s", tc.req.Method, tc.req.Path, res.Status, res.Body, tc.wantStatus, tc.wantCode)
			}
			var body struct {
				Error struct {
					Code    string         `json:"code"`
					Message string         `json:"message"`
					Details []httpx.Detail `json:"details"`
				} `json:"error"`
			}
			res.JSON(t, &body)
			if body.Error.Message == "" || body.Error.Details == nil {
				t.Errorf("error body %s lacks message or details array", res.Body)
			}
		})
	}
	t.Run("over the body limit", func(t *testing.T) {
		base := testenv.Serve(t, env.Main)
		status, body := testenv.PostDeclaringLength(t, base, "/api/auth/login", 4096, 0, nil)
		if status != 413 || !strings.Contains(body, `"code":"payload_too_large"`) {
			t.Fatalf("oversize body = %d %s, want 413 payload_too_large", status, body)
		}
	})
	t.Run("a compressed body is 415, not inflated", func(t *testing.T) {
		// 256 KiB of JSON whitespace gzips to under 1 KB: inflated, it would
		// pass the 1 KB body limit 256 times over.
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(`{"email":"a@b.invalid","password":"x"` + strings.Repeat(" ", 256<<10) + `}`))
		zw.Close()
		for _, app := range []*api.App{env.Main, env.Media} {
			res := testenv.Do(t, app, testenv.Request{Method: "POST", Path: "/api/auth/login", Body: gz.Bytes(),
				Header: map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}})
			if res.Status != 415 || res.ErrorCode() != httpx.CodeUnsupportedMediaType {
				t.Fatalf("gzip body = %d %s, want 415 %s", res.Status, res.Body, httpx.CodeUnsupportedMediaType)
			}
		}
	})
	t.Run("a request fasthttp cannot parse is 400, and its headers are not quoted back", func(t *testing.T) {
		base := testenv.Serve(t, env.Main)
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-to-be-echoed\r\n"+
			"Content-Length: abc\r\n\r\n")
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 400 || strings.Contains(string(body), "not-to-be-echoed") || !strings.Contains(string(body), `"code":"bad_request"`) {
			t.Fatalf("unparseable request = %d %s, want 400 bad_request without the request's headers", res.StatusCode, body)
		}
	})
	t.Run("validation names each field", func(t *testing.T) {
		res := testenv.Do(t, env.Main, cases[2].req)
		for _, f := range []string{`"field":"email"`, `"field":"role"`} {
			if !strings.Contains(string(res.Body), f) {
				t.Errorf("details %s lack %s", res.Body, f)
			}
		}
	})
}
