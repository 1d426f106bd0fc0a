-- Influence: campaigns, the Represent cache, constituent emails, the response wall.

CREATE TABLE campaigns (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                     text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title                    text        NOT NULL,
    description              text        NOT NULL DEFAULT '',
    email_subject            text        NOT NULL DEFAULT '',
    email_body               text        NOT NULL DEFAULT '',
    call_to_action           text        NOT NULL DEFAULT '',
    cover_photo              text        NOT NULL DEFAULT '',
    status                   text        NOT NULL DEFAULT 'DRAFT'
                             CHECK (status IN ('DRAFT', 'ACTIVE', 'PAUSED', 'ARCHIVED')),
    target_government_levels text[]      NOT NULL DEFAULT '{}',
    allow_smtp_email         boolean     NOT NULL DEFAULT true,
    allow_mailto_link        boolean     NOT NULL DEFAULT true,
    collect_user_info        boolean     NOT NULL DEFAULT true,
    show_email_count         boolean     NOT NULL DEFAULT true,
    show_call_count          boolean     NOT NULL DEFAULT false,
    allow_email_editing      boolean     NOT NULL DEFAULT false,
    allow_custom_recipients  boolean     NOT NULL DEFAULT false,
    show_response_wall       boolean     NOT NULL DEFAULT false,
    highlight_campaign       boolean     NOT NULL DEFAULT false,
    email_count              integer     NOT NULL DEFAULT 0,
    call_count               integer     NOT NULL DEFAULT 0,
    created_by               bigint      REFERENCES users (id) ON DELETE SET NULL,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaigns_public_idx ON campaigns (status, highlight_campaign DESC, created_at DESC);
CREATE INDEX campaigns_created_by_idx ON campaigns (created_by);

CREATE TABLE campaign_recipients (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    name        text        NOT NULL,
    title       text        NOT NULL DEFAULT '',
    email       text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX campaign_recipients_email_key ON campaign_recipients (campaign_id, lower(email));

-- The Represent cache: one row per postal code looked up. status UNKNOWN
-- caches Represent's 404 so an unknown code is not asked again until it expires.
CREATE TABLE postal_codes (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Z][0-9][A-Z][0-9][A-Z][0-9]$'),
    status     text        NOT NULL CHECK (status IN ('FOUND', 'UNKNOWN')),
    city       text        NOT NULL DEFAULT '',
    province   text        NOT NULL DEFAULT '',
    latitude   double precision,
    longitude  double precision,
    fetched_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX postal_codes_fetched_idx ON postal_codes (fetched_at);

-- Representatives of a postal code. rep_key identifies a person within the
-- code so a refresh updates rows in place and their IDs stay stable.
CREATE TABLE representatives (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    postal_code             text        NOT NULL REFERENCES postal_codes (code) ON DELETE CASCADE,
    rep_key                 text        NOT NULL,
    position                integer     NOT NULL DEFAULT 0,
    name                    text        NOT NULL,
    first_name              text        NOT NULL DEFAULT '',
    last_name               text        NOT NULL DEFAULT '',
    elected_office          text        NOT NULL DEFAULT '',
    district_name           text        NOT NULL DEFAULT '',
    party_name              text        NOT NULL DEFAULT '',
    email                   text        NOT NULL DEFAULT '',
    url                     text        NOT NULL DEFAULT '',
    photo_url               text        NOT NULL DEFAULT '',
    representative_set_name text        NOT NULL DEFAULT '',
    government_level        text        NOT NULL
                            CHECK (government_level IN ('FEDERAL', 'PROVINCIAL', 'MUNICIPAL', 'SCHOOL_BOARD', 'OTHER')),
    offices                 jsonb       NOT NULL DEFAULT '[]',
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (postal_code, rep_key)
);

-- One row per message a constituent sends (method SMTP) or opens in their own
-- mail program (method MAILTO). SMTP rows are written QUEUED before the task
-- is enqueued: Postgres, not Redis, is what guarantees the email goes out.
CREATE TABLE campaign_emails (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id      bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    method           text        NOT NULL CHECK (method IN ('SMTP', 'MAILTO')),
    status           text        NOT NULL CHECK (status IN ('QUEUED', 'SENT', 'FAILED', 'CLICKED')),
    sender_name      text        NOT NULL DEFAULT '',
    sender_email     text        NOT NULL DEFAULT '',
    postal_code      text        NOT NULL DEFAULT '',
    recipient_kind   text        NOT NULL CHECK (recipient_kind IN ('REPRESENTATIVE', 'CUSTOM')),
    recipient_name   text        NOT NULL DEFAULT '',
    recipient_title  text        NOT NULL DEFAULT '',
    recipient_district text      NOT NULL DEFAULT '',
    recipient_level  text        NOT NULL DEFAULT '',
    recipient_email  text        NOT NULL,
    subject          text        NOT NULL DEFAULT '',
    body             text        NOT NULL DEFAULT '',
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text        NOT NULL DEFAULT '',
    message_id       text        NOT NULL DEFAULT '',
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_emails_campaign_idx ON campaign_emails (campaign_id, created_at DESC);
CREATE INDEX campaign_emails_queued_idx ON campaign_emails (created_at) WHERE status = 'QUEUED';

CREATE TABLE campaign_responses (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id          bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    representative_name  text        NOT NULL,
    representative_title text        NOT NULL DEFAULT '',
    representative_level text        NOT NULL DEFAULT '',
    representative_email text        NOT NULL DEFAULT '',
    response_type        text        NOT NULL
                         CHECK (response_type IN ('EMAIL', 'LETTER', 'PHONE_CALL', 'MEETING', 'SOCIAL_MEDIA', 'OTHER')),
    response_text        text        NOT NULL,
    comment              text        NOT NULL DEFAULT '',
    submitter_name       text        NOT NULL DEFAULT '',
    submitter_email      text        NOT NULL DEFAULT '',
    is_anonymous         boolean     NOT NULL DEFAULT false,
    status               text        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'APPROVED', 'REJECTED')),
    moderation_note      text        NOT NULL DEFAULT '',
    moderated_by         bigint      REFERENCES users (id) ON DELETE SET NULL,
    verified_at          timestamptz,
    verification_sent_at timestamptz,
    upvote_count         integer     NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX campaign_responses_wall_idx ON campaign_responses (campaign_id, status, created_at DESC);

-- One upvote per voter: "u:<user id>" or "ip:<salted hash of the address>".
CREATE TABLE response_upvotes (
    response_id bigint      NOT NULL REFERENCES campaign_responses (id) ON DELETE CASCADE,
    voter_key   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (response_id, voter_key)
);
