package geocoder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Local is implemented by providers that make no network call (nar): the
// chain neither caches nor throttles them.
type Local interface {
	Local() bool
}

func isLocal(g Geocoder) bool {
	l, ok := g.(Local)
	return ok && l.Local()
}

// Chain tries its providers in order and returns the first answer. The
// answers of network providers are cached in Redis per provider, so the
// order still decides: a cached Nominatim answer never shadows a register
// row imported since, because nar is asked first.
type Chain struct {
	providers []Geocoder
	redis     redis.UniversalClient // nil: no cache
	ttl       time.Duration
	metrics   *Metrics
	log       *slog.Logger
}

// ChainOptions configure a Chain.
type ChainOptions struct {
	Redis    redis.UniversalClient // the cache; nil: none
	CacheTTL time.Duration         // 0: no cache
	Metrics  *Metrics              // nil: none
	Log      *slog.Logger
}

// NewChain returns a chain over providers, tried in the order given.
func NewChain(providers []Geocoder, o ChainOptions) *Chain {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Chain{providers: providers, redis: o.Redis, ttl: o.CacheTTL, metrics: o.Metrics, log: log}
}

// Names lists the providers in order.
func (c *Chain) Names() []string {
	out := make([]string, 0, len(c.providers))
	for _, p := range c.providers {
		out = append(out, p.Name())
	}
	return out
}

// cacheKeyVersion changes when Result's cached form changes.
const cacheKeyVersion = "v1"

// normalizeQuery makes spellings that differ only in case and spacing share
// a cache entry.
func normalizeQuery(q string) string {
	return strings.ToLower(strings.Join(strings.Fields(q), " "))
}

func cacheKey(provider, op, what string) string {
	sum := sha256.Sum256([]byte(what))
	return "geocode:cache:" + cacheKeyVersion + ":" + provider + ":" + op + ":" + hex.EncodeToString(sum[:16])
}

// reverseWhat rounds a point to about a metre, so nearby clicks share an entry.
func reverseWhat(lat, lng float64) string {
	return strconv.FormatFloat(lat, 'f', 5, 64) + "," + strconv.FormatFloat(lng, 'f', 5, 64)
}

// Geocode finds a typed address.
func (c *Chain) Geocode(ctx context.Context, query string) (Result, error) {
	if strings.TrimSpace(query) == "" {
		return Result{}, &Error{Provider: "chain", Op: "geocode", Message: "empty address"}
	}
	what := normalizeQuery(query)
	return c.run(ctx, "geocode", what, func(g Geocoder) (Result, error) { return g.Geocode(ctx, query) })
}

// Reverse finds the address at a point.
func (c *Chain) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&client{provider: "chain"}, lat, lng); err != nil {
		return Result{}, err
	}
	return c.run(ctx, "reverse", reverseWhat(lat, lng), func(g Geocoder) (Result, error) { return g.Reverse(ctx, lat, lng) })
}

func (c *Chain) run(ctx context.Context, op, what string, ask func(Geocoder) (Result, error)) (Result, error) {
	if len(c.providers) == 0 {
		return Result{}, &Error{Provider: "chain", Op: op, Message: "no geocoding provider is configured"}
	}
	var retryable, others []error
	for _, p := range c.providers {
		name := p.Name()
		cached := !isLocal(p) && c.redis != nil && c.ttl > 0
		var key string
		if cached {
			key = cacheKey(name, op, what)
			if r, ok := c.cacheGet(ctx, key); ok {
				c.metrics.cacheLookup(name, op, true)
				return r, nil
			}
			c.metrics.cacheLookup(name, op, false)
		}
		r, err := ask(p)
		if err == nil {
			c.metrics.request(name, op, ResultOK)
			r.Provider = name
			r.Confidence = clamp(r.Confidence)
			if cached {
				c.cachePut(ctx, key, r)
			}
			return r, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("%s %s: %w", name, op, ctx.Err())
		}
		switch {
		case errors.Is(err, ErrNotFound):
			c.metrics.request(name, op, ResultNotFound)
			others = append(others, err)
		case errors.Is(err, ErrPermanent):
			c.metrics.request(name, op, ResultPermanent)
			c.log.Warn("geocoder refused the request", "provider", name, "op", op, "err", err)
			others = append(others, err)
		default:
			c.metrics.request(name, op, ResultRetryable)
			retryable = append(retryable, err)
		}
	}
	if len(retryable) > 0 {
		// Asking again later may find it: say so, whatever the others said.
		return Result{}, &Error{Provider: "chain", Op: op, Retryable: true,
			Message: joinMessages(append(retryable, others...)), RetryAfter: retryAfterOf(retryable)}
	}
	return Result{}, fmt.Errorf("%s: %w", joinMessages(others), ErrNotFound)
}

func retryAfterOf(errs []error) time.Duration {
	var d time.Duration
	for _, err := range errs {
		var e *Error
		if errors.As(err, &e) {
			d = max(d, e.RetryAfter)
		}
	}
	return d
}

func joinMessages(errs []error) string {
	msgs := make([]string, 0, len(errs))
	for _, err := range errs {
		msgs = append(msgs, err.Error())
	}
	return strings.Join(msgs, "; ")
}

// cached is Result as kept in Redis.
type cached struct {
	Lat        float64 `json:"lat"`
	Lng        float64 `json:"lng"`
	Address    string  `json:"address"`
	Provider   string  `json:"provider"`
	Confidence int     `json:"confidence"`
}

func (c *Chain) cacheGet(ctx context.Context, key string) (Result, bool) {
	b, err := c.redis.Get(ctx, key).Bytes()
	if err != nil {
		if !errors.Is(err, redis.Nil) {
			c.log.Warn("geocode cache read failed; asking the provider", "err", err)
		}
		return Result{}, false
	}
	var v cached
	if json.Unmarshal(b, &v) != nil {
		return Result{}, false
	}
	return Result{Lat: v.Lat, Lng: v.Lng, Address: v.Address, Provider: v.Provider, Confidence: v.Confidence}, true
}

func (c *Chain) cachePut(ctx context.Context, key string, r Result) {
	b, err := json.Marshal(cached{Lat: r.Lat, Lng: r.Lng, Address: r.Address, Provider: r.Provider, Confidence: r.Confidence})
	if err != nil {
		return
	}
	if err := c.redis.Set(ctx, key, b, c.ttl).Err(); err != nil {
		c.log.Warn("geocode cache write failed", "err", err)
	}
}
