package geocoder

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	_ Geocoder = (*Nominatim)(nil)
	_ Geocoder = (*Photon)(nil)
	_ Geocoder = (*Mapbox)(nil)
	_ Geocoder = (*Google)(nil)
)

const (
	testKey     = "sk.SECRET-KEY-must-never-appear"
	testContact = "maps@example.org"
)

// recorded is one request as the fake provider saw it.
type recorded struct {
	path  string
	query map[string]string
	agent string
}

// fake is a local provider: it answers each request with the next of
// answers (status, body), repeating the last, and records what it saw.
type fake struct {
	srv     *httptest.Server
	mu      sync.Mutex
	seen    []recorded
	answers []answer
	header  http.Header
}

type answer struct {
	status int
	body   string
}

func newFake(t *testing.T, answers ...answer) *fake {
	t.Helper()
	f := &fake{answers: answers, header: http.Header{}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		q := map[string]string{}
		for k, v := range r.URL.Query() {
			q[k] = v[0]
		}
		f.seen = append(f.seen, recorded{path: r.URL.Path, query: q, agent: r.UserAgent()})
		a := f.answers[min(len(f.seen), len(f.answers))-1]
		for k, v := range f.header {
			w.Header()[k] = v
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.seen...)
}

func ok(body string) answer { return answer{http.StatusOK, body} }

// providers builds each client against a fake's URL.
var providers = []struct {
	name string
	make func(t *testing.T, url string, th Throttle) Geocoder
}{
	{"nominatim", func(t *testing.T, url string, th Throttle) Geocoder {
		g, err := NewNominatim(NominatimConfig{BaseURL: url, Contact: testContact, CountryCodes: "ca", Throttle: th, Timeout: 5 * time.Second})
		must(t, err)
		return g
	}},
	{"photon", func(t *testing.T, url string, th Throttle) Geocoder {
		g, err := NewPhoton(PhotonConfig{BaseURL: url, Throttle: th, Timeout: 5 * time.Second})
		must(t, err)
		return g
	}},
	{"mapbox", func(t *testing.T, url string, th Throttle) Geocoder {
		g, err := NewMapbox(MapboxConfig{BaseURL: url, Token: testKey, Country: "ca", Throttle: th, Timeout: 5 * time.Second})
		must(t, err)
		return g
	}},
	{"google", func(t *testing.T, url string, th Throttle) Geocoder {
		g, err := NewGoogle(GoogleConfig{BaseURL: url, Key: testKey, Region: "ca", Throttle: th, Timeout: 5 * time.Second})
		must(t, err)
		return g
	}},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func checkResult(t *testing.T, got Result, want Result) {
	t.Helper()
	if !near(got.Lat, want.Lat) || !near(got.Lng, want.Lng) || got.Address != want.Address ||
		got.Provider != want.Provider || got.Confidence != want.Confidence {
		t.Fatalf("result\n got %+v\nwant %+v", got, want)
	}
}

func checkRequest(t *testing.T, r recorded, path string, want map[string]string) {
	t.Helper()
	if r.path != path {
		t.Errorf("request path %q, want %q", r.path, path)
	}
	for k, v := range want {
		if r.query[k] != v {
			t.Errorf("query %s=%q, want %q (all: %v)", k, r.query[k], v, r.query)
		}
	}
}

func TestNominatim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("search sends jsonv2 with a contact and reads the first place", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(nominatimSearch))
		g := providers[0].make(t, f.srv.URL+"/", nil)
		res, err := g.Geocode(ctx, "111 Wellington St, Ottawa")
		must(t, err)
		checkResult(t, res, Result{Lat: 45.4235937, Lng: -75.700929, Provider: "nominatim", Confidence: 90,
			Address: "Centre Block, 111, Wellington Street, Centretown, Somerset, Ottawa, Eastern Ontario, Ontario, K1A 0A9, Canada"})
		r := f.requests()[0]
		checkRequest(t, r, "/search", map[string]string{"q": "111 Wellington St, Ottawa", "format": "jsonv2", "limit": "1", "countrycodes": "ca"})
		if !strings.Contains(r.agent, testContact) {
			t.Errorf("User-Agent %q does not carry the contact", r.agent)
		}
	})
	t.Run("reverse asks at building zoom", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(nominatimReverse))
		g := providers[0].make(t, f.srv.URL, nil)
		res, err := g.Reverse(ctx, 45.42359, -75.70093)
		must(t, err)
		if res.Confidence != 90 || !strings.HasPrefix(res.Address, "Centre Block, 111, Wellington Street") {
			t.Fatalf("result %+v", res)
		}
		checkRequest(t, f.requests()[0], "/reverse", map[string]string{"lat": "45.42359", "lon": "-75.70093", "format": "jsonv2", "zoom": "18"})
	})
	t.Run("a street is less sure than a building", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(nominatimReverseStreet))
		res, err := providers[0].make(t, f.srv.URL, nil).Reverse(ctx, 45.4201, -75.7003)
		must(t, err)
		if res.Confidence != 55 {
			t.Fatalf("confidence %d for a street, want 55", res.Confidence)
		}
	})
	t.Run("no place found", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(`[]`))
		_, err := providers[0].make(t, f.srv.URL, nil).Geocode(ctx, "nowhere at all")
		if !errors.Is(err, ErrNotFound) || !IsPermanent(err) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("unable to geocode", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(nominatimUnableToGeocode))
		_, err := providers[0].make(t, f.srv.URL, nil).Reverse(ctx, 0, 0)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestNewNominatim(t *testing.T) {
	t.Parallel()
	if _, err := NewNominatim(NominatimConfig{}); err == nil || !strings.Contains(err.Error(), "contact") {
		t.Fatalf("the public server without a contact: err = %v", err)
	}
	if _, err := NewNominatim(NominatimConfig{BaseURL: "http://nominatim.internal:8080"}); err != nil {
		t.Fatalf("an own server needs no contact: %v", err)
	}
	for _, bad := range []string{"ftp://x", "not a url", "http://"} {
		if _, err := NewNominatim(NominatimConfig{BaseURL: bad, Contact: testContact}); err == nil {
			t.Errorf("base URL %q accepted", bad)
		}
	}
	if _, err := NewMapbox(MapboxConfig{}); err == nil {
		t.Error("Mapbox without a token accepted")
	}
	if _, err := NewGoogle(GoogleConfig{}); err == nil {
		t.Error("Google without a key accepted")
	}
}

