package storage

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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

const postalColumns = `code, status, city, province, latitude, longitude, fetched_at`

func scanPostal(row pgx.Row) (PostalCode, error) {
	var p PostalCode
	err := row.Scan(&p.Code, &p.Status, &p.City, &p.Province, &p.Latitude, &p.Longitude, &p.FetchedAt)
	return p, err
}

// PostalCodeByCode reads a cached postal code.
func (s *Store) PostalCodeByCode(ctx context.Context, code string) (PostalCode, error) {
	p, err := scanPostal(s.Pool.QueryRow(ctx, `SELECT `+postalColumns+` FROM postal_codes WHERE code = $1`, code))
	return p, notFound(err)
}

const repColumns = `id, postal_code, rep_key, name, first_name, last_name, elected_office, district_name,
	party_name, email, url, photo_url, representative_set_name, government_level, offices`

func scanRep(row pgx.Row) (Representative, error) {
	var r Representative
	var offices []byte
	err := row.Scan(&r.ID, &r.PostalCode, &r.Key, &r.Name, &r.FirstName, &r.LastName, &r.ElectedOffice,
		&r.DistrictName, &r.PartyName, &r.Email, &r.URL, &r.PhotoURL, &r.RepresentativeSetName,
		&r.GovernmentLevel, &offices)
	if err == nil {
		var jerr error
		if r.Offices, jerr = decodeOffices(offices); jerr != nil {
			return r, fmt.Errorf("decode offices of representative %d: %w", r.ID, jerr)
		}
	}
	if r.Offices == nil {
		r.Offices = []Office{}
	}
	return r, err
}

// RepresentativesFor lists a postal code's cached representatives in
// Represent's order.
func (s *Store) RepresentativesFor(ctx context.Context, code string) ([]Representative, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+repColumns+` FROM representatives WHERE postal_code = $1
		ORDER BY position, id`, code)
	if err != nil {
		return nil, fmt.Errorf("list representatives of %s: %w", code, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Representative, error) { return scanRep(row) })
	if err != nil {
		return nil, fmt.Errorf("list representatives of %s: %w", code, err)
	}
	return list, nil
}

// SavePostalCode replaces the cached answer for p.Code with p and reps.
// Representatives are matched by Key, so a refresh keeps their IDs.
func (s *Store) SavePostalCode(ctx context.Context, p PostalCode, reps []Representative) error {
	return s.InTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO postal_codes (code, status, city, province, latitude, longitude, fetched_at)
			VALUES ($1, $2, $3, $4, $5, $6, now())
			ON CONFLICT (code) DO UPDATE SET status = $2, city = $3, province = $4, latitude = $5,
				longitude = $6, fetched_at = now()`,
			p.Code, p.Status, p.City, p.Province, p.Latitude, p.Longitude)
		if err != nil {
			return fmt.Errorf("save postal code %s: %w", p.Code, err)
		}
		keys := make([]string, 0, len(reps))
		for i, r := range reps {
			ob, err := encodeOffices(r.Offices)
			if err != nil {
				return err
			}
			keys = append(keys, r.Key)
			_, err = tx.Exec(ctx, `
				INSERT INTO representatives (postal_code, rep_key, position, name, first_name, last_name,
					elected_office, district_name, party_name, email, url, photo_url, representative_set_name,
					government_level, offices)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
				ON CONFLICT (postal_code, rep_key) DO UPDATE SET position = $3, name = $4, first_name = $5,
					last_name = $6, elected_office = $7, district_name = $8, party_name = $9, email = $10,
					url = $11, photo_url = $12, representative_set_name = $13, government_level = $14,
					offices = $15, updated_at = now()`,
				p.Code, r.Key, i, r.Name, r.FirstName, r.LastName, r.ElectedOffice, r.DistrictName, r.PartyName,
				r.Email, r.URL, r.PhotoURL, r.RepresentativeSetName, r.GovernmentLevel, ob)
			if err != nil {
				return fmt.Errorf("save representative %q of %s: %w", r.Name, p.Code, err)
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM representatives WHERE postal_code = $1 AND NOT (rep_key = ANY($2))`,
			p.Code, keys)
		return err
	})
}

// CachedPostalCode is a cache entry with its representative count, for admins.
type CachedPostalCode struct {
	PostalCode
	Representatives int
}

// ListPostalCodes returns one page of the cache, newest first, and the total.
func (s *Store) ListPostalCodes(ctx context.Context, search string, limit, offset int) ([]CachedPostalCode, int, error) {
	var total int
	if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM postal_codes WHERE code LIKE $1 || '%'`,
		escapeLike(search)).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count postal codes: %w", err)
	}
	rows, err := s.Pool.Query(ctx, `
		SELECT p.code, p.status, p.city, p.province, p.latitude, p.longitude, p.fetched_at,
			(SELECT count(*) FROM representatives r WHERE r.postal_code = p.code)
		FROM postal_codes p WHERE p.code LIKE $1 || '%'
		ORDER BY p.fetched_at DESC, p.code LIMIT $2 OFFSET $3`, escapeLike(search), limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("list postal codes: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CachedPostalCode, error) {
		var c CachedPostalCode
		err := row.Scan(&c.Code, &c.Status, &c.City, &c.Province, &c.Latitude, &c.Longitude, &c.FetchedAt,
			&c.Representatives)
		return c, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list postal codes: %w", err)
	}
	return list, total, nil
}

// DeletePostalCodes drops cache entries: one code, or all when code is "".
func (s *Store) DeletePostalCodes(ctx context.Context, code string) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM postal_codes WHERE $1 = '' OR code = $1`, code)
	if err != nil {
		return 0, fmt.Errorf("delete postal codes: %w", err)
	}
	return tag.RowsAffected(), nil
}

// StalePostalCodes lists up to limit codes fetched before cutoff, oldest first.
func (s *Store) StalePostalCodes(ctx context.Context, cutoff time.Time, limit int) ([]PostalCode, error) {
	rows, err := s.Pool.Query(ctx, `SELECT `+postalColumns+` FROM postal_codes WHERE fetched_at < $1
		ORDER BY fetched_at LIMIT $2`, cutoff, limit)
	if err != nil {
		return nil, fmt.Errorf("list stale postal codes: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (PostalCode, error) { return scanPostal(row) })
}

// CountPostalCodes counts cache entries by status.
func (s *Store) CountPostalCodes(ctx context.Context) (found, unknown int, err error) {
	err = s.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'FOUND'),
		count(*) FILTER (WHERE status = 'UNKNOWN') FROM postal_codes`).Scan(&found, &unknown)
	if err != nil {
		err = fmt.Errorf("count postal codes: %w", err)
	}
	return found, unknown, err
}

// RepresentStatsKey is the Redis hash of lookup counters shared by the API
// (hits, misses) and the represent fleet (upstream, upstream_errors).
const RepresentStatsKey = "cm:represent:stats"

// DropStalePostalCodes deletes UNKNOWN entries fetched before unknownCutoff
// and any entry fetched before foundCutoff.
func (s *Store) DropStalePostalCodes(ctx context.Context, unknownCutoff, foundCutoff time.Time) (int64, error) {
	tag, err := s.Pool.Exec(ctx, `DELETE FROM postal_codes WHERE (status = 'UNKNOWN' AND fetched_at < $1)
		OR fetched_at < $2`, unknownCutoff, foundCutoff)
	if err != nil {
		return 0, fmt.Errorf("drop stale postal codes: %w", err)
	}
	return tag.RowsAffected(), nil
}
