package geocoder

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultNominatimURL is the public OpenStreetMap server. Its usage policy
// asks for an identifying User-Agent with a contact and at most one
// request a second from the whole application.
const DefaultNominatimURL = "https://nominatim.openstreetmap.org"

// NominatimConfig configures a Nominatim client.
type NominatimConfig struct {
	BaseURL      string        // NOMINATIM_URL; DefaultNominatimURL when empty
	Contact      string        // an e-mail address or URL for the User-Agent; required for the public server
	CountryCodes string        // optional ISO 3166-1 codes, comma-separated ("ca")
	Language     string        // optional Accept-Language for the formatted address ("en", "fr")
	Timeout      time.Duration // per request; DefaultTimeout when zero
	// Throttle is waited on before every request. Required in production
	// (the fleet-wide one-a-second limit); nil only where the server is
	// one's own.
	Throttle Throttle
}

// Nominatim geocodes with a Nominatim server's jsonv2 API.
type Nominatim struct {
	c        client
	base     *url.URL
	country  string
	language string
}

// NewNominatim checks cfg and returns a client.
func NewNominatim(cfg NominatimConfig) (*Nominatim, error) {
	base, err := baseURL("nominatim", cfg.BaseURL, DefaultNominatimURL)
	if err != nil {
		return nil, err
	}
	contact := strings.TrimSpace(cfg.Contact)
	if contact == "" && base.Host == "nominatim.openstreetmap.org" {
		return nil, errors.New("nominatim: the public server's usage policy requires a contact (an e-mail address or URL) in the User-Agent")
	}
	ua := "Changemaker geocoder"
	if contact != "" {
		ua += " (" + contact + ")"
	}
	return &Nominatim{
		c:        newClient("nominatim", cfg.Timeout, ua, cfg.Throttle),
		base:     base,
		country:  strings.TrimSpace(cfg.CountryCodes),
		language: strings.TrimSpace(cfg.Language),
	}, nil
}

func (n *Nominatim) Name() string { return "nominatim" }

// nominatimPlace is one place in a jsonv2 answer. lat and lon are strings.
type nominatimPlace struct {
	Lat         string `json:"lat"`
	Lon         string `json:"lon"`
	DisplayName string `json:"display_name"`
	PlaceRank   int    `json:"place_rank"`
	Category    string `json:"category"`
	Type        string `json:"type"`
	AddressType string `json:"addresstype"`
	Error       string `json:"error"`
}

func (n *Nominatim) params() url.Values {
	q := url.Values{"format": {"jsonv2"}}
	if n.language != "" {
		q.Set("accept-language", n.language)
	}
	return q
}

func (n *Nominatim) Geocode(ctx context.Context, query string) (Result, error) {
	if err := checkQuery(&n.c, query); err != nil {
		return Result{}, err
	}
	q := n.params()
	q.Set("q", query)
	q.Set("limit", "1")
	if n.country != "" {
		q.Set("countrycodes", n.country)
	}
	var places []nominatimPlace
	if err := n.c.getJSON(ctx, "geocode", endpoint(n.base, "/search", q), &places, messageField); err != nil {
		return Result{}, err
	}
	if len(places) == 0 {
		return Result{}, notFound("nominatim", "geocode")
	}
	return n.result("geocode", places[0])
}

func (n *Nominatim) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&n.c, lat, lng); err != nil {
		return Result{}, err
	}
	q := n.params()
	q.Set("lat", formatFloat(lat))
	q.Set("lon", formatFloat(lng))
	q.Set("zoom", "18") // building level
	var place nominatimPlace
	if err := n.c.getJSON(ctx, "reverse", endpoint(n.base, "/reverse", q), &place, messageField); err != nil {
		return Result{}, err
	}
	if place.Error != "" {
		// Nominatim answers 200 {"error":"Unable to geocode"} where there is
		// nothing to find.
		return Result{}, notFound("nominatim", "reverse")
	}
	return n.result("reverse", place)
}

func (n *Nominatim) result(op string, p nominatimPlace) (Result, error) {
	lat, err1 := strconv.ParseFloat(p.Lat, 64)
	lng, err2 := strconv.ParseFloat(p.Lon, 64)
	if err := errors.Join(err1, err2); err != nil {
		return Result{}, n.c.fail(op, 200, true, "answer has no usable lat/lon", err)
	}
	return Result{Lat: lat, Lng: lng, Address: p.DisplayName, Provider: "nominatim", Confidence: nominatimConfidence(p.PlaceRank)}, nil
}

// nominatimConfidence reads Nominatim's place_rank, which says how precise
// a place is: 30 is a house or building, 26–27 a street, 16–25 a town or
// its parts, lower a region or country.
func nominatimConfidence(rank int) int {
	switch {
	case rank >= 30:
		return 90
	case rank >= 28:
		return 75
	case rank >= 26:
		return 55
	case rank >= 21:
		return 35
	case rank >= 16:
		return 20
	case rank > 0:
		return 5
	}
	return 0
}