func TestPhoton(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("search", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(photonSearch))
		res, err := providers[1].make(t, f.srv.URL, nil).Geocode(ctx, "111 Wellington St Ottawa")
		must(t, err)
		checkResult(t, res, Result{Lat: 45.4235937, Lng: -75.700929, Provider: "photon", Confidence: 90,
			Address: "111 Wellington Street, Ottawa, Ontario K1A 0A9, Canada"})
		checkRequest(t, f.requests()[0], "/api", map[string]string{"q": "111 Wellington St Ottawa", "limit": "1"})
	})
	t.Run("reverse finds a street", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(photonReverseStreet))
		res, err := providers[1].make(t, f.srv.URL, nil).Reverse(ctx, 45.4201, -75.7003)
		must(t, err)
		checkResult(t, res, Result{Lat: 45.4201, Lng: -75.7003, Provider: "photon", Confidence: 55,
			Address: "Sparks Street, Ottawa, Ontario K1P 5B7, Canada"})
		checkRequest(t, f.requests()[0], "/reverse", map[string]string{"lat": "45.4201", "lon": "-75.7003"})
	})
	t.Run("no features", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(photonEmpty))
		if _, err := providers[1].make(t, f.srv.URL, nil).Geocode(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestMapbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("forward reads the rooftop point and match confidence", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(mapboxForward))
		res, err := providers[2].make(t, f.srv.URL, nil).Geocode(ctx, "111 Wellington St, Ottawa")
		must(t, err)
		checkResult(t, res, Result{Lat: 45.42352, Lng: -75.700901, Provider: "mapbox", Confidence: 95,
			Address: "111 Wellington Street, Ottawa, Ontario K1A 0A9, Canada"})
		checkRequest(t, f.requests()[0], "/search/geocode/v6/forward", map[string]string{"q": "111 Wellington St, Ottawa", "access_token": testKey, "limit": "1", "country": "ca"})
	})
	t.Run("reverse of a place", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(mapboxReversePlace))
		res, err := providers[2].make(t, f.srv.URL, nil).Reverse(ctx, 45.42153, -75.69719)
		must(t, err)
		checkResult(t, res, Result{Lat: 45.42153, Lng: -75.69719, Provider: "mapbox", Confidence: 20, Address: "Ottawa, Ontario, Canada"})
		checkRequest(t, f.requests()[0], "/search/geocode/v6/reverse", map[string]string{"latitude": "45.42153", "longitude": "-75.69719", "access_token": testKey})
	})
	t.Run("no features", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(mapboxEmpty))
		if _, err := providers[2].make(t, f.srv.URL, nil).Geocode(ctx, "x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("a bad token is permanent and the token stays secret", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, answer{http.StatusUnauthorized, mapboxUnauthorized})
		_, err := providers[2].make(t, f.srv.URL, nil).Geocode(ctx, "x")
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "Not Authorized - Invalid Token") {
			t.Fatalf("err = %v, want a permanent error quoting Mapbox", err)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Fatalf("error %q shows the token", err)
		}
	})
}

