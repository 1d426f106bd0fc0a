-- The Represent cache: postal codes and their representatives.

-- name: PostalCodeByCode :one
SELECT * FROM postal_codes WHERE code = @code;

-- name: RepresentativesFor :many
SELECT * FROM representatives WHERE postal_code = @postal_code ORDER BY position, id;

-- name: UpsertPostalCode :exec
INSERT INTO postal_codes (code, status, city, province, latitude, longitude, fetched_at)
VALUES (@code, @status, @city, @province, sqlc.narg('latitude'), sqlc.narg('longitude'), now())
ON CONFLICT (code) DO UPDATE SET status = EXCLUDED.status, city = EXCLUDED.city, province = EXCLUDED.province,
    latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, fetched_at = now();

-- name: UpsertRepresentative :exec
INSERT INTO representatives (postal_code, rep_key, position, name, first_name, last_name,
    elected_office, district_name, party_name, email, url, photo_url, representative_set_name,
    government_level, offices)
VALUES (@postal_code, @rep_key, @position, @name, @first_name, @last_name, @elected_office, @district_name,
    @party_name, @email, @url, @photo_url, @representative_set_name, @government_level, @offices)
ON CONFLICT (postal_code, rep_key) DO UPDATE SET position = EXCLUDED.position, name = EXCLUDED.name,
    first_name = EXCLUDED.first_name, last_name = EXCLUDED.last_name, elected_office = EXCLUDED.elected_office,
    district_name = EXCLUDED.district_name, party_name = EXCLUDED.party_name, email = EXCLUDED.email,
    url = EXCLUDED.url, photo_url = EXCLUDED.photo_url, representative_set_name = EXCLUDED.representative_set_name,
    government_level = EXCLUDED.government_level, offices = EXCLUDED.offices, updated_at = now();

-- name: DeleteRepresentativesExcept :exec
DELETE FROM representatives WHERE postal_code = @postal_code AND NOT (rep_key = ANY(@keep_keys::text[]));

-- name: CountPostalCodesLike :one
SELECT count(*) FROM postal_codes WHERE code LIKE @prefix::text || '%';

-- name: ListPostalCodes :many
SELECT p.code, p.status, p.city, p.province, p.latitude, p.longitude, p.fetched_at,
    (SELECT count(*) FROM representatives r WHERE r.postal_code = p.code) AS representatives
FROM postal_codes p WHERE p.code LIKE @prefix::text || '%'
ORDER BY p.fetched_at DESC, p.code
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: DeletePostalCodes :execrows
DELETE FROM postal_codes WHERE sqlc.narg('code')::text IS NULL OR code = sqlc.narg('code');

-- name: StalePostalCodes :many
SELECT * FROM postal_codes WHERE fetched_at < @cutoff ORDER BY fetched_at LIMIT @max_rows::bigint;

-- name: CountPostalCodesByStatus :one
SELECT count(*) FILTER (WHERE status = 'FOUND') AS found,
    count(*) FILTER (WHERE status = 'UNKNOWN') AS unknown
FROM postal_codes;

-- name: DropStalePostalCodes :execrows
DELETE FROM postal_codes WHERE (status = 'UNKNOWN' AND fetched_at < @unknown_cutoff) OR fetched_at < @found_cutoff;
