-- Volunteer shifts (one-off or a weekly series), who signed up for them, the
-- emails that tell them so, and canvassing: sessions, the doors knocked
-- (visits) and the GPS track of a session.

-- A weekly series: the shifts made together by one create, so that an edit
-- can reach "this", "this and following" or "all" of them.
CREATE TABLE map_shift_series (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_by bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE map_shifts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    series_id    bigint REFERENCES map_shift_series (id) ON DELETE SET NULL,
    title        text        NOT NULL CHECK (title <> '' AND length(title) <= 200),
    description  text        NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    shift_date   date        NOT NULL,
    start_time   time        NOT NULL,
    end_time     time        NOT NULL CHECK (end_time > start_time),
    location     text        NOT NULL DEFAULT '' CHECK (length(location) <= 300),
    capacity     integer     NOT NULL CHECK (capacity BETWEEN 1 AND 10000),
    -- Kept with the signups in the same transaction, under the row's lock:
    -- the CHECK is the last word that capacity is never exceeded.
    signup_count integer     NOT NULL DEFAULT 0 CHECK (signup_count >= 0 AND signup_count <= capacity),
    -- FULL follows signup_count; CANCELLED is an admin's.
    status       text        NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'FULL', 'CANCELLED')),
    cut_id       bigint REFERENCES map_cuts (id) ON DELETE SET NULL,
    is_public    boolean     NOT NULL DEFAULT false,
    created_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_shifts_date_idx ON map_shifts (shift_date, start_time, id);
CREATE INDEX map_shifts_series_idx ON map_shifts (series_id, shift_date, start_time) WHERE series_id IS NOT NULL;
CREATE INDEX map_shifts_public_idx ON map_shifts (shift_date, start_time, id) WHERE is_public AND status = 'OPEN';

CREATE TABLE map_shift_signups (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shift_id   bigint      NOT NULL REFERENCES map_shifts (id) ON DELETE CASCADE,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SELF: a logged-in volunteer; PUBLIC: the public form; ADMIN: added by an admin.
    source     text        NOT NULL CHECK (source IN ('SELF', 'PUBLIC', 'ADMIN')),
    added_by   bigint REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (shift_id, user_id)
);

CREATE INDEX map_shift_signups_user_idx ON map_shift_signups (user_id, shift_id);

-- The outbox of shift emails (confirmation, cancellation): written in the
-- transaction that signs up or cancels, sent by the email fleet. Subject and
-- body are rendered when the row is written, so a deleted shift still gets
-- its cancellation out.
CREATE TABLE map_shift_emails (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shift_id   bigint REFERENCES map_shifts (id) ON DELETE SET NULL,
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    kind       text        NOT NULL CHECK (kind IN ('CONFIRMATION', 'CANCELLATION')),
    to_email   text        NOT NULL CHECK (to_email <> '' AND length(to_email) <= 254),
    to_name    text        NOT NULL DEFAULT '' CHECK (length(to_name) <= 200),
    subject    text        NOT NULL CHECK (length(subject) <= 300),
    body       text        NOT NULL CHECK (length(body) <= 20000),
    status     text        NOT NULL DEFAULT 'QUEUED' CHECK (status IN ('QUEUED', 'SENT', 'FAILED')),
    attempts   integer     NOT NULL DEFAULT 0,
    last_error text        NOT NULL DEFAULT '',
    sent_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_shift_emails_queued_idx ON map_shift_emails (updated_at, id) WHERE status = 'QUEUED';

CREATE TABLE map_canvass_sessions (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL once the cut is deleted: the session and its visits stay.
    cut_id           bigint REFERENCES map_cuts (id) ON DELETE SET NULL,
    shift_id         bigint REFERENCES map_shifts (id) ON DELETE SET NULL,
    status           text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'COMPLETED', 'ABANDONED')),
    started_at       timestamptz NOT NULL DEFAULT now(),
    ended_at         timestamptz,
    -- A visit or a track point; the scheduler abandons sessions idle 12 hours.
    last_activity_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_canvass_sessions_user_idx ON map_canvass_sessions (user_id, started_at DESC, id DESC);
CREATE INDEX map_canvass_sessions_active_idx ON map_canvass_sessions (last_activity_at) WHERE status = 'ACTIVE';

CREATE TABLE map_canvass_visits (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Made by the phone: the same visit posted again is recognised by it.
    client_id     uuid        NOT NULL UNIQUE,
    session_id    bigint REFERENCES map_canvass_sessions (id) ON DELETE SET NULL,
    user_id       bigint REFERENCES users (id) ON DELETE SET NULL,
    location_id   bigint      NOT NULL REFERENCES map_locations (id) ON DELETE CASCADE,
    unit_id       bigint REFERENCES map_units (id) ON DELETE SET NULL,
    outcome       text        NOT NULL CHECK (outcome IN ('NOT_HOME', 'REFUSED', 'MOVED', 'SPOKE_WITH',
                                                          'LEFT_LITERATURE', 'COME_BACK_LATER')),
    support_level smallint    CHECK (support_level BETWEEN 1 AND 4),
    notes         text        NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    -- When the door was knocked (the phone's clock; an offline backlog
    -- arrives later); created_at is when the server recorded it.
    visited_at    timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_canvass_visits_location_idx ON map_canvass_visits (location_id, visited_at DESC);
CREATE INDEX map_canvass_visits_session_idx ON map_canvass_visits (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX map_canvass_visits_user_idx ON map_canvass_visits (user_id, visited_at DESC);
CREATE INDEX map_canvass_visits_recent_idx ON map_canvass_visits (created_at DESC, id DESC);

CREATE TABLE map_canvass_track_points (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    session_id  bigint      NOT NULL REFERENCES map_canvass_sessions (id) ON DELETE CASCADE,
    geom        geometry(Point, 4326) NOT NULL,
    accuracy_m  real        CHECK (accuracy_m >= 0),
    recorded_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX map_canvass_track_points_session_idx ON map_canvass_track_points (session_id, recorded_at);