func TestGoogle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("geocode", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(googleOK))
		res, err := providers[3].make(t, f.srv.URL, nil).Geocode(ctx, "111 Wellington St, Ottawa")
		must(t, err)
		checkResult(t, res, Result{Lat: 45.4235937, Lng: -75.700929, Provider: "google", Confidence: 95,
			Address: "111 Wellington St, Ottawa, ON K1A 0A9, Canada"})
		checkRequest(t, f.requests()[0], "/maps/api/geocode/json", map[string]string{"address": "111 Wellington St, Ottawa", "key": testKey, "region": "ca"})
	})
	t.Run("reverse", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(googleOK))
		_, err := providers[3].make(t, f.srv.URL, nil).Reverse(ctx, 45.4235937, -75.700929)
		must(t, err)
		checkRequest(t, f.requests()[0], "/maps/api/geocode/json", map[string]string{"latlng": "45.4235937,-75.700929", "key": testKey})
	})
	t.Run("a partial match at a street's centre is unsure", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, ok(googlePartial))
		res, err := providers[3].make(t, f.srv.URL, nil).Geocode(ctx, "Wellington")
		must(t, err)
		if res.Confidence != 30 {
			t.Fatalf("confidence %d, want 30", res.Confidence)
		}
	})
	statuses := []struct {
		body      string
		notFound  bool
		retryable bool
		says      string
	}{
		{googleZero, true, false, ""},
		{googleOverQueryLimit, false, true, "OVER_QUERY_LIMIT: You have exceeded your rate-limit"},
		{googleDenied, false, false, "REQUEST_DENIED: The provided API key is invalid."},
		{googleInvalid, false, false, "INVALID_REQUEST"},
		{`{"results":[],"status":"OVER_DAILY_LIMIT"}`, false, false, "OVER_DAILY_LIMIT"},
		{`{"results":[],"status":"UNKNOWN_ERROR"}`, false, true, "UNKNOWN_ERROR"},
	}
	for _, st := range statuses {
		t.Run("status in a 200 answer: "+st.body, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, ok(st.body))
			_, err := providers[3].make(t, f.srv.URL, nil).Geocode(ctx, "x")
			switch {
			case err == nil:
				t.Fatal("no error")
			case st.notFound && !errors.Is(err, ErrNotFound):
				t.Fatalf("err = %v, want ErrNotFound", err)
			case !st.notFound && errors.Is(err, ErrRetryable) != st.retryable:
				t.Fatalf("err = %v, retryable should be %v", err, st.retryable)
			case !strings.Contains(err.Error(), st.says):
				t.Fatalf("err = %v does not say %q", err, st.says)
			case strings.Contains(err.Error(), testKey):
				t.Fatalf("error %q shows the key", err)
			}
		})
	}
	t.Run("a 403 with Google's own body", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, answer{http.StatusForbidden, googleDenied})
		_, err := providers[3].make(t, f.srv.URL, nil).Geocode(ctx, "x")
		if !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "REQUEST_DENIED") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestErrorKinds holds every provider to one classification of HTTP
