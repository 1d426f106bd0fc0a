package geocoder_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"changemaker/config"
	"changemaker/internal/geocoder"
	"changemaker/internal/geocoder/geocodertest"
	"changemaker/internal/testenv"
)

func geocodeConfig(providers ...string) config.GeocodeConfig {
	c := testenv.Config().Geocode
	c.Providers = providers
	c.Contact = "maps@example.org"
	return c
}

func metric(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// TestChainCachesAnswers: a repeated address (spelled with other case and
// spacing) is answered from Redis, not by the provider, and the metrics say
// so.
func TestChainCachesAnswers(t *testing.T) {
	t.Parallel()
	rdb, _ := testenv.RedisClient(t)
	fake := geocodertest.NewNominatim(t, func(path, q string) geocodertest.Place {
		if strings.Contains(q, "Nowhere") {
			return geocodertest.Place{}
		}
		return geocodertest.Place{Found: true, Lat: 45.4235937, Lng: -75.700929, Name: "111, Wellington Street, Ottawa", Rank: 30}
	})
	cfg := geocodeConfig("nominatim")
	cfg.NominatimURL = fake.URL
	cfg.NominatimInterval = 0
	reg := prometheus.NewRegistry()
	chain, skipped, err := geocoder.Build(cfg, geocoder.BuildOptions{Redis: rdb, Metrics: geocoder.NewMetrics(reg)})
	if err != nil || len(skipped) != 0 {
		t.Fatalf("build: %v, skipped %v", err, skipped)
	}
	ctx := context.Background()
	first, err := chain.Geocode(ctx, "111 Wellington St, Ottawa")
	if err != nil {
		t.Fatal(err)
	}
	again, err := chain.Geocode(ctx, "  111 WELLINGTON st,   ottawa ")
	if err != nil {
		t.Fatal(err)
	}
	if first != again || first.Provider != "nominatim" || first.Confidence != 90 || !near(first.Lat, 45.4235937) {
		t.Fatalf("first %+v, again %+v", first, again)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("the provider was asked %d times, want once", n)
	}
	// Reverse answers are cached by point too.
	for range 2 {
		if _, err := chain.Reverse(ctx, 45.42359, -75.70093); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(fake.Requests()); n != 2 {
		t.Fatalf("the provider was asked %d times after two reverse look-ups, want 2", n)
	}
	// No match is not cached: the next import may bring the address.
	for range 2 {
		if _, err := chain.Geocode(ctx, "1 Nowhere Rd"); !errors.Is(err, geocoder.ErrNotFound) || !geocoder.IsPermanent(err) {
			t.Fatalf("no match: %v", err)
		}
	}
	if n := len(fake.Requests()); n != 4 {
		t.Fatalf("the provider was asked %d times, want 4", n)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"cm_geocode_cache_total", map[string]string{"provider": "nominatim", "op": "geocode", "result": "hit"}, 1},
		{"cm_geocode_cache_total", map[string]string{"provider": "nominatim", "op": "reverse", "result": "hit"}, 1},
		{"cm_geocode_cache_total", map[string]string{"provider": "nominatim", "op": "geocode", "result": "miss"}, 3},
		{"cm_geocode_requests_total", map[string]string{"provider": "nominatim", "op": "geocode", "result": "ok"}, 1},
		{"cm_geocode_requests_total", map[string]string{"provider": "nominatim", "op": "geocode", "result": "not_found"}, 2},
	} {
		if got := metric(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if ttl := rdb.TTL(ctx, firstCacheKey(t, rdb)).Val(); ttl <= 0 || ttl > cfg.CacheTTL {
		t.Errorf("cache entry TTL %v, want up to %v", ttl, cfg.CacheTTL)
	}
}

func firstCacheKey(t *testing.T, rdb *redis.Client) string {
	t.Helper()
	keys, err := rdb.Keys(context.Background(), "geocode:cache:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no cache keys: %v", err)
	}
	return keys[0]
}

// TestChainOrder: providers are asked in order, the first answer wins, and
// a failure that may pass is reported as retryable even when a later
// provider found nothing.
func TestChainOrder(t *testing.T) {
	t.Parallel()
	store := testenv.DB(t)
	rdb, _ := testenv.RedisClient(t)
	geocodertest.AddNAR(t, store, geocodertest.NARRow{Civic: "123", Street: "Main", Type: "ST", City: "Ottawa",
		Province: "ON", Lat: 45.1, Lng: -75.1})
	fake := geocodertest.NewNominatim(t, func(path, q string) geocodertest.Place {
		return geocodertest.Place{Found: true, Lat: 46, Lng: -76, Name: q, Rank: 26}
	})
	cfg := geocodeConfig("nar", "nominatim", "mapbox")
	cfg.NominatimURL = fake.URL
	cfg.NominatimInterval = 0
	chain, skipped, err := geocoder.Build(cfg, geocoder.BuildOptions{Store: store, Redis: rdb})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(chain.Names(), ","); got != "nar,nominatim" || len(skipped) != 1 || !strings.HasPrefix(skipped[0], "mapbox: MAPBOX_TOKEN") {
		t.Fatalf("providers %s, skipped %v", got, skipped)
	}
	ctx := context.Background()
	r, err := chain.Geocode(ctx, "123 Main Street, Ottawa")
	if err != nil || r.Provider != "nar" || !near(r.Lat, 45.1) {
		t.Fatalf("register address: %+v, %v", r, err)
	}
	r, err = chain.Geocode(ctx, "9 Other Road, Ottawa")
	if err != nil || r.Provider != "nominatim" || r.Confidence != 55 {
		t.Fatalf("address not in the register: %+v, %v", r, err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("nominatim asked %d times, want 1 (the register answered the first)", n)
	}

	// Nominatim out of reach, then nothing else to ask: retryable.
	down := geocodeConfig("nominatim", "nar")
	down.NominatimURL = "http://127.0.0.1:1"
	down.NominatimInterval = 0
	down.Timeout = 2 * time.Second
	chain, _, err = geocoder.Build(down, geocoder.BuildOptions{Store: store, Redis: rdb})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := chain.Geocode(ctx, "9 other road, ottawa"); err != nil || r.Provider != "nominatim" {
		t.Fatalf("a cached answer while the provider is down: %+v, %v", r, err)
	}
	_, err = chain.Geocode(ctx, "77 Third Road, Ottawa")
	if !errors.Is(err, geocoder.ErrRetryable) || geocoder.IsPermanent(err) {
		t.Fatalf("nominatim down: %v, want retryable", err)
	}
	// …but the register still answers what it knows.
	if r, err := chain.Geocode(ctx, "123 Main St"); err != nil || r.Provider != "nar" {
		t.Fatalf("register behind a failing provider: %+v, %v", r, err)
	}
}

// TestRedisThrottleAcrossClients: two throttles on separate Redis
// connections (as two processes) sharing one key let requests through at
// least an interval apart.
func TestRedisThrottleAcrossClients(t *testing.T) {
	t.Parallel()
	_, opt := testenv.RedisClient(t)
	const interval = 300 * time.Millisecond
	var mu sync.Mutex
	var grants []time.Time
	var wg sync.WaitGroup
	for p := range 2 {
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() })
		th := &geocoder.RedisThrottle{Redis: rdb, Key: "geocode:throttle:test", Interval: interval}
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 2 {
					if err := th.Wait(context.Background()); err != nil {
						t.Errorf("process %d: %v", p, err)
						return
					}
					mu.Lock()
					grants = append(grants, time.Now())
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if len(grants) != 12 {
		t.Fatalf("%d grants, want 12", len(grants))
	}
	// Sorted by the time each waiter saw its grant: consecutive grants are an
	// interval apart, less what a scheduler may delay one goroutine.
	slices.SortFunc(grants, time.Time.Compare)
	for i := 1; i < len(grants); i++ {
		if gap := grants[i].Sub(grants[i-1]); gap < interval*2/3 {
			t.Errorf("grants %d and %d only %v apart", i-1, i, gap)
		}
	}
	// A waiter whose context ends gives up with the context's error.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	long := &geocoder.RedisThrottle{Redis: rdb, Key: "geocode:throttle:long", Interval: time.Hour}
	if err := long.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := long.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second wait on an hour-long slot: %v", err)
	}
}
