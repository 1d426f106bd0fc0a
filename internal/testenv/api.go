package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"golang.org/x/crypto/bcrypt"

	"changemaker/api"
	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/asynqconn"
	"changemaker/internal/password"
	"changemaker/storage"
)

// Config returns a test configuration with fixed secrets.
func Config() config.Config {
	c, err := config.Load(func(k string) string {
		switch k {
		case "APP_ENV":
			return "test"
		case "JWT_ACCESS_SECRET":
			return "test-access-secret-0123456789abcdef0123456789"
		case "JWT_REFRESH_SECRET":
			return "test-refresh-secret-0123456789abcdef012345678"
		case "ENCRYPTION_KEY":
			return "test-encryption-key-0123456789abcdef01234567"
		}
		return ""
	})
	if err != nil {
		panic(err)
	}
	return c
}

// API is a running pair of apps on fresh Postgres and Redis databases.
type API struct {
	t        testing.TB
	Config   config.Config
	Store    *storage.Store
	Redis    *redis.Client
	RedisOpt *redis.Options
	Asynq    asynq.RedisClientOpt
	Deps     api.Deps
	Main     *api.App
	Media    *api.App
	seq      atomic.Int64
}

// Logger returns a logger that writes to the test log.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// NewAPI builds both apps for t. Options may adjust the config first.
func NewAPI(t testing.TB, opts ...func(*config.Config)) *API {
	t.Helper()
	cfg := Config()
	for _, o := range opts {
		o(&cfg)
	}
	a := &API{t: t, Config: cfg, Store: DB(t)}
	a.Redis, a.RedisOpt = RedisClient(t)
	a.Asynq = asynqconn.FromRedis(a.RedisOpt)
	inspector := asynq.NewInspector(a.Asynq)
	t.Cleanup(func() { inspector.Close() })
	queue := asynq.NewClient(a.Asynq)
	t.Cleanup(func() { queue.Close() })
	a.Deps = api.Deps{Config: cfg, Store: a.Store, Redis: a.Redis, AsynqRedis: a.Asynq, Queue: queue, Inspector: inspector,
		Log: Logger(t), Version: "test", BcryptCost: bcrypt.MinCost,
		Hashing: password.NewGate(cfg.HashConcurrency, cfg.HashQueue, cfg.HashWait)}
	var err error
	if a.Main, err = api.NewMain(a.Deps); err != nil {
		t.Fatalf("build main API: %v", err)
	}
	t.Cleanup(func() { a.Main.Close() })
	if a.Media, err = api.NewMedia(a.Deps); err != nil {
		t.Fatalf("build media API: %v", err)
	}
	t.Cleanup(func() { a.Media.Close() })
	return a
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it cannot.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode response %d %s: %v", r.Status, r.Body, err)
	}
}

// ErrorCode returns error.code of an error body ("" if there is none).
func (r *Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Request is what Do sends.
type Request struct {
	Method string
	Path   string
	Body   any // marshalled as JSON unless it is a string or []byte
	Token  string
	Header map[string]string
}

// Do sends req to app in-process.
func Do(t testing.TB, app *api.App, req Request) *Response {
	t.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	r := httptest.NewRequest(req.Method, req.Path, body)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	for k, v := range req.Header {
		r.Header.Set(k, v)
	}
	return Send(t, app, r)
}

// Send sends r to app in-process, as it is (request line and headers
// included), and reads the whole answer.
func Send(t testing.TB, app *api.App, r *http.Request) *Response {
	t.Helper()
	res, err := app.Test(r, int((30 * time.Second).Milliseconds()))
	if err != nil {
		t.Fatalf("%s %.200s: %v", r.Method, r.RequestURI, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	// The OpenAPI documents are the one answer whose keys are names chosen
	// by their authors (schema and header names such as "Retry-After").
	if key := goFieldName(res.Header, b); key != "" && !strings.HasSuffix(r.URL.Path, "/openapi.json") {
		t.Errorf("%s %.200s: the answer has the key %q, a Go field name: a type without JSON tags reached "+
			"the client: %.300s", r.Method, r.RequestURI, key, b)
	}
	out := &Response{Status: res.StatusCode, Header: res.Header, Body: b}
	checkContract(t, app, r, out)
	return out
}

// goFieldName returns a key of a JSON body that looks like an exported Go
// field name ("ID", "CreatedAt"), or "". Every key the APIs answer with is
// camelCase or, for counts by status, all upper case.
func goFieldName(header http.Header, body []byte) string {
	if !strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		return ""
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var walk func(v any) string
	walk = func(v any) string {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "ID" || (k != "" && unicode.IsUpper(rune(k[0])) && strings.ToUpper(k) != k) {
					return k
				}
				if found := walk(e); found != "" {
					return found
				}
			}
		case []any:
			for _, e := range v {
				if found := walk(e); found != "" {
					return found
				}
			}
		}
		return ""
	}
	return walk(v)
}

// Password is the password of every user CreateUser makes.
const Password = "correct-horse-battery"

// CreateUser inserts a user with role and status (ACTIVE when empty).
func (a *API) CreateUser(role, status string) storage.User {
	a.t.Helper()
	hash, err := password.Hash(Password, bcrypt.MinCost)
	if err != nil {
		a.t.Fatal(err)
	}
	n := a.seq.Add(1)
	u, err := a.Store.CreateUser(context.Background(), storage.NewUser{
		Email: fmt.Sprintf("%s-%d@example.test", strings.ToLower(strings.ReplaceAll(role, "_", "-")), n),
		Name:  fmt.Sprintf("%s %d", role, n), PasswordHash: hash, Role: role, Status: status,
	})
	if err != nil {
		a.t.Fatalf("create user: %v", err)
	}
	return u
}

// Token returns an access token for u, signed as the main API signs them.
func (a *API) Token(u storage.User) string {
	a.t.Helper()
	tok, _, err := httpx.NewTokens(a.Config.JWTAccessSecret, httpx.AccessTokenTTL).Issue(u)
	if err != nil {
		a.t.Fatal(err)
	}
	return tok
}

// TokenFor creates an active user with role and returns their access token.
func (a *API) TokenFor(role string) string {
	return a.Token(a.CreateUser(role, ""))
}

// Serve runs app on a loopback port until t ends and returns its base URL,
// for what in-process requests cannot show (body limits, streaming, cookies).
func Serve(t testing.TB, app *api.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln) //nolint:errcheck
	return "http://" + ln.Addr().String()
}

