-- Address imports (the import fleet): one row per upload, one part per
-- Address file (a NAR release with several Address files is shared out as
-- one task per file), or the one file of a CSV import.
CREATE TABLE map_imports (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('NAR', 'CSV')),
    status        text        NOT NULL DEFAULT 'QUEUED'
                  CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED')),
    -- The directory under IMPORT_ROOT that holds the uploaded files.
    dir           text        NOT NULL CHECK (dir <> '' AND length(dir) <= 200),
    -- The uploaded files' names as the client sent them, for display.
    file_names    text[]      NOT NULL DEFAULT '{}',
    -- NAR filters: {"province","municipality","postalPrefix","bbox":[minLng,minLat,maxLng,maxLat]}.
    filters       jsonb       NOT NULL DEFAULT '{}',
    -- CSV column mapping: {"address": "Street", "latitude": "lat", …}.
    mapping       jsonb       NOT NULL DEFAULT '{}',
    -- Why the import failed, for people; '' otherwise.
    error         text        NOT NULL DEFAULT '' CHECK (length(error) <= 2000),
    created_by    bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_imports_created_idx ON map_imports (created_at DESC, id DESC);

-- One file's progress. Counters and rows_done are written in the same
-- transaction as the batch they count, so a task that crashes and runs
-- again resumes after the last committed batch and never counts twice.
CREATE TABLE map_import_parts (
    import_id     bigint      NOT NULL REFERENCES map_imports (id) ON DELETE CASCADE,
    -- The Address file: a path inside the release archive, or a stored file's name.
    name          text        NOT NULL CHECK (name <> '' AND length(name) <= 500),
    -- For a release .zip: the archive's stored name; '' for loose files.
    archive       text        NOT NULL DEFAULT '',
    -- Location files of the same province (loose upload or archive entries).
    location_files text[]     NOT NULL DEFAULT '{}',
    status        text        NOT NULL DEFAULT 'QUEUED'
                  CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED')),
    rows_done     bigint      NOT NULL DEFAULT 0,  -- data rows of the file consumed by committed batches
    rows_read     bigint      NOT NULL DEFAULT 0,
    inserted      bigint      NOT NULL DEFAULT 0,
    updated       bigint      NOT NULL DEFAULT 0,
    skipped       bigint      NOT NULL DEFAULT 0,
    filtered      bigint      NOT NULL DEFAULT 0,  -- rows left out by the filters
    -- The first skipped rows: [{"line": 5, "reason": "…"}, …], at most 100.
    skipped_lines jsonb       NOT NULL DEFAULT '[]',
    error         text        NOT NULL DEFAULT '' CHECK (length(error) <= 2000),
    started_at    timestamptz,
    finished_at   timestamptz,
    PRIMARY KEY (import_id, name)
);
