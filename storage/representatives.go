package storage

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"changemaker/storage/internal/db"
)

// Postal code cache statuses.
const (
	PostalFound   = "FOUND"
	PostalUnknown = "UNKNOWN" // Represent answered 404
)

var postalShape = regexp.MustCompile(`^[ABCEGHJ-NPRSTVXY][0-9][ABCEGHJ-NPRSTV-Z][0-9][ABCEGHJ-NPRSTV-Z][0-9]$`)

// NormalizePostalCode upper-cases s and drops spaces and hyphens; ok is false
// when the result is not a Canadian postal code.
func NormalizePostalCode(s string) (code string, ok bool) {
	code = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(s)))
	return code, postalShape.MatchString(code)
}

// PostalCode is a cached Represent answer for one code.
type PostalCode struct {
	Code      string
	Status    string
	City      string
	Province  string
	Latitude  *float64
	Longitude *float64
	FetchedAt time.Time
}

// Office is one of a representative's offices.
type Office struct {
	Type   string
	Postal string
	Tel    string
	Fax    string
}

// Representative is an elected official serving a postal code, as Represent
// describes them. Their email is public data.
type Representative struct {
	ID                    int64
	PostalCode            string
	Key                   string
	Name                  string
	FirstName             string
	LastName              string
	ElectedOffice         string
	DistrictName          string
	PartyName             string
	Email                 string
	URL                   string
	PhotoURL              string
	RepresentativeSetName string
	GovernmentLevel       string
	Offices               []Office
}

func postalFromDB(r db.PostalCode) PostalCode {
	return PostalCode{Code: r.Code, Status: r.Status, City: r.City, Province: r.Province, Latitude: r.Latitude,
		Longitude: r.Longitude, FetchedAt: r.FetchedAt}
}

// PostalCodeByCode reads a cached postal code.
func (s *Store) PostalCodeByCode(ctx context.Context, code string) (PostalCode, error) {
	r, err := s.q().PostalCodeByCode(ctx, code)
	return postalFromDB(r), notFound(err)
}

func repFromDB(r db.Representative) (Representative, error) {
	rep := Representative{ID: r.ID, PostalCode: r.PostalCode, Key: r.RepKey, Name: r.Name, FirstName: r.FirstName,
		LastName: r.LastName, ElectedOffice: r.ElectedOffice, DistrictName: r.DistrictName, PartyName: r.PartyName,
		Email: r.Email, URL: r.Url, PhotoURL: r.PhotoUrl, RepresentativeSetName: r.RepresentativeSetName,
		GovernmentLevel: r.GovernmentLevel}
	offices, err := decodeOffices(r.Offices)
	if err != nil {
		return rep, fmt.Errorf("decode offices of representative %d: %w", r.ID, err)
	}
	rep.Offices = offices
	if rep.Offices == nil {
		rep.Offices = []Office{}
	}
	return rep, nil
}

// RepresentativesFor lists a postal code's cached representatives in
// Represent's order.
func (s *Store) RepresentativesFor(ctx context.Context, code string) ([]Representative, error) {
	rows, err := s.q().RepresentativesFor(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("list representatives of %s: %w", code, err)
	}
	list := make([]Representative, 0, len(rows))
	for _, r := range rows {
		rep, err := repFromDB(r)
		if err != nil {
			return nil, fmt.Errorf("list representatives of %s: %w", code, err)
		}
		list = append(list, rep)
	}
	return list, nil
}

