package geocoder

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"
)

// DefaultMapboxURL is Mapbox's API host.
const DefaultMapboxURL = "https://api.mapbox.com"

// MapboxConfig configures a Mapbox client (Geocoding API v6).
type MapboxConfig struct {
	BaseURL  string        // MAPBOX_URL; DefaultMapboxURL when empty
	Token    string        // MAPBOX_TOKEN, an access token; required
	Country  string        // optional ISO 3166-1 codes, comma-separated ("ca")
	Language string        // optional ("en", "fr")
	Timeout  time.Duration // per request; DefaultTimeout when zero
	Throttle Throttle      // optional; waited on before every request
}

// Mapbox geocodes with Mapbox's Geocoding API v6.
type Mapbox struct {
	c        client
	base     *url.URL
	token    string
	country  string
	language string
}

func NewMapbox(cfg MapboxConfig) (*Mapbox, error) {
	base, err := baseURL("mapbox", cfg.BaseURL, DefaultMapboxURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("mapbox: an access token is required")
	}
	return &Mapbox{
		c:        newClient("mapbox", cfg.Timeout, "Changemaker geocoder", cfg.Throttle),
		base:     base,
		token:    strings.TrimSpace(cfg.Token),
		country:  strings.TrimSpace(cfg.Country),
		language: strings.TrimSpace(cfg.Language),
	}, nil
}

func (m *Mapbox) Name() string { return "mapbox" }

type mapboxAnswer struct {
	Features []struct {
		Geometry struct {
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties struct {
			FeatureType    string `json:"feature_type"`
			Name           string `json:"name"`
			FullAddress    string `json:"full_address"`
			PlaceFormatted string `json:"place_formatted"`
			Coordinates    struct {
				Longitude *float64 `json:"longitude"`
				Latitude  *float64 `json:"latitude"`
				Accuracy  string   `json:"accuracy"`
			} `json:"coordinates"`
			MatchCode struct {
				Confidence string `json:"confidence"`
			} `json:"match_code"`
		} `json:"properties"`
	} `json:"features"`
}

func (m *Mapbox) params() url.Values {
	q := url.Values{"access_token": {m.token}, "limit": {"1"}}
	if m.language != "" {
		q.Set("language", m.language)
	}
	return q
}

func (m *Mapbox) Geocode(ctx context.Context, query string) (Result, error) {
	if err := checkQuery(&m.c, query); err != nil {
		return Result{}, err
	}
	q := m.params()
	q.Set("q", query)
	if m.country != "" {
		q.Set("country", m.country)
	}
	return m.get(ctx, "geocode", endpoint(m.base, "/search/geocode/v6/forward", q))
}

func (m *Mapbox) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&m.c, lat, lng); err != nil {
		return Result{}, err
	}
	q := m.params()
	q.Set("longitude", formatFloat(lng))
	q.Set("latitude", formatFloat(lat))
	return m.get(ctx, "reverse", endpoint(m.base, "/search/geocode/v6/reverse", q))
}

func (m *Mapbox) get(ctx context.Context, op string, u *url.URL) (Result, error) {
	var a mapboxAnswer
	if err := m.c.getJSON(ctx, op, u, &a, messageField); err != nil {
		return Result{}, err
	}
	if len(a.Features) == 0 {
		return Result{}, notFound("mapbox", op)
	}
	f := a.Features[0]
	p := f.Properties
	var lat, lng float64
	switch {
	case p.Coordinates.Latitude != nil && p.Coordinates.Longitude != nil:
		// properties.coordinates is the entrance-level point when Mapbox has one.
		lat, lng = *p.Coordinates.Latitude, *p.Coordinates.Longitude
	case len(f.Geometry.Coordinates) >= 2:
		lng, lat = f.Geometry.Coordinates[0], f.Geometry.Coordinates[1]
	default:
		return Result{}, m.c.fail(op, 200, true, "answer has a feature without coordinates", nil)
	}
	addr := p.FullAddress
	if addr == "" {
		addr = joinNonEmpty(", ", p.Name, p.PlaceFormatted)
	}
	return Result{Lat: lat, Lng: lng, Address: addr, Provider: "mapbox", Confidence: mapboxConfidence(p.MatchCode.Confidence, p.FeatureType, p.Coordinates.Accuracy)}, nil
}

// mapboxConfidence prefers v6's match_code.confidence (address features
// only), else the feature type; an interpolated or approximate point
// lowers it.
func mapboxConfidence(match, featureType, accuracy string) int {
	c := 0
	switch match {
	case "exact":
		c = 95
	case "high":
		c = 85
	case "medium":
		c = 60
	case "low":
		c = 35
	default:
		switch featureType {
		case "address", "secondary_address":
			c = 80
		case "street":
			c = 55
		case "neighborhood", "locality", "postcode":
			c = 35
		case "place", "district":
			c = 20
		case "region", "country":
			c = 5
		default:
			c = 40
		}
	}
	switch accuracy {
	case "interpolated":
		c -= 10
	case "approximate", "street":
		c -= 20
	}
	return clamp(c)
}
