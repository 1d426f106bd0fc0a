package config

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// GeocodeProviderNames lists the providers GEOCODE_PROVIDERS may name.
var GeocodeProviderNames = []string{"nar", "nominatim", "photon", "mapbox", "google"}

// GeocodeConfig configures the geocode fleet and the reverse-geocoding route.
type GeocodeConfig struct {
	// Providers are tried in this order (GEOCODE_PROVIDERS); a provider that
	// is not configured (no key, no URL, no contact for the public
	// Nominatim) is left out when the chain is built.
	Providers []string
	// CacheTTL is how long a network provider's answer stays in Redis.
	CacheTTL time.Duration
	// Timeout bounds one request to a provider.
	Timeout time.Duration
	// Contact (an e-mail address or URL) goes into the User-Agent sent to
	// Nominatim; the public server refuses anonymous clients.
	Contact string
	// CountryCodes narrows searches ("ca"); Language picks the language of
	// the formatted address ("" for the provider's default).
	CountryCodes string
	Language     string

	NominatimURL string
	// NominatimInterval is the least time between two Nominatim requests of
	// the whole fleet (the public server allows one a second), kept in Redis.
	NominatimInterval time.Duration

	PhotonURL   string // empty: Photon is not used
	MapboxURL   string
	MapboxToken string // empty: Mapbox is not used
	GoogleURL   string
	GoogleKey   string // empty: Google is not used
	// PhotonInterval, MapboxInterval and GoogleInterval are, like
	// NominatimInterval, the least time between two requests of the whole
	// fleet to that provider (0: no shared limit; the provider's own 429s
	// still make a chunk retry later).
	PhotonInterval time.Duration
	MapboxInterval time.Duration
	GoogleInterval time.Duration

	// ChunkSize is how many locations one geocode task handles.
	ChunkSize int
	// BatchMax bounds the locations of one batch job.
	BatchMax int
	// NARReverseRadius bounds how far (metres) the nar provider looks for
	// the nearest register address of a reverse lookup.
	NARReverseRadius int
}

func loadGeocode(r *reader) GeocodeConfig {
	c := GeocodeConfig{
		Providers:         r.list("GEOCODE_PROVIDERS", "nar,nominatim"),
		CacheTTL:          r.duration("GEOCODE_CACHE_TTL", 7*24*time.Hour),
		Timeout:           r.duration("GEOCODE_TIMEOUT", 10*time.Second),
		Contact:           r.str("GEOCODE_CONTACT", ""),
		CountryCodes:      r.str("GEOCODE_COUNTRY_CODES", "ca"),
		Language:          r.str("GEOCODE_LANGUAGE", ""),
		NominatimURL:      r.str("NOMINATIM_URL", "https://nominatim.openstreetmap.org"),
		NominatimInterval: r.duration("NOMINATIM_INTERVAL", time.Second),
		PhotonURL:         r.str("PHOTON_URL", ""),
		MapboxURL:         r.str("MAPBOX_URL", "https://api.mapbox.com"),
		MapboxToken:       r.str("MAPBOX_TOKEN", ""),
		GoogleURL:         r.str("GOOGLE_GEOCODE_URL", "https://maps.googleapis.com"),
		GoogleKey:         r.str("GOOGLE_GEOCODE_KEY", ""),
		PhotonInterval:    r.duration("PHOTON_INTERVAL", 0),
		MapboxInterval:    r.duration("MAPBOX_INTERVAL", 0),
		GoogleInterval:    r.duration("GOOGLE_GEOCODE_INTERVAL", 0),
		ChunkSize:         r.int("GEOCODE_CHUNK_SIZE", 100),
		BatchMax:          r.int("GEOCODE_BATCH_MAX", 1_000_000),
		NARReverseRadius:  r.int("GEOCODE_NAR_REVERSE_RADIUS", 100),
	}
	if r.err != nil {
		return c
	}
	for i, p := range c.Providers {
		p = strings.ToLower(p)
		c.Providers[i] = p
		if !slices.Contains(GeocodeProviderNames, p) {
			r.err = fmt.Errorf("GEOCODE_PROVIDERS: unknown provider %q (known: %s)", p,
				strings.Join(GeocodeProviderNames, ", "))
			return c
		}
		if slices.Index(c.Providers, p) < i {
			r.err = fmt.Errorf("GEOCODE_PROVIDERS: %q is listed twice", p)
			return c
		}
	}
	for _, u := range []struct{ name, val string }{
		{"NOMINATIM_URL", c.NominatimURL}, {"PHOTON_URL", c.PhotonURL},
		{"MAPBOX_URL", c.MapboxURL}, {"GOOGLE_GEOCODE_URL", c.GoogleURL},
	} {
		if u.val == "" {
			continue
		}
		if p, err := url.Parse(u.val); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			r.err = fmt.Errorf("%s: want an http(s) URL, got %q", u.name, u.val)
			return c
		}
	}
	if c.ChunkSize < 1 || c.ChunkSize > 10_000 {
		r.err = fmt.Errorf("GEOCODE_CHUNK_SIZE: want 1 to 10000, got %d", c.ChunkSize)
	}
	if c.BatchMax < 1 {
		r.err = fmt.Errorf("GEOCODE_BATCH_MAX: want at least 1, got %d", c.BatchMax)
	}
	return c
}