// NewTokensWithSecret signs tokens with another secret, as a forger would.
func NewTokensWithSecret(secret string) *httpx.Tokens {
	return httpx.NewTokens(secret, httpx.AccessTokenTTL)
}

// PostDeclaringLength sends the headers of a POST whose Content-Length says
// length bytes follow, then only the first send of them (zeros), and returns
// the status and body of the answer. A server that refuses the size from the
// header answers before the rest is sent, so the test never races the server
// closing a half-written upload. (A streaming server reads a first chunk of
// the body before its handler runs: send that much.)
func PostDeclaringLength(t testing.TB, base, path string, length, send int, header map[string]string) (int, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	maps.Copy(h, header)
	h["Content-Length"] = strconv.Itoa(length)
	res := SendRaw(t, base, "POST", path, h, make([]byte, send))
	return res.Status, string(res.Body)
}

// SendRaw writes a request to base over a new connection exactly as given:
// the request line with target verbatim, Host, Connection: close, header in
// sorted order, then body (which need not be as long as a Content-Length
// in header says), and reads the answer.
func SendRaw(t testing.TB, base, method, target string, header map[string]string, body []byte) *Response {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
	var w bytes.Buffer
	fmt.Fprintf(&w, "%s %s HTTP/1.1\r\nHost: test\r\nConnection: close\r\n", method, target)
	for _, k := range slices.Sorted(maps.Keys(header)) {
		fmt.Fprintf(&w, "%s: %s\r\n", k, header[k])
	}
	w.WriteString("\r\n")
	w.Write(body)
	if _, err := conn.Write(w.Bytes()); err != nil {
		t.Fatalf("%s %.100s: %v", method, target, err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %.100s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// HouseRules checks one answer against the rules every answer keeps: never
// a 5xx for what a client sent, no secret in the body, and every 4xx (but
// to HEAD, which has no body) in the error format
// {"error":{"code":…,"message":…,"details":[…]}} as JSON. It returns what
// is wrong, or "" when nothing is.
func HouseRules(method string, status int, header http.Header, body []byte, secrets ...string) string {
	if status >= 500 {
		return fmt.Sprintf("= %d %.300s, want < 500", status, body)
	}
	lower := bytes.ToLower(body)
	for _, s := range secrets {
		if s != "" && bytes.Contains(lower, bytes.ToLower([]byte(s))) {
			return fmt.Sprintf("= %d: the body holds the secret %.6q…", status, s)
		}
	}
	if status < 400 || method == http.MethodHead {
		return ""
	}
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Sprintf("= %d with Content-Type %q, want application/json: %.300s", status, ct, body)
	}
	var e struct {
		Error *struct {
			Code    string            `json:"code"`
			Message string            `json:"message"`
			Details []json.RawMessage `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" ||
		e.Error.Details == nil {
		return fmt.Sprintf(`= %d %.300s, want {"error":{"code":…,"message":…,"details":[…]}}`, status, body)
	}
	return ""
}

// AllowRegistration turns self-registration on (it is off by default).
func (a *API) AllowRegistration() {
	a.t.Helper()
	on := true
	if _, err := a.Store.UpdateSettings(context.Background(), storage.SettingsPatch{AllowRegistration: &on}); err != nil {
		a.t.Fatalf("allow registration: %v", err)
	}
}
