-- Map foundations: buildings (locations), the address units inside them,
-- their change history, and cuts (turf drawn by organizers).
--
-- PostGIS is required. Without the package installed on the server,
-- CREATE EXTENSION fails and `changemaker migrate up` explains how to install
-- it (storage/migrate.go). pg_trgm backs the text search of locations.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A building. geom is NULL until the location is geocoded (an imported row
-- without coordinates, an address typed in by hand).
CREATE TABLE map_locations (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    address            text        NOT NULL CHECK (address <> '' AND length(address) <= 300),
    city               text        NOT NULL DEFAULT '' CHECK (length(city) <= 120),
    province           text        NOT NULL DEFAULT '' CHECK (length(province) <= 40),
    postal_code        text        NOT NULL DEFAULT '' CHECK (postal_code = '' OR postal_code ~ '^[A-Z][0-9][A-Z] [0-9][A-Z][0-9]$'),
    geom               geometry(Point, 4326),
    building_type      text        NOT NULL DEFAULT '' CHECK (length(building_type) <= 60),
    geocode_provider   text        NOT NULL DEFAULT '' CHECK (length(geocode_provider) <= 40),
    geocode_confidence smallint    CHECK (geocode_confidence BETWEEN 0 AND 100),
    geocoded_at        timestamptz,
    source             text        NOT NULL DEFAULT 'MANUAL' CHECK (source IN ('NAR', 'CSV', 'MANUAL')),
    -- NAR: LOC_GUID. CSV: the row's own identifier when the mapping names one.
    source_id          text        CHECK (source_id <> '' AND length(source_id) <= 100),
    -- internal/address Key.Building().String(): two spellings of one
    -- building give the same key; a create or import joins a location with
    -- the same key near the same point instead of adding a second one.
    address_key        text        NOT NULL DEFAULT '',
    created_by         bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX map_locations_source_key ON map_locations (source, source_id) WHERE source_id IS NOT NULL;
CREATE INDEX map_locations_geom_idx ON map_locations USING gist (geom);
CREATE INDEX map_locations_postal_idx ON map_locations (postal_code) WHERE postal_code <> '';
CREATE INDEX map_locations_address_key_idx ON map_locations (address_key) WHERE address_key <> '';
CREATE INDEX map_locations_address_trgm_idx ON map_locations USING gin (address gin_trgm_ops);
CREATE INDEX map_locations_ungeocoded_idx ON map_locations (id) WHERE geom IS NULL;

-- A door inside a building: an apartment, or the building itself
-- (unit_label ''). Personal data lives here, never on the location.
CREATE TABLE map_units (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id   bigint      NOT NULL REFERENCES map_locations (id) ON DELETE CASCADE,
    unit_label    text        NOT NULL DEFAULT '' CHECK (length(unit_label) <= 40),
    -- NAR: ADDR_GUID. A re-import upserts on it.
    source_id     text        CHECK (source_id <> '' AND length(source_id) <= 100),
    resident_name text        NOT NULL DEFAULT '' CHECK (length(resident_name) <= 200),
    phone         text        NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email         text        NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    support_level smallint    CHECK (support_level BETWEEN 1 AND 4),
    lawn_sign     text        NOT NULL DEFAULT 'NONE'
                  CHECK (lawn_sign IN ('NONE', 'REQUESTED', 'INSTALLED', 'REMOVED', 'REFUSED')),
    notes         text        NOT NULL DEFAULT '' CHECK (length(notes) <= 5000),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX map_units_source_key ON map_units (source_id) WHERE source_id IS NOT NULL;
CREATE INDEX map_units_location_idx ON map_units (location_id, unit_label);
CREATE INDEX map_units_support_idx ON map_units (support_level, location_id) WHERE support_level IS NOT NULL;

-- Every change to a location or a unit: who, when, which fields, old and new
-- values ({"field": {"old": …, "new": …}}). Kept when the unit goes; goes
-- with the location.
CREATE TABLE map_location_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    location_id bigint      NOT NULL REFERENCES map_locations (id) ON DELETE CASCADE,
    unit_id     bigint,
    user_id     bigint REFERENCES users (id) ON DELETE SET NULL,
    action      text        NOT NULL CHECK (action IN ('CREATE', 'UPDATE', 'DELETE', 'IMPORT', 'GEOCODE', 'VISIT')),
    changes     jsonb       NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_location_history_location_idx ON map_location_history (location_id, created_at DESC, id DESC);

-- Turf: a named area. Always stored as a MultiPolygon (a Polygon is a
-- MultiPolygon of one), holes allowed, validated in Go (internal/geo)
-- before it gets here; ST_IsValid is checked again as the last word.
CREATE TABLE map_cuts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text        NOT NULL CHECK (name <> '' AND length(name) <= 200),
    description text        NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    category    text        NOT NULL DEFAULT 'CUSTOM' CHECK (category IN ('CUSTOM', 'WARD', 'NEIGHBORHOOD', 'DISTRICT')),
    color       text        NOT NULL DEFAULT '#3388ff' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    opacity     real        NOT NULL DEFAULT 0.3 CHECK (opacity >= 0 AND opacity <= 1),
    is_public   boolean     NOT NULL DEFAULT false,
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_cuts_geom_idx ON map_cuts USING gist (geom);
CREATE INDEX map_cuts_public_idx ON map_cuts (id) WHERE is_public;