// SavePostalCode replaces the cached answer for p.Code with p and reps.
// Representatives are matched by Key, so a refresh keeps their IDs.
func (s *Store) SavePostalCode(ctx context.Context, p PostalCode, reps []Representative) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		q := queries(tx)
		err := q.UpsertPostalCode(ctx, db.UpsertPostalCodeParams{Code: p.Code, Status: p.Status, City: p.City,
			Province: p.Province, Latitude: p.Latitude, Longitude: p.Longitude})
		if err != nil {
			return fmt.Errorf("save postal code %s: %w", p.Code, err)
		}
		// Never nil: an empty list deletes every representative of the code.
		keys := make([]string, 0, len(reps))
		for i, r := range reps {
			ob, err := encodeOffices(r.Offices)
			if err != nil {
				return fmt.Errorf("encode offices of %q: %w", r.Name, err)
			}
			keys = append(keys, r.Key)
			err = q.UpsertRepresentative(ctx, db.UpsertRepresentativeParams{PostalCode: p.Code, RepKey: r.Key,
				Position: int32(i), Name: r.Name, FirstName: r.FirstName, LastName: r.LastName,
				ElectedOffice: r.ElectedOffice, DistrictName: r.DistrictName, PartyName: r.PartyName,
				Email: r.Email, Url: r.URL, PhotoUrl: r.PhotoURL, RepresentativeSetName: r.RepresentativeSetName,
				GovernmentLevel: r.GovernmentLevel, Offices: ob})
			if err != nil {
				return fmt.Errorf("save representative %q of %s: %w", r.Name, p.Code, err)
			}
		}
		err = q.DeleteRepresentativesExcept(ctx, db.DeleteRepresentativesExceptParams{PostalCode: p.Code,
			KeepKeys: keys})
		if err != nil {
			return fmt.Errorf("drop old representatives of %s: %w", p.Code, err)
		}
		return nil
	})
}

// CachedPostalCode is a cache entry with its representative count, for admins.
type CachedPostalCode struct {
	PostalCode
	Representatives int
}

// ListPostalCodes returns one page of the cache, newest first, and the total.
func (s *Store) ListPostalCodes(ctx context.Context, search string, limit, offset int) ([]CachedPostalCode, int, error) {
	prefix := escapeLike(search)
	return page(ctx, s, "postal codes",
		func(ctx context.Context, q *db.Queries) (int64, error) { return q.CountPostalCodesLike(ctx, prefix) },
		func(ctx context.Context, q *db.Queries) ([]db.ListPostalCodesRow, error) {
			return q.ListPostalCodes(ctx, db.ListPostalCodesParams{Prefix: prefix, PageLimit: int64(limit),
				PageOffset: int64(offset)})
		},
		func(r db.ListPostalCodesRow) CachedPostalCode {
			return CachedPostalCode{
				PostalCode: PostalCode{Code: r.Code, Status: r.Status, City: r.City, Province: r.Province,
					Latitude: r.Latitude, Longitude: r.Longitude, FetchedAt: r.FetchedAt},
				Representatives: int(r.Representatives),
			}
		})
}

// DeletePostalCodes drops cache entries: one code, or all when code is "".
func (s *Store) DeletePostalCodes(ctx context.Context, code string) (int64, error) {
	n, err := s.q().DeletePostalCodes(ctx, optText(code))
	if err != nil {
		return 0, fmt.Errorf("delete postal codes: %w", err)
	}
	return n, nil
}

// StalePostalCodes lists up to limit codes fetched before cutoff, oldest first.
func (s *Store) StalePostalCodes(ctx context.Context, cutoff time.Time, limit int) ([]PostalCode, error) {
	rows, err := s.q().StalePostalCodes(ctx, db.StalePostalCodesParams{Cutoff: cutoff, MaxRows: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("list stale postal codes: %w", err)
	}
	return convert(rows, postalFromDB), nil
}

// CountPostalCodes counts cache entries by status.
func (s *Store) CountPostalCodes(ctx context.Context) (found, unknown int, err error) {
	r, err := s.q().CountPostalCodesByStatus(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("count postal codes: %w", err)
	}
	return int(r.Found), int(r.Unknown), nil
}

// RepresentStatsKey is the Redis hash of lookup counters shared by the API
// (hits, misses) and the represent fleet (upstream, upstream_errors).
const RepresentStatsKey = "cm:represent:stats"

// DropStalePostalCodes deletes UNKNOWN entries fetched before unknownCutoff
// and any entry fetched before foundCutoff.
func (s *Store) DropStalePostalCodes(ctx context.Context, unknownCutoff, foundCutoff time.Time) (int64, error) {
	n, err := s.q().DropStalePostalCodes(ctx, db.DropStalePostalCodesParams{UnknownCutoff: unknownCutoff,
		FoundCutoff: foundCutoff})
	if err != nil {
		return 0, fmt.Errorf("drop stale postal codes: %w", err)
	}
	return n, nil
}
