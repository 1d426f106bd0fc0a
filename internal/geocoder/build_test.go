package geocoder_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"changemaker/internal/geocoder"
	"changemaker/internal/testenv"
)

// TestBuildGivesEveryProviderItsFleetWideLimit: with PHOTON_INTERVAL,
// MAPBOX_INTERVAL or GOOGLE_GEOCODE_INTERVAL set, two chains built as two
// worker processes would be (sharing only Redis) let one request through
// and hold the next until the interval has passed — here an hour, so the
// second waits until its context ends and the provider sees one request.
// With the interval 0 both go out.
func TestBuildGivesEveryProviderItsFleetWideLimit(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"photon", "mapbox", "google"} {
		for _, interval := range []time.Duration{0, time.Hour} {
			t.Run(name+" "+interval.String(), func(t *testing.T) {
				t.Parallel()
				rdb, _ := testenv.RedisClient(t)
				var seen atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen.Add(1)
					_, _ = w.Write([]byte(`{}`))
				}))
				t.Cleanup(srv.Close)
				cfg := testenv.Config().Geocode
				cfg.Providers = []string{name}
				cfg.PhotonURL, cfg.MapboxURL, cfg.GoogleURL = srv.URL, srv.URL, srv.URL
				cfg.MapboxToken, cfg.GoogleKey = "pk.test", "test-key"
				cfg.PhotonInterval, cfg.MapboxInterval, cfg.GoogleInterval = interval, interval, interval
				var chains []*geocoder.Chain
				for range 2 {
					c, skipped, err := geocoder.Build(cfg, geocoder.BuildOptions{Redis: rdb})
					if err != nil || len(skipped) != 0 {
						t.Fatalf("build: %v, skipped %v", err, skipped)
					}
					chains = append(chains, c)
				}
				_, _ = chains[0].Geocode(context.Background(), "1 First Ave, Ottawa")
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				_, _ = chains[1].Geocode(ctx, "2 Second Ave, Ottawa")
				want := 2
				if interval > 0 {
					want = 1
				}
				if n := seen.Load(); n != int64(want) {
					t.Fatalf("%s saw %d requests from two processes, want %d", name, n, want)
				}
			})
		}
	}
}
