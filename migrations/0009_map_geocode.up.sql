-- Geocoding jobs: a batch of locations the geocode fleet places, with
-- progress an organizer can watch. One row per location of a job in
-- map_geocode_job_items makes progress exact when a task runs twice: a
-- location moves out of PENDING once, and only that move counts.
CREATE TABLE map_geocode_jobs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status      text        NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'RUNNING', 'DONE', 'FAILED')),
    total       integer     NOT NULL DEFAULT 0 CHECK (total >= 0),
    -- done: placed; failed: no provider placed it. done + failed <= total.
    done        integer     NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed      integer     NOT NULL DEFAULT 0 CHECK (failed >= 0),
    -- What was asked for ({"locationIds": […]} or {"filter": {…}}), for the record.
    request     jsonb       NOT NULL DEFAULT '{}',
    error       text        NOT NULL DEFAULT '' CHECK (length(error) <= 1000),
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (done + failed <= total)
);

CREATE INDEX map_geocode_jobs_created_idx ON map_geocode_jobs (created_at DESC, id DESC);

-- No foreign key to map_locations: a location deleted while its job runs
-- must end its item FAILED ("location was deleted"), not vanish and leave
-- the job short of its total.
CREATE TABLE map_geocode_job_items (
    job_id      bigint      NOT NULL REFERENCES map_geocode_jobs (id) ON DELETE CASCADE,
    location_id bigint      NOT NULL,
    status      text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DONE', 'FAILED')),
    provider    text        NOT NULL DEFAULT '' CHECK (length(provider) <= 40),
    error       text        NOT NULL DEFAULT '' CHECK (length(error) <= 500),
    finished_at timestamptz,
    PRIMARY KEY (job_id, location_id)
);
