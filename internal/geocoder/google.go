package geocoder

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
)

// DefaultGoogleURL is Google Maps Platform's API host.
const DefaultGoogleURL = "https://maps.googleapis.com"

// GoogleConfig configures a Google Geocoding API client.
type GoogleConfig struct {
	BaseURL  string        // GOOGLE_GEOCODE_URL; DefaultGoogleURL when empty
	Key      string        // GOOGLE_GEOCODE_KEY; required
	Region   string        // optional ccTLD region bias ("ca")
	Language string        // optional ("en", "fr")
	Timeout  time.Duration // per request; DefaultTimeout when zero
	Throttle Throttle      // optional; waited on before every request
}

// Google geocodes with the Google Geocoding API.
type Google struct {
	c        client
	base     *url.URL
	key      string
	region   string
	language string
}

func NewGoogle(cfg GoogleConfig) (*Google, error) {
	base, err := baseURL("google", cfg.BaseURL, DefaultGoogleURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Key) == "" {
		return nil, errors.New("google: an API key is required")
	}
	return &Google{
		c:        newClient("google", cfg.Timeout, "Changemaker geocoder", cfg.Throttle),
		base:     base,
		key:      strings.TrimSpace(cfg.Key),
		region:   strings.TrimSpace(cfg.Region),
		language: strings.TrimSpace(cfg.Language),
	}, nil
}

func (g *Google) Name() string { return "google" }

// googleAnswer: Google answers 200 with a status field for most failures.
type googleAnswer struct {
	Status       string `json:"status"`
	ErrorMessage string `json:"error_message"`
	Results      []struct {
		FormattedAddress string `json:"formatted_address"`
		PartialMatch     bool   `json:"partial_match"`
		Geometry         struct {
			Location struct {
				Lat float64 `json:"lat"`
				Lng float64 `json:"lng"`
			} `json:"location"`
			LocationType string `json:"location_type"`
		} `json:"geometry"`
	} `json:"results"`
}

func (g *Google) params() url.Values {
	q := url.Values{"key": {g.key}}
	if g.language != "" {
		q.Set("language", g.language)
	}
	return q
}

func (g *Google) Geocode(ctx context.Context, query string) (Result, error) {
	if err := checkQuery(&g.c, query); err != nil {
		return Result{}, err
	}
	q := g.params()
	q.Set("address", query)
	if g.region != "" {
		q.Set("region", g.region)
	}
	return g.get(ctx, "geocode", q)
}

func (g *Google) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&g.c, lat, lng); err != nil {
		return Result{}, err
	}
	q := g.params()
	q.Set("latlng", formatFloat(lat)+","+formatFloat(lng))
	return g.get(ctx, "reverse", q)
}

func (g *Google) get(ctx context.Context, op string, q url.Values) (Result, error) {
	var a googleAnswer
	if err := g.c.getJSON(ctx, op, endpoint(g.base, "/maps/api/geocode/json", q), &a, googleErrorMessage); err != nil {
		return Result{}, err
	}
	switch a.Status {
	case "OK":
	case "ZERO_RESULTS":
		return Result{}, notFound("google", op)
	case "OVER_QUERY_LIMIT", "UNKNOWN_ERROR":
		return Result{}, g.c.fail(op, 200, true, statusMessage(a.Status, a.ErrorMessage), nil)
	default: // REQUEST_DENIED, INVALID_REQUEST, OVER_DAILY_LIMIT (billing), anything new
		return Result{}, g.c.fail(op, 200, false, statusMessage(a.Status, a.ErrorMessage), nil)
	}
	if len(a.Results) == 0 {
		return Result{}, notFound("google", op)
	}
	r := a.Results[0]
	return Result{
		Lat:        r.Geometry.Location.Lat,
		Lng:        r.Geometry.Location.Lng,
		Address:    r.FormattedAddress,
		Provider:   "google",
		Confidence: googleConfidence(r.Geometry.LocationType, r.PartialMatch),
	}, nil
}

// googleErrorMessage reads the status and error_message Google puts in
// non-200 answers too.
func googleErrorMessage(body []byte) string {
	var a googleAnswer
	if json.Unmarshal(body, &a) != nil || a.Status == "" {
		return messageField(body)
	}
	return statusMessage(a.Status, a.ErrorMessage)
}

func statusMessage(status, msg string) string {
	if msg == "" {
		return "status " + status
	}
	return "status " + status + ": " + clip(msg)
}

// googleConfidence reads location_type (how the point was found) and
// partial_match (Google matched only part of the address).
func googleConfidence(locationType string, partial bool) int {
	c := 0
	switch locationType {
	case "ROOFTOP":
		c = 95
	case "RANGE_INTERPOLATED":
		c = 80
	case "GEOMETRIC_CENTER":
		c = 55
	default: // APPROXIMATE
		c = 30
	}
	if partial {
		c -= 25
	}
	return clamp(c)
}