// failures: the ones asking again can fix are retryable, the rest
// permanent, and no message shows a key.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status    int
		body      string
		retryable bool
	}{
		{http.StatusBadRequest, `{"message":"bad request"}`, false},
		{http.StatusUnauthorized, `{"message":"Not Authorized - Invalid Token"}`, false},
		{http.StatusForbidden, `{"error":"Forbidden"}`, false},
		{http.StatusNotFound, `Not Found`, false},
		{http.StatusUnprocessableEntity, `{"message":"Query too long"}`, false},
		{http.StatusRequestTimeout, ``, true},
		{http.StatusTooManyRequests, `{"message":"Rate limit exceeded"}`, true},
		{http.StatusInternalServerError, `<html>oops</html>`, true},
		{http.StatusBadGateway, ``, true},
		{http.StatusServiceUnavailable, `{"error":{"code":503,"message":"busy"}}`, true},
		{http.StatusOK, `<html>captive portal</html>`, true},
	}
	for _, p := range providers {
		for _, tc := range cases {
			t.Run(p.name+" "+http.StatusText(tc.status), func(t *testing.T) {
				t.Parallel()
				f := newFake(t, answer{tc.status, tc.body})
				f.header.Set("Retry-After", "7")
				g := p.make(t, f.srv.URL, nil)
				for _, call := range []func() error{
					func() error { _, err := g.Geocode(context.Background(), "1 Main St"); return err },
					func() error { _, err := g.Reverse(context.Background(), 45, -75); return err },
				} {
					err := call()
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("err = %v (%T), want *Error", err, err)
					}
					if e.Retryable != tc.retryable || errors.Is(err, ErrRetryable) != tc.retryable || errors.Is(err, ErrPermanent) == tc.retryable {
						t.Fatalf("err = %v: retryable %v, want %v", err, e.Retryable, tc.retryable)
					}
					// Go's transport may swallow a 408 as the server closing an
					// idle connection; either way it must be retryable.
					if tc.status != http.StatusOK && e.StatusCode != tc.status && tc.status != http.StatusRequestTimeout {
						t.Fatalf("status %d, want %d", e.StatusCode, tc.status)
					}
					if (tc.status == http.StatusTooManyRequests || tc.status == http.StatusServiceUnavailable) && e.RetryAfter != 7*time.Second {
						t.Fatalf("RetryAfter %v, want 7s", e.RetryAfter)
					}
					if e.Provider != p.name || strings.Contains(err.Error(), testKey) {
						t.Fatalf("error %q: wrong provider or shows the key", err)
					}
				}
			})
		}
	}
}

func TestNetworkFailures(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(p.name+" unreachable server is retryable and hides the key", func(t *testing.T) {
			t.Parallel()
			f := newFake(t, ok(`{}`))
			url := f.srv.URL
			f.srv.Close()
			_, err := p.make(t, url, nil).Geocode(context.Background(), "1 Main St")
			if !errors.Is(err, ErrRetryable) || strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), "access_token") {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run(p.name+" timeout is retryable", func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			g := withTimeout(t, p.name, srv.URL, 100*time.Millisecond)
			_, err := g.Geocode(context.Background(), "1 Main St")
			if !errors.Is(err, ErrRetryable) || strings.Contains(err.Error(), testKey) {
				t.Fatalf("err = %v", err)
			}
		})
		t.Run(p.name+" a cancelled context ends the request", func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{})
			release := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(arrived)
				select {
				case <-r.Context().Done():
				case <-release:
				}
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(release) })
			ctx, cancel := context.WithCancel(context.Background())
			go func() {
				<-arrived
				cancel()
			}()
			_, err := p.make(t, srv.URL, nil).Geocode(ctx, "1 Main St")
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			var e *Error
			if errors.As(err, &e) {
				t.Fatalf("a cancelled request is not a provider failure: %v", err)
			}
		})
	}
}

func withTimeout(t *testing.T, name, url string, d time.Duration) Geocoder {
	t.Helper()
	var g Geocoder
	var err error
	switch name {
	case "nominatim":
		g, err = NewNominatim(NominatimConfig{BaseURL: url, Contact: testContact, Timeout: d})
	case "photon":
		g, err = NewPhoton(PhotonConfig{BaseURL: url, Timeout: d})
	case "mapbox":
		g, err = NewMapbox(MapboxConfig{BaseURL: url, Token: testKey, Timeout: d})
	case "google":
		g, err = NewGoogle(GoogleConfig{BaseURL: url, Key: testKey, Timeout: d})
	}
	must(t, err)
	return g
}

func TestBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, ok(`{}`))
			g := p.make(t, f.srv.URL, nil)
			if _, err := g.Geocode(context.Background(), "  "); !errors.Is(err, ErrPermanent) {
				t.Errorf("empty address: err = %v", err)
			}
			for _, pt := range [][2]float64{{91, 0}, {0, 181}, {-90.5, 0}} {
				if _, err := g.Reverse(context.Background(), pt[0], pt[1]); !errors.Is(err, ErrPermanent) {
					t.Errorf("reverse %v: err = %v", pt, err)
				}
			}
			if n := len(f.requests()); n != 0 {
				t.Fatalf("bad input sent %d requests", n)
			}
		})
	}
}

// countingThrottle records how many times it was waited on.
type countingThrottle struct {
	waits atomic.Int64
	err   error
}

func (c *countingThrottle) Wait(ctx context.Context) error {
	c.waits.Add(1)
	return c.err
}

func TestThrottle(t *testing.T) {
	t.Parallel()
	t.Run("waited on before every request", func(t *testing.T) {
		t.Parallel()
		th := &countingThrottle{}
		var early atomic.Int64
		var served atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The throttle must have let this request through first.
			if th.waits.Load() < served.Add(1) {
				early.Add(1)
			}
			if r.URL.Path == "/reverse" {
				_, _ = w.Write([]byte(nominatimReverse))
				return
			}
			_, _ = w.Write([]byte(nominatimSearch))
		}))
		t.Cleanup(srv.Close)
		g := providers[0].make(t, srv.URL, th)
		for i := 0; i < 5; i++ {
			_, err := g.Geocode(context.Background(), "111 Wellington St")
			must(t, err)
			_, err = g.Reverse(context.Background(), 45.4, -75.7)
			must(t, err)
		}
		if th.waits.Load() != 10 || early.Load() != 0 {
			t.Fatalf("throttle waited %d times for 10 requests; %d requests came before their wait", th.waits.Load(), early.Load())
		}
	})
	t.Run("a failing throttle sends nothing and is retryable", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("redis: connection refused")
		th := &countingThrottle{err: boom}
		f := newFake(t, ok(nominatimSearch))
		_, err := providers[0].make(t, f.srv.URL, th).Geocode(context.Background(), "x")
		if !errors.Is(err, boom) || !errors.Is(err, ErrRetryable) {
			t.Fatalf("err = %v", err)
		}
		if len(f.requests()) != 0 {
			t.Fatal("a request went out past a failing throttle")
		}
	})
	t.Run("a throttle ended by the context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		th := &countingThrottle{err: context.Canceled}
		f := newFake(t, ok(nominatimSearch))
		_, err := providers[0].make(t, f.srv.URL, th).Geocode(ctx, "x")
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrRetryable) {
			t.Fatalf("err = %v", err)
		}
	})
	for _, p := range providers[1:] {
		t.Run(p.name+" honours an optional throttle", func(t *testing.T) {
			t.Parallel()
			th := &countingThrottle{}
			f := newFake(t, ok(`{}`))
			_, _ = p.make(t, f.srv.URL, th).Geocode(context.Background(), "x")
			if th.waits.Load() != 1 {
				t.Fatalf("throttle waited %d times, want 1", th.waits.Load())
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"30":                            30 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Tue, 01 Dec 2026 12:01:00 GMT": time.Minute,
		"Tue, 01 Dec 2026 11:00:00 GMT": 0,
	}
	for h, want := range cases {
		if got := retryAfter(h, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", h, got, want)
		}
	}
}

func TestConfidenceBounds(t *testing.T) {
	t.Parallel()
	for rank := -1; rank <= 31; rank++ {
		if c := nominatimConfidence(rank); c < 0 || c > 100 {
			t.Errorf("nominatim rank %d: %d", rank, c)
		}
	}
	for _, m := range []string{"", "exact", "high", "medium", "low"} {
		for _, ft := range []string{"", "address", "street", "place", "country"} {
			for _, acc := range []string{"", "rooftop", "interpolated", "approximate"} {
				if c := mapboxConfidence(m, ft, acc); c < 0 || c > 100 {
					t.Errorf("mapbox %s/%s/%s: %d", m, ft, acc, c)
				}
			}
		}
	}
	for _, lt := range []string{"ROOFTOP", "RANGE_INTERPOLATED", "GEOMETRIC_CENTER", "APPROXIMATE", ""} {
		for _, partial := range []bool{false, true} {
			if c := googleConfidence(lt, partial); c < 0 || c > 100 {
				t.Errorf("google %s/%v: %d", lt, partial, c)
			}
		}
	}
}
