// Package geocodertest helps tests of geocoding: it writes register and
// hand-made locations straight into map_locations (the locations API is
// another module's), and runs a local Nominatim that answers in the
// server's real jsonv2 format and records what it was asked, and when.
package geocodertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"changemaker/internal/address"
	"changemaker/storage"
)

// NARRow is a register building, in the register's own columns.
type NARRow struct {
	Civic, Suffix, Street, Type, Dir string
	City, Province, PostalCode       string // PostalCode as stored: "K1A 0B1"
	Lat, Lng                         float64
	Units                            []string // APT_NO_LABEL values
}

// uniqueID is a source_id no other test row holds.
func uniqueID(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// AddNAR inserts a register building (source NAR, with its point and
// address_key) and its units, as the import does.
func AddNAR(t testing.TB, s *storage.Store, r NARRow) int64 {
	t.Helper()
	line := r.Civic + r.Suffix + " " + r.Street + " " + r.Type
	if r.Dir != "" {
		line += " " + r.Dir
	}
	key := address.FromParts(r.Civic, r.Suffix, r.Street, r.Type, r.Dir, "").Building().String()
	var id int64
	err := s.Pool.QueryRow(context.Background(), `
		INSERT INTO map_locations (address, city, province, postal_code, geom, source, source_id, address_key,
			geocode_provider, geocode_confidence, geocoded_at)
		VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($5, $6), 4326), 'NAR', $7, $8, 'nar', 100, now())
		RETURNING id`,
		line, r.City, r.Province, r.PostalCode, r.Lng, r.Lat, uniqueID("LOC"), key,
	).Scan(&id)
	if err != nil {
		t.Fatalf("add register building %q: %v", line, err)
	}
	for _, u := range r.Units {
		_, err := s.Pool.Exec(context.Background(),
			`INSERT INTO map_units (location_id, unit_label, source_id) VALUES ($1, $2, $3)`,
			id, u, uniqueID("ADDR"))
		if err != nil {
			t.Fatalf("add unit %q: %v", u, err)
		}
	}
	return id
}

// AddLocation inserts a hand-made location without a point.
func AddLocation(t testing.TB, s *storage.Store, addr, city, province, postal string) int64 {
	t.Helper()
	var id int64
	err := s.Pool.QueryRow(context.Background(), `
		INSERT INTO map_locations (address, city, province, postal_code, source)
		VALUES ($1, $2, $3, $4, 'MANUAL') RETURNING id`, addr, city, province, postal).Scan(&id)
	if err != nil {
		t.Fatalf("add location %q: %v", addr, err)
	}
	return id
}

// Point reads a location's point and geocode columns; ok is false without a point.
func Point(t testing.TB, s *storage.Store, id int64) (lat, lng float64, provider string, confidence int, ok bool) {
	t.Helper()
	var la, ln *float64
	var conf *int16
	err := s.Pool.QueryRow(context.Background(), `
		SELECT ST_Y(geom), ST_X(geom), geocode_provider, geocode_confidence FROM map_locations WHERE id = $1`, id,
	).Scan(&la, &ln, &provider, &conf)
	if err != nil {
		t.Fatalf("read location %d: %v", id, err)
	}
	if la == nil || ln == nil {
		return 0, 0, provider, 0, false
	}
	if conf != nil {
		confidence = int(*conf)
	}
	return *la, *ln, provider, confidence, true
}

// HistoryCount counts a location's history rows with action.
func HistoryCount(t testing.TB, s *storage.Store, id int64, action string) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(),
		`SELECT count(*) FROM map_location_history WHERE location_id = $1 AND action = $2`, id, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Place is what the fake Nominatim answers for a query: a building at a
// point, or nothing (Found false).
type Place struct {
	Found    bool
	Lat, Lng float64
	Name     string
	Rank     int // place_rank; 30 a building
}

// Request is one request the fake saw.
type Request struct {
	At        time.Time
	Path      string
	Query     string // q, or "lat,lon" for /reverse
	UserAgent string
}

// Nominatim is a local Nominatim server.
type Nominatim struct {
	URL    string
	answer func(path, q string) Place
	mu     sync.Mutex
	seen   []Request
}

// NewNominatim starts a fake Nominatim whose answers come from answer
// (path is "/search" or "/reverse"; q is the query, or "lat,lon").
func NewNominatim(t testing.TB, answer func(path, q string) Place) *Nominatim {
	t.Helper()
	n := &Nominatim{answer: answer}
	srv := httptest.NewServer(http.HandlerFunc(n.serve))
	t.Cleanup(srv.Close)
	n.URL = srv.URL
	return n
}

func (n *Nominatim) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	q := r.URL.Query().Get("q")
	if r.URL.Path == "/reverse" {
		q = r.URL.Query().Get("lat") + "," + r.URL.Query().Get("lon")
	}
	n.mu.Lock()
	n.seen = append(n.seen, Request{At: at, Path: r.URL.Path, Query: q, UserAgent: r.UserAgent()})
	n.mu.Unlock()
	if r.URL.Query().Get("format") != "jsonv2" || (r.URL.Path != "/search" && r.URL.Path != "/reverse") {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":{"code":400,"message":"Parameter 'format' must be jsonv2"}}`))
		return
	}
	p := n.answer(r.URL.Path, q)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case !p.Found && r.URL.Path == "/reverse":
		_, _ = w.Write([]byte(`{"error":"Unable to geocode"}`))
	case !p.Found:
		_, _ = w.Write([]byte(`[]`))
	case r.URL.Path == "/reverse":
		_, _ = w.Write(place(p))
	default:
		_, _ = w.Write([]byte("[" + string(place(p)) + "]"))
	}
}

// place writes one place as Nominatim's jsonv2 does (lat and lon as strings).
func place(p Place) []byte {
	b, _ := json.Marshal(map[string]any{
		"place_id":     123456,
		"licence":      "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
		"osm_type":     "way",
		"osm_id":       30330542,
		"lat":          strconv.FormatFloat(p.Lat, 'f', 7, 64),
		"lon":          strconv.FormatFloat(p.Lng, 'f', 7, 64),
		"category":     "building",
		"type":         "yes",
		"place_rank":   p.Rank,
		"importance":   0.0001,
		"addresstype":  "building",
		"name":         "",
		"display_name": p.Name,
		"boundingbox":  []string{"45.4230245", "45.4241684", "-75.7016929", "-75.7001583"},
	})
	return b
}

// Requests returns what the fake was asked, in order of arrival.
func (n *Nominatim) Requests() []Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Request(nil), n.seen...)
}
