package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/storage"
	"changemaker/tasks"
)

// Represent fills the representative cache from Open North's Represent API.
type Represent struct {
	Store   *storage.Store
	Redis   redis.UniversalClient
	Queue   *asynq.Client
	HTTP    *http.Client // with a timeout
	BaseURL string
	// RateLimit is upstream requests per minute for the whole fleet.
	RateLimit int
	CacheTTL  time.Duration
	// Inspector lets the refresh replace a lookup task asynq archived (which
	// would otherwise hold the postal code's task ID for up to 90 days);
	// nil takes every conflict as a lookup on its way.
	Inspector *asynq.Inspector
	// RetryCooldown spares Represent a code whose lookup was given up less
	// than this long ago.
	RetryCooldown time.Duration
	Log           *slog.Logger
	Metrics       *InfluenceMetrics // may be nil
	// Now is the clock of the quota windows and the cache; nil is time.Now.
	Now func() time.Time
}

func (rp *Represent) now() time.Time {
	if rp.Now != nil {
		return rp.Now()
	}
	return time.Now()
}

// representPostcode is the part of GET /postcodes/{CODE}/ we read.
type representPostcode struct {
	Code     string `json:"code"`
	City     string `json:"city"`
	Province string `json:"province"`
	Centroid *struct {
		Coordinates []float64 `json:"coordinates"` // GeoJSON: longitude, latitude
	} `json:"centroid"`
	RepresentativesCentroid    []representRep `json:"representatives_centroid"`
	RepresentativesConcordance []representRep `json:"representatives_concordance"`
}

type representRep struct {
	Name                  string           `json:"name"`
	FirstName             string           `json:"first_name"`
	LastName              string           `json:"last_name"`
	DistrictName          string           `json:"district_name"`
	ElectedOffice         string           `json:"elected_office"`
	PartyName             string           `json:"party_name"`
	Email                 string           `json:"email"`
	URL                   string           `json:"url"`
	PhotoURL              string           `json:"photo_url"`
	RepresentativeSetName string           `json:"representative_set_name"`
	Offices               []upstreamOffice `json:"offices"`
}

// upstreamOffice is an office in Represent's format; storage.Office has no
// JSON encoding of its own.
type upstreamOffice struct {
	Type   string `json:"type"`
	Postal string `json:"postal"`
	Tel    string `json:"tel"`
	Fax    string `json:"fax"`
}

func (r representRep) offices() []storage.Office {
	if r.Offices == nil {
		return nil
	}
	out := make([]storage.Office, len(r.Offices))
	for i, o := range r.Offices {
		out[i] = storage.Office(o)
	}
	return out
}

// GovernmentLevel maps a Represent representative to the level of government
// they sit at, from their office and, failing that, their representative set.
func GovernmentLevel(electedOffice, setName string) string {
	office := strings.ToLower(strings.TrimSpace(electedOffice))
	switch office {
	case "mp", "member of parliament", "senator":
		return storage.LevelFederal
	case "mla", "mpp", "mna", "mha", "member of the legislative assembly", "premier":
		return storage.LevelProvincial
	case "mayor", "councillor", "councilor", "deputy mayor", "reeve", "deputy reeve", "alderman",
		"regional councillor", "chair", "maire", "conseiller", "conseillère":
		return storage.LevelMunicipal
	case "trustee", "school trustee", "chair of the board":
		return storage.LevelSchoolBoard
	}
	set := strings.ToLower(setName)
	switch {
	case strings.Contains(set, "house of commons") || strings.Contains(set, "chambre des communes"):
		return storage.LevelFederal
	case strings.Contains(set, "school") || strings.Contains(set, "trustee") || strings.Contains(set, "scolaire"):
		return storage.LevelSchoolBoard
	case strings.Contains(set, "legislative") || strings.Contains(set, "assembly") ||
		strings.Contains(set, "assemblée") || strings.Contains(set, "house of assembly"):
		return storage.LevelProvincial
	case strings.Contains(set, "council") || strings.Contains(set, "conseil") || strings.Contains(set, "city") ||
		strings.Contains(set, "ville") || strings.Contains(set, "municipal"):
		return storage.LevelMunicipal
	}
	if strings.Contains(office, "councillor") || strings.Contains(office, "mayor") {
		return storage.LevelMunicipal
	}
	return storage.LevelOther
}

// mergeReps joins both lists in order, dropping people who appear in both.
func mergeReps(lists ...[]representRep) []storage.Representative {
	var out []storage.Representative
	seen := map[string]bool{}
	for _, list := range lists {
		for _, r := range list {
			name := strings.TrimSpace(r.Name)
			if name == "" {
				continue
			}
			key := strings.ToLower(name + "|" + strings.TrimSpace(r.RepresentativeSetName) + "|" +
				strings.TrimSpace(r.ElectedOffice))
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, storage.Representative{Key: key, Name: name, FirstName: r.FirstName,
				LastName: r.LastName, ElectedOffice: r.ElectedOffice, DistrictName: r.DistrictName,
				PartyName: r.PartyName, Email: strings.TrimSpace(r.Email), URL: r.URL, PhotoURL: r.PhotoURL,
				RepresentativeSetName: r.RepresentativeSetName,
				GovernmentLevel:       GovernmentLevel(r.ElectedOffice, r.RepresentativeSetName), Offices: r.offices()})
		}
	}
	return out
}

