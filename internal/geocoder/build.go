package geocoder

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"changemaker/config"
)

// NominatimThrottleKey is the Redis key of the fleet-wide Nominatim slot.
const NominatimThrottleKey = "geocode:throttle:nominatim"

// fleetThrottle is the fleet-wide slot of provider name, one request per
// interval across every process (nil for interval 0). why says what is
// missing when it cannot be had.
func fleetThrottle(name string, interval time.Duration, rdb redis.UniversalClient) (th Throttle, why string) {
	if interval <= 0 {
		return nil, ""
	}
	if rdb == nil {
		return nil, "no Redis for the fleet-wide rate limit"
	}
	return &RedisThrottle{Redis: rdb, Key: "geocode:throttle:" + name, Interval: interval}, ""
}

// BuildOptions are what Build needs besides the config.
type BuildOptions struct {
	Store   NARStore              // for nar
	Redis   redis.UniversalClient // the cache and the Nominatim slot
	Metrics *Metrics              // nil: none
	Log     *slog.Logger
}

// Build makes the chain GEOCODE_PROVIDERS names, in its order. A provider
// that is not configured (no key, no URL, the public Nominatim without a
// contact) is left out and named in skipped with the reason; a provider
// configured wrongly (a bad URL) is an error.
func Build(cfg config.GeocodeConfig, o BuildOptions) (chain *Chain, skipped []string, err error) {
	var ps []Geocoder
	for _, name := range cfg.Providers {
		var g Geocoder
		var why string
		switch name {
		case "nar":
			if o.Store == nil {
				why = "no database"
				break
			}
			g = &NAR{Store: o.Store, ReverseRadius: float64(cfg.NARReverseRadius)}
		case "nominatim":
			if cfg.NominatimURL == "" {
				why = "NOMINATIM_URL is empty"
				break
			}
			th, nowhy := fleetThrottle(name, cfg.NominatimInterval, o.Redis)
			if why = nowhy; why != "" {
				break
			}
			n, nerr := NewNominatim(NominatimConfig{BaseURL: cfg.NominatimURL, Contact: cfg.Contact,
				CountryCodes: cfg.CountryCodes, Language: cfg.Language, Timeout: cfg.Timeout, Throttle: th})
			if nerr != nil && cfg.Contact == "" {
				why = "GEOCODE_CONTACT is empty (the public server requires one)"
				break
			}
			g, err = n, nerr
		case "photon":
			if cfg.PhotonURL == "" {
				why = "PHOTON_URL is empty"
				break
			}
			th, nowhy := fleetThrottle(name, cfg.PhotonInterval, o.Redis)
			if why = nowhy; why != "" {
				break
			}
			g, err = NewPhoton(PhotonConfig{BaseURL: cfg.PhotonURL, Language: cfg.Language, Timeout: cfg.Timeout,
				Throttle: th})
		case "mapbox":
			if cfg.MapboxToken == "" {
				why = "MAPBOX_TOKEN is empty"
				break
			}
			th, nowhy := fleetThrottle(name, cfg.MapboxInterval, o.Redis)
			if why = nowhy; why != "" {
				break
			}
			g, err = NewMapbox(MapboxConfig{BaseURL: cfg.MapboxURL, Token: cfg.MapboxToken, Country: cfg.CountryCodes,
				Language: cfg.Language, Timeout: cfg.Timeout, Throttle: th})
		case "google":
			if cfg.GoogleKey == "" {
				why = "GOOGLE_GEOCODE_KEY is empty"
				break
			}
			th, nowhy := fleetThrottle(name, cfg.GoogleInterval, o.Redis)
			if why = nowhy; why != "" {
				break
			}
			g, err = NewGoogle(GoogleConfig{BaseURL: cfg.GoogleURL, Key: cfg.GoogleKey, Region: cfg.CountryCodes,
				Language: cfg.Language, Timeout: cfg.Timeout, Throttle: th})
		default:
			return nil, nil, fmt.Errorf("geocoding: unknown provider %q", name)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("geocoding provider %s: %w", name, err)
		}
		if why != "" {
			skipped = append(skipped, name+": "+why)
			continue
		}
		ps = append(ps, g)
	}
	return NewChain(ps, ChainOptions{Redis: o.Redis, CacheTTL: cfg.CacheTTL, Metrics: o.Metrics, Log: o.Log}), skipped, nil
}
