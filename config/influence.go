package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// InfluenceConfig configures campaigns, the Represent lookup and the email fleet.
type InfluenceConfig struct {
	// RepresentBaseURL is Open North's Represent API (REPRESENT_BASE_URL).
	RepresentBaseURL string
	// RepresentRateLimit is the upstream requests per minute the whole represent
	// fleet may make (Represent's free tier allows 60).
	RepresentRateLimit int
	RepresentTimeout   time.Duration
	// RepresentCacheTTL is how long a postal code's answer stays fresh.
	RepresentCacheTTL time.Duration
	// LookupWait is how long the lookup endpoint waits for the worker on a
	// cache miss before answering 202.
	LookupWait time.Duration
	// LookupRateLimit is lookups per window per client (IPv4 address or IPv6 /64).
	LookupRateLimit  int
	LookupRateWindow time.Duration
	// LookupMissRateLimit is lookups per window per client that miss the
	// cache (and so may call Represent): random postal codes from one client
	// must not drain the fleet-wide Represent quota. Cache hits do not count.
	LookupMissRateLimit  int
	LookupMissRateWindow time.Duration
	// RepresentRetryCooldown is how long after a postal code's lookup was
	// given up (its task archived) a new lookup of it is refused with a 503
	// instead of calling Represent again; 0 retries at once.
	RepresentRetryCooldown time.Duration

	// SendRateLimit is send-email requests per window, per IP and per sender email.
	SendRateLimit  int
	SendRateWindow time.Duration
	// CallRateLimit is reported calls per window per IP.
	CallRateLimit  int
	CallRateWindow time.Duration
	// ResponseRateLimit is response-wall submissions per window per IP.
	ResponseRateLimit  int
	ResponseRateWindow time.Duration
	// MaxRecipients bounds the recipients of one send-email request.
	MaxRecipients int

	SMTPTimeout time.Duration
	// SMTPPoolSize is how many SMTP connections one worker process keeps
	// open (and uses at once); SMTPPoolIdle closes one unused that long.
	SMTPPoolSize int
	SMTPPoolIdle time.Duration
	// WorkerCacheTTL is how long a worker keeps the settings and a
	// campaign between emails (changes drop them at once, by notification).
	WorkerCacheTTL time.Duration
	// ToggleCacheTTL is how long an API process trusts its copy of the
	// settings' enableInfluence switch; 0 reads it on every public request.
	ToggleCacheTTL time.Duration
	// CampaignCacheTTL is how long an API process keeps a campaign its
	// public send routes read by slug (changes drop it at once, by
	// notification); 0 reads it on every request.
	CampaignCacheTTL time.Duration
	// SendInsertSlots is how many statements an API process's send route
	// writes its email rows with at once; requests arriving while they run
	// share the next one (storage.EmailBatcher). 0 writes each request's
	// rows on their own.
	SendInsertSlots int
	// PageCacheTTL is how long an API process reuses a public campaign page
	// it encoded; 0 reads the campaign on every request.
	PageCacheTTL time.Duration
	// PublicURL is where the main API is reached from outside; verification
	// links point at it.
	PublicURL string
}

func loadInfluence(r *reader) InfluenceConfig {
	c := InfluenceConfig{
		RepresentBaseURL:       strings.TrimRight(r.str("REPRESENT_BASE_URL", "https://represent.opennorth.ca"), "/"),
		RepresentRateLimit:     r.int("REPRESENT_RATE_LIMIT", 55),
		RepresentTimeout:       r.duration("REPRESENT_TIMEOUT", 10*time.Second),
		RepresentCacheTTL:      r.duration("REPRESENT_CACHE_TTL", 7*24*time.Hour),
		LookupWait:             r.duration("REPRESENT_LOOKUP_WAIT", 3*time.Second),
		LookupRateLimit:        r.int("REPRESENT_LOOKUP_RATE_LIMIT", 60),
		LookupRateWindow:       r.duration("REPRESENT_LOOKUP_RATE_WINDOW", time.Minute),
		LookupMissRateLimit:    r.int("REPRESENT_LOOKUP_MISS_RATE_LIMIT", 10),
		LookupMissRateWindow:   r.duration("REPRESENT_LOOKUP_MISS_RATE_WINDOW", time.Minute),
		RepresentRetryCooldown: durationOrOff(r, "REPRESENT_RETRY_COOLDOWN", time.Minute),
		SendRateLimit:          r.int("EMAIL_SEND_RATE_LIMIT", 30),
		SendRateWindow:         r.duration("EMAIL_SEND_RATE_WINDOW", time.Hour),
		CallRateLimit:          r.int("CALL_RATE_LIMIT", 30),
		CallRateWindow:         r.duration("CALL_RATE_WINDOW", time.Hour),
		ResponseRateLimit:      r.int("RESPONSE_RATE_LIMIT", 10),
		ResponseRateWindow:     r.duration("RESPONSE_RATE_WINDOW", time.Hour),
		MaxRecipients:          r.int("EMAIL_MAX_RECIPIENTS", 20),
		SMTPTimeout:            r.duration("SMTP_TIMEOUT", 30*time.Second),
		SMTPPoolSize:           r.int("SMTP_POOL_SIZE", 10),
		SMTPPoolIdle:           r.duration("SMTP_POOL_IDLE_TIMEOUT", 30*time.Second),
		WorkerCacheTTL:         r.duration("WORKER_SETTINGS_CACHE_TTL", 10*time.Second),
		ToggleCacheTTL:         durationOrOff(r, "INFLUENCE_TOGGLE_CACHE_TTL", 2*time.Second),
		PageCacheTTL:           durationOrOff(r, "PUBLIC_CAMPAIGN_CACHE_TTL", time.Second),
		CampaignCacheTTL:       durationOrOff(r, "SEND_CAMPAIGN_CACHE_TTL", 10*time.Second),
		SendInsertSlots:        r.int("SEND_INSERT_SLOTS", 4),
		PublicURL:              strings.TrimRight(r.str("PUBLIC_URL", "http://localhost:4000"), "/"),
	}
	for name, raw := range map[string]string{"REPRESENT_BASE_URL": c.RepresentBaseURL, "PUBLIC_URL": c.PublicURL} {
		u, err := url.Parse(raw)
		if (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") && r.err == nil {
			r.err = fmt.Errorf("%s: want an http(s) URL, got %q", name, raw)
		}
	}
	if c.SMTPPoolSize < 1 && r.err == nil {
		r.err = fmt.Errorf("SMTP_POOL_SIZE: want at least 1")
	}
	if c.SendInsertSlots < 0 && r.err == nil {
		r.err = fmt.Errorf("SEND_INSERT_SLOTS: want 0 (off) or more")
	}
	if c.MaxRecipients < 1 && r.err == nil {
		r.err = fmt.Errorf("EMAIL_MAX_RECIPIENTS: want at least 1")
	}
	return c
}

// durationOrOff is r.duration that also takes 0 ("0", "0s"): turned off.
func durationOrOff(r *reader, name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(strings.TrimSpace(r.getenv(name))); err == nil && d == 0 {
		return 0
	}
	return r.duration(name, def)
}