// Lookup handles represent:lookup. It is a no-op when the cache already
// holds a fresh answer (another task got there first).
func (rp *Represent) Lookup(ctx context.Context, t *asynq.Task) error {
	var p tasks.RepresentLookup
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	code, ok := storage.NormalizePostalCode(p.PostalCode)
	if !ok {
		return fmt.Errorf("represent lookup: bad postal code %q: %w", p.PostalCode, asynq.SkipRetry)
	}
	pc, err := rp.Store.PostalCodeByCode(ctx, code)
	if err == nil && rp.now().Sub(pc.FetchedAt) < rp.CacheTTL {
		return nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := rp.waitForQuota(ctx); err != nil {
		return fmt.Errorf("represent lookup %s: %w", code, err)
	}
	body, status, err := rp.fetch(ctx, code)
	rp.stat(ctx, "upstream")
	rp.Metrics.upstream(status)
	if err != nil {
		rp.stat(ctx, "upstream_errors")
		return fmt.Errorf("represent lookup %s: %w", code, err)
	}
	switch {
	case status == http.StatusNotFound:
		return rp.Store.SavePostalCode(ctx, storage.PostalCode{Code: code, Status: storage.PostalUnknown}, nil)
	case status == http.StatusTooManyRequests || status >= 500:
		rp.stat(ctx, "upstream_errors")
		return fmt.Errorf("represent lookup %s: upstream answered %d", code, status)
	case status != http.StatusOK:
		rp.stat(ctx, "upstream_errors")
		return fmt.Errorf("represent lookup %s: upstream answered %d: %w", code, status, asynq.SkipRetry)
	}
	var doc representPostcode
	if err := json.Unmarshal(body, &doc); err != nil {
		rp.stat(ctx, "upstream_errors")
		return fmt.Errorf("represent lookup %s: decode answer: %w", code, err)
	}
	out := storage.PostalCode{Code: code, Status: storage.PostalFound, City: doc.City, Province: doc.Province}
	if doc.Centroid != nil && len(doc.Centroid.Coordinates) == 2 {
		lng, lat := doc.Centroid.Coordinates[0], doc.Centroid.Coordinates[1]
		out.Latitude, out.Longitude = &lat, &lng
	}
	reps := mergeReps(doc.RepresentativesCentroid, doc.RepresentativesConcordance)
	if err := rp.Store.SavePostalCode(ctx, out, reps); err != nil {
		return fmt.Errorf("represent lookup %s: %w", code, err)
	}
	return nil
}

func (rp *Represent) fetch(ctx context.Context, code string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rp.BaseURL+"/postcodes/"+code+"/", nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "changemaker")
	res, err := rp.HTTP.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, res.StatusCode, fmt.Errorf("read answer: %w", err)
	}
	return body, res.StatusCode, nil
}

func (rp *Represent) stat(ctx context.Context, field string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 200*time.Millisecond)
	defer cancel()
	rp.Redis.HIncrBy(ctx, storage.RepresentStatsKey, field, 1) //nolint:errcheck // stats are best effort
}

// quotaScript counts one upstream call in the current minute's window.
var quotaScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// waitForQuota takes one of the fleet's upstream calls for this minute,
// waiting for the next minute when they are used up. It gives up (and the
// task is retried later) when the wait would outlast the task's deadline.
func (rp *Represent) waitForQuota(ctx context.Context) error {
	if rp.RateLimit <= 0 {
		return nil
	}
	for {
		now := rp.now()
		window := now.Truncate(time.Minute)
		key := fmt.Sprintf("cm:represent:quota:%d", window.Unix())
		n, err := quotaScript.Run(ctx, rp.Redis, []string{key}, (2 * time.Minute).Milliseconds()).Int()
		if err != nil {
			return fmt.Errorf("represent quota: %w", err)
		}
		if n <= rp.RateLimit {
			return nil
		}
		wait := window.Add(time.Minute).Sub(now)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return errors.New("represent quota used up for this minute")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Refresh handles represent:refresh-cache: entries older than the TTL are
// looked up again (up to Limit per run, to spare the quota), unknown codes
// and entries twice the TTL old are dropped.
func (rp *Represent) Refresh(ctx context.Context, t *asynq.Task) error {
	var p tasks.RepresentRefresh
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	now := rp.now()
	dropped, err := rp.Store.DropStalePostalCodes(ctx, now.Add(-rp.CacheTTL), now.Add(-2*rp.CacheTTL))
	if err != nil {
		return err
	}
	stale, err := rp.Store.StalePostalCodes(ctx, now.Add(-rp.CacheTTL), p.Limit)
	if err != nil {
		return err
	}
	enqueued, cooling := 0, 0
	for _, pc := range stale {
		err := tasks.EnqueueRepresentLookup(ctx, rp.Queue, rp.Inspector, pc.Code, rp.RetryCooldown, now)
		var recent *tasks.RecentlyArchivedError
		switch {
		case errors.As(err, &recent):
			cooling++ // the next run tries it again
			continue
		case err != nil:
			return fmt.Errorf("enqueue refresh of %s: %w", pc.Code, err)
		}
		enqueued++
	}
	rp.Log.Info("represent cache refreshed", "dropped", dropped, "refreshing", enqueued, "cooling_down", cooling)
	return nil
}
