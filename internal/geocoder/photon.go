package geocoder

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// DefaultPhotonURL is komoot's public Photon server.
const DefaultPhotonURL = "https://photon.komoot.io"

// PhotonConfig configures a Photon client.
type PhotonConfig struct {
	BaseURL  string        // PHOTON_URL; DefaultPhotonURL when empty
	Language string        // optional: "en", "fr", "de" or "default"
	Timeout  time.Duration // per request; DefaultTimeout when zero
	Throttle Throttle      // optional; waited on before every request
}

// Photon geocodes with a Photon server (OpenStreetMap data, GeoJSON
// answers).
type Photon struct {
	c        client
	base     *url.URL
	language string
}

func NewPhoton(cfg PhotonConfig) (*Photon, error) {
	base, err := baseURL("photon", cfg.BaseURL, DefaultPhotonURL)
	if err != nil {
		return nil, err
	}
	return &Photon{c: newClient("photon", cfg.Timeout, "Changemaker geocoder", cfg.Throttle), base: base, language: strings.TrimSpace(cfg.Language)}, nil
}

func (p *Photon) Name() string { return "photon" }

type photonAnswer struct {
	Features []struct {
		Geometry struct {
			Coordinates []float64 `json:"coordinates"`
		} `json:"geometry"`
		Properties struct {
			Name        string `json:"name"`
			HouseNumber string `json:"housenumber"`
			Street      string `json:"street"`
			City        string `json:"city"`
			State       string `json:"state"`
			Postcode    string `json:"postcode"`
			Country     string `json:"country"`
			Type        string `json:"type"`
		} `json:"properties"`
	} `json:"features"`
}

func (p *Photon) Geocode(ctx context.Context, query string) (Result, error) {
	if err := checkQuery(&p.c, query); err != nil {
		return Result{}, err
	}
	q := url.Values{"q": {query}, "limit": {"1"}}
	if p.language != "" {
		q.Set("lang", p.language)
	}
	return p.get(ctx, "geocode", endpoint(p.base, "/api", q))
}

func (p *Photon) Reverse(ctx context.Context, lat, lng float64) (Result, error) {
	if err := checkPoint(&p.c, lat, lng); err != nil {
		return Result{}, err
	}
	q := url.Values{"lat": {formatFloat(lat)}, "lon": {formatFloat(lng)}, "limit": {"1"}}
	if p.language != "" {
		q.Set("lang", p.language)
	}
	return p.get(ctx, "reverse", endpoint(p.base, "/reverse", q))
}

func (p *Photon) get(ctx context.Context, op string, u *url.URL) (Result, error) {
	var a photonAnswer
	if err := p.c.getJSON(ctx, op, u, &a, messageField); err != nil {
		return Result{}, err
	}
	if len(a.Features) == 0 {
		return Result{}, notFound("photon", op)
	}
	f := a.Features[0]
	if len(f.Geometry.Coordinates) < 2 {
		return Result{}, p.c.fail(op, 200, true, "answer has a feature without coordinates", nil)
	}
	pr := f.Properties
	line := strings.TrimSpace(pr.HouseNumber + " " + pr.Street)
	if pr.Street == "" {
		line = pr.Name
	} else if pr.Name != "" && pr.HouseNumber == "" {
		line = pr.Name + ", " + line
	}
	region := strings.TrimSpace(pr.State + " " + pr.Postcode)
	conf := photonConfidence(pr.Type)
	if pr.HouseNumber != "" {
		conf = max(conf, 85)
	}
	return Result{
		Lat:        f.Geometry.Coordinates[1],
		Lng:        f.Geometry.Coordinates[0],
		Address:    joinNonEmpty(", ", line, pr.City, region, pr.Country),
		Provider:   "photon",
		Confidence: conf,
	}, nil
}

// photonConfidence reads Photon's feature type.
func photonConfidence(typ string) int {
	switch typ {
	case "house":
		return 90
	case "street":
		return 55
	case "locality", "district":
		return 35
	case "city":
		return 20
	case "county", "state", "country":
		return 5
	}
	return 40 // a named place (a school, a park) somewhere near its address
}

func joinNonEmpty(sep string, parts ...string) string {
	out := parts[:0:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
