// Package config reads the process configuration from environment variables.
// It is called once, in main; everything else receives a Config (or the part
// of it that it needs) as an argument.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/netip"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// MinSecretLen is the shortest JWT secret or encryption key accepted in production.
const MinSecretLen = 32

// Config is every setting of every process.
type Config struct {
	Env         string // development, test or production
	DatabaseURL string
	RedisURL    string

	JWTAccessSecret  string
	JWTRefreshSecret string
	EncryptionKey    string
	// Generated names the secrets that were generated for this run (development only).
	Generated []string

	CORSOrigin     string
	TrustedProxies []string

	APIPort           int
	MediaAPIPort      int
	QueuesPort        int
	WorkerMetricsPort int
	// Listen addresses (an IP address, or "localhost"; empty: every
	// interface). Behind nginx on the same host, 127.0.0.1 keeps the APIs,
	// their /metrics, the queue dashboard and worker metrics off the network.
	APIHost           string
	MediaAPIHost      string
	QueuesHost        string
	WorkerMetricsHost string

	DBMaxConns    int32
	RedisPoolSize int

	APIBodyLimit   int
	MediaBodyLimit int

	// Rate limits: requests per window.
	LoginRateLimit  int
	LoginRateWindow time.Duration
	// Logins from unknown devices per account (device cookies: auth).
	LoginAccountRateLimit  int
	LoginAccountRateWindow time.Duration
	RegisterRateLimit      int
	RegisterRateWindow     time.Duration
	MediaRateLimit         int
	MediaRateWindow        time.Duration

	// Password hashing (bcrypt) per API process: how many run at once, how
	// many requests may wait for a turn, and how long.
	HashConcurrency int
	HashQueue       int
	HashWait        time.Duration

	AccessLog string // "stdout", "off", or a file path
	LogLevel  string

	WorkerConcurrency     int
	WorkerShutdownTimeout time.Duration
	// WorkerTaskCheckInterval is how often an idle worker asks Redis for a
	// new task (asynq's TaskCheckInterval): the longest a task waits in an
	// empty queue before a worker sees it.
	WorkerTaskCheckInterval time.Duration

	SMTP SMTP
	// SMTPAllowPrivate lets the settings' smtpHost be a private or loopback
	// address (self-hosting with a local relay).
	SMTPAllowPrivate bool

	Influence InfluenceConfig
	Media     MediaConfig
	Geocode   GeocodeConfig
	Map       MapConfig
	Canvass   CanvassConfig
	Imports   ImportConfig

	// WebMediaAPI is the origin browsers reach the media API at from the
	// pages (WEB_MEDIA_API_URL), when it is not the pages' own origin
	// (development without nginx: http://localhost:4100). Empty: same origin.
	WebMediaAPI string
}

// SMTP is the fallback mail server, used when the settings singleton names none.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // none, starttls or tls
	From     string
	FromName string
}

// IsProduction reports whether APP_ENV is production.
func (c Config) IsProduction() bool { return c.Env == "production" }

