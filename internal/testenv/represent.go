package testenv

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"changemaker/config"
)

// Postal codes the fake Represent server knows.
const (
	// RepresentCodeFull has five people over both lists: the MP appears in
	// both (a duplicate to merge) and the councillor has no email.
	RepresentCodeFull = "T5K2J1"
	// RepresentCodeSmall has one MP only.
	RepresentCodeSmall = "K1A0B1"
	// RepresentCodeUnknown is answered 404, as is any code not listed here.
	RepresentCodeUnknown = "X0X0X0"
)

// Representatives of RepresentCodeFull.
var (
	RepMP = RepresentRep{Name: "Jane Federal", FirstName: "Jane", LastName: "Federal", ElectedOffice: "MP",
		DistrictName: "Edmonton Centre", PartyName: "Independent", Email: "jane.federal@parl.example",
		RepresentativeSetName: "House of Commons"}
	RepMLA = RepresentRep{Name: "Bob Provincial", FirstName: "Bob", LastName: "Provincial", ElectedOffice: "MLA",
		DistrictName: "Edmonton-City Centre", Email: "bob.provincial@assembly.example",
		RepresentativeSetName: "Legislative Assembly of Alberta"}
	RepMayor = RepresentRep{Name: "Dana Mayor", ElectedOffice: "Mayor", DistrictName: "Edmonton",
		Email: "mayor@city.example", RepresentativeSetName: "Edmonton City Council"}
	RepCouncillorNoEmail = RepresentRep{Name: "Carl NoEmail", ElectedOffice: "Councillor", DistrictName: "Ward 6",
		Email: "", RepresentativeSetName: "Edmonton City Council"}
	RepTrustee = RepresentRep{Name: "Tess Trustee", ElectedOffice: "Trustee", DistrictName: "Ward F",
		Email: "tess@schools.example", RepresentativeSetName: "Edmonton Public School Board"}
	RepSmallMP = RepresentRep{Name: "Sam Capital", ElectedOffice: "MP", DistrictName: "Ottawa Centre",
		Email: "sam.capital@parl.example", RepresentativeSetName: "House of Commons"}
)

// RepresentRep is a representative in Represent's JSON format.
type RepresentRep struct {
	Name                  string           `json:"name"`
	FirstName             string           `json:"first_name"`
	LastName              string           `json:"last_name"`
	ElectedOffice         string           `json:"elected_office"`
	DistrictName          string           `json:"district_name"`
	PartyName             string           `json:"party_name"`
	Email                 string           `json:"email"`
	URL                   string           `json:"url"`
	PhotoURL              string           `json:"photo_url"`
	Gender                string           `json:"gender"`
	RepresentativeSetName string           `json:"representative_set_name"`
	Offices               []map[string]any `json:"offices"`
	Extra                 map[string]any   `json:"extra"`
	Related               map[string]any   `json:"related"`
}

// RepresentServer answers GET /postcodes/{CODE}/ like represent.opennorth.ca.
type RepresentServer struct {
	URL string

	mu    sync.Mutex
	calls map[string]int
	fail  map[string]failure // code → the next calls' error status
	block chan struct{}      // when set, answers wait for it to close
}

type failure struct{ n, status int }

// NewRepresentServer starts the fake, stopped when t ends.
func NewRepresentServer(t testing.TB) *RepresentServer {
	t.Helper()
	s := &RepresentServer{calls: map[string]int{}, fail: map[string]failure{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// FailNext answers the next n calls for code with 503, as Represent does past its rate limit.
func (s *RepresentServer) FailNext(code string, n int) {
	s.FailNextWith(code, http.StatusServiceUnavailable, n)
}

// FailNextWith answers the next n calls for code with status.
func (s *RepresentServer) FailNextWith(code string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[code] = failure{n: s.fail[code].n + n, status: status}
}

// Recover answers code normally again, however many failures were left.
func (s *RepresentServer) Recover(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.fail, code)
}

// Hold makes answers wait until the returned release function is called.
func (s *RepresentServer) Hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	s.block = ch
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// Calls is how many requests reached the server for code.
func (s *RepresentServer) Calls(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[code]
}

func office(tel string) []map[string]any {
	return []map[string]any{{"type": "constituency", "postal": "100 Main St\nEdmonton AB  T5K 2J1", "tel": tel}}
}

func (s *RepresentServer) serve(w http.ResponseWriter, r *http.Request) {
	code, ok := strings.CutPrefix(r.URL.Path, "/postcodes/")
	code = strings.TrimSuffix(code, "/")
	s.mu.Lock()
	s.calls[code]++
	f := s.fail[code]
	failing := f.n > 0
	if failing {
		f.n--
		s.fail[code] = f
	}
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if !ok || r.Method != http.MethodGet {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if failing {
		w.WriteHeader(f.status)
		w.Write([]byte(`{"error":"` + http.StatusText(f.status) + `"}`)) //nolint:errcheck
		return
	}
	var doc map[string]any
	point := func(lng, lat float64) map[string]any {
		return map[string]any{"type": "Point", "coordinates": []float64{lng, lat}}
	}
	switch code {
	case RepresentCodeFull:
		mp := RepMP
		mp.Offices = office("1 780 555 0100")
		doc = map[string]any{"code": code, "city": "Edmonton", "province": "AB",
			"centroid": point(-113.5, 53.54), "boundaries_centroid": []any{}, "boundaries_concordance": []any{},
			"representatives_centroid":    []RepresentRep{mp, RepMLA, RepCouncillorNoEmail},
			"representatives_concordance": []RepresentRep{mp, RepMayor, RepTrustee}}
	case RepresentCodeSmall:
		doc = map[string]any{"code": code, "city": "Ottawa", "province": "ON", "centroid": point(-75.7, 45.42),
			"representatives_centroid": []RepresentRep{RepSmallMP}, "representatives_concordance": []RepresentRep{}}
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"Not found"}`)) //nolint:errcheck
		return
	}
	json.NewEncoder(w).Encode(doc) //nolint:errcheck
}

// ConfigureRepresent points cfg at this server and lets the fleet call it freely.
func (s *RepresentServer) ConfigureRepresent(cfg *config.Config) {
	cfg.Influence.RepresentBaseURL = s.URL
}