// Load builds a Config from getenv (os.Getenv in main). In production a
// missing or short secret is an error naming the variable; elsewhere missing
// secrets are generated for this run and listed in Generated.
func Load(getenv func(string) string) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		Env:               r.str("APP_ENV", "development"),
		DatabaseURL:       r.str("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/changemaker?sslmode=disable"),
		RedisURL:          r.str("REDIS_URL", "redis://127.0.0.1:6379/0"),
		JWTAccessSecret:   getenv("JWT_ACCESS_SECRET"),
		JWTRefreshSecret:  getenv("JWT_REFRESH_SECRET"),
		EncryptionKey:     getenv("ENCRYPTION_KEY"),
		CORSOrigin:        r.str("CORS_ORIGIN", "http://localhost:3000"),
		TrustedProxies:    r.list("TRUSTED_PROXIES", "127.0.0.1,::1"),
		APIPort:           r.int("API_PORT", 4000),
		MediaAPIPort:      r.int("MEDIA_API_PORT", 4100),
		QueuesPort:        r.int("QUEUES_PORT", 8080),
		WorkerMetricsPort: r.int("WORKER_METRICS_PORT", 9101),
		APIHost:           r.host("API_HOST"),
		MediaAPIHost:      r.host("MEDIA_API_HOST"),
		QueuesHost:        r.host("QUEUES_HOST"),
		WorkerMetricsHost: r.host("WORKER_METRICS_HOST"),
		DBMaxConns:        int32(r.int("DB_MAX_CONNS", 20)),
		RedisPoolSize:     r.int("REDIS_POOL_SIZE", 20),
		APIBodyLimit:      r.int("API_BODY_LIMIT", 1<<20),
		MediaBodyLimit:    r.int("MEDIA_BODY_LIMIT", 1<<20),

		LoginRateLimit:         r.int("LOGIN_RATE_LIMIT", 10),
		LoginRateWindow:        r.duration("LOGIN_RATE_WINDOW", 15*time.Minute),
		LoginAccountRateLimit:  r.int("LOGIN_ACCOUNT_RATE_LIMIT", 30),
		LoginAccountRateWindow: r.duration("LOGIN_ACCOUNT_RATE_WINDOW", time.Hour),
		RegisterRateLimit:      r.int("REGISTER_RATE_LIMIT", 5),
		RegisterRateWindow:     r.duration("REGISTER_RATE_WINDOW", time.Hour),
		MediaRateLimit:         r.int("MEDIA_RATE_LIMIT", 100),
		MediaRateWindow:        r.duration("MEDIA_RATE_WINDOW", time.Minute),

		HashConcurrency: r.int("PASSWORD_HASH_CONCURRENCY", 0),
		HashQueue:       r.int("PASSWORD_HASH_QUEUE", 4),
		HashWait:        r.duration("PASSWORD_HASH_WAIT", time.Second),

		AccessLog: r.str("ACCESS_LOG", "stdout"),
		LogLevel:  r.str("LOG_LEVEL", "info"),

		WorkerConcurrency:     r.int("WORKER_CONCURRENCY", 10),
		WorkerShutdownTimeout: r.duration("WORKER_SHUTDOWN_TIMEOUT", 25*time.Second),

		WorkerTaskCheckInterval: r.duration("WORKER_TASK_CHECK_INTERVAL", 50*time.Millisecond),

		SMTP: SMTP{
			Host:     r.str("SMTP_HOST", "127.0.0.1"),
			Port:     r.int("SMTP_PORT", 1025),
			Username: getenv("SMTP_USERNAME"),
			Password: getenv("SMTP_PASSWORD"),
			TLS:      r.str("SMTP_TLS", "none"),
			From:     r.str("SMTP_FROM", "noreply@localhost"),
			FromName: r.str("SMTP_FROM_NAME", "Changemaker"),
		},
	}
	if c.HashConcurrency == 0 {
		c.HashConcurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	switch v := strings.ToLower(r.str("SMTP_ALLOW_PRIVATE", "true")); v {
	case "true", "1", "yes":
		c.SMTPAllowPrivate = true
	case "false", "0", "no":
	default:
		return Config{}, fmt.Errorf("SMTP_ALLOW_PRIVATE: want true or false, got %q", v)
	}
	c.Influence = loadInfluence(&r)
	c.Media = loadMedia(&r)
	c.Geocode = loadGeocode(&r)
	c.Map = loadMap(&r)
	c.Canvass = loadCanvass(&r)
	c.Imports = loadImports(&r)
	c.WebMediaAPI = strings.TrimRight(r.str("WEB_MEDIA_API_URL", ""), "/")
	if c.WebMediaAPI != "" {
		u, err := url.Parse(c.WebMediaAPI)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return Config{}, fmt.Errorf("WEB_MEDIA_API_URL: want an http(s) origin like http://localhost:4100, got %q", c.WebMediaAPI)
		}
	}
	if r.err != nil {
		return Config{}, r.err
	}
	switch c.Env {
	case "development", "test", "production":
	default:
		return Config{}, fmt.Errorf("APP_ENV: want development, test or production, got %q", c.Env)
	}
	switch c.SMTP.TLS {
	case "none", "starttls", "tls":
	default:
		return Config{}, fmt.Errorf("SMTP_TLS: want none, starttls or tls, got %q", c.SMTP.TLS)
	}
	if c.CORSOrigin == "*" {
		return Config{}, fmt.Errorf("CORS_ORIGIN: \"*\" cannot be used with credentials; list the origins")
	}
	for _, s := range []struct {
		name string
		val  *string
	}{
		{"JWT_ACCESS_SECRET", &c.JWTAccessSecret},
		{"JWT_REFRESH_SECRET", &c.JWTRefreshSecret},
		{"ENCRYPTION_KEY", &c.EncryptionKey},
	} {
		if len(*s.val) >= MinSecretLen {
			continue
		}
		if c.IsProduction() {
			if *s.val == "" {
				return Config{}, fmt.Errorf("%s is required in production (at least %d characters)", s.name, MinSecretLen)
			}
			return Config{}, fmt.Errorf("%s is too short: at least %d characters in production", s.name, MinSecretLen)
		}
		if *s.val == "" {
			*s.val = randomSecret()
			c.Generated = append(c.Generated, s.name)
		}
	}
	if c.JWTAccessSecret == c.JWTRefreshSecret {
		return Config{}, fmt.Errorf("JWT_ACCESS_SECRET and JWT_REFRESH_SECRET must differ")
	}
	return c, nil
}

func randomSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS has no randomness; nothing is safe
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// reader keeps the first parse error so Load reads like a table.
type reader struct {
	getenv func(string) string
	err    error
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

// host reads a listen address: empty (every interface), an IP address or
// "localhost". Anything else (a port, a scheme, a host name that would need
// DNS at start) is an error naming the variable.
func (r *reader) host(name string) string {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" || v == "localhost" {
		return v
	}
	bare := strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if _, err := netip.ParseAddr(bare); err != nil {
		if r.err == nil {
			r.err = fmt.Errorf("%s: want an IP address (e.g. 127.0.0.1 or ::1), localhost, or empty for every interface; got %q", name, v)
		}
		return ""
	}
	return bare
}

func (r *reader) list(name, def string) []string {
	var out []string
	for _, p := range strings.Split(r.str(name, def), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *reader) int(name string, def int) int {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		if r.err == nil {
			r.err = fmt.Errorf("%s: want a non-negative integer, got %q", name, v)
		}
		return def
	}
	return n
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(r.getenv(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		if r.err == nil {
			r.err = fmt.Errorf("%s: want a positive duration like 15m, got %q", name, v)
		}
		return def
	}
	return d
}
