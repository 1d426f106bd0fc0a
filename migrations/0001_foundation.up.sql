CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL DEFAULT '',
    password_hash text        NOT NULL,
    role          text        NOT NULL DEFAULT 'USER'
                  CHECK (role IN ('SUPER_ADMIN', 'INFLUENCE_ADMIN', 'MAP_ADMIN', 'USER', 'TEMP')),
    status        text        NOT NULL DEFAULT 'ACTIVE'
                  CHECK (status IN ('ACTIVE', 'INACTIVE', 'SUSPENDED', 'EXPIRED')),
    expires_at    timestamptz,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);

-- One live account per address; a soft-deleted account frees its address.
CREATE UNIQUE INDEX users_email_live_key ON users (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE refresh_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  uuid        NOT NULL,
    token_hash bytea       NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

-- The site settings singleton: exactly one row, id 1.
CREATE TABLE site_settings (
    id                 smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    organization_name  text        NOT NULL DEFAULT 'Changemaker',
    email_from_name    text        NOT NULL DEFAULT '',
    email_from_address text        NOT NULL DEFAULT '',
    smtp_host          text        NOT NULL DEFAULT '',
    smtp_port          integer     NOT NULL DEFAULT 587 CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_username      text        NOT NULL DEFAULT '',
    smtp_password_enc  bytea,
    smtp_tls           text        NOT NULL DEFAULT 'starttls' CHECK (smtp_tls IN ('none', 'starttls', 'tls')),
    allow_registration boolean     NOT NULL DEFAULT true,
    enable_influence   boolean     NOT NULL DEFAULT true,
    enable_map         boolean     NOT NULL DEFAULT true,
    enable_media       boolean     NOT NULL DEFAULT true,
    updated_at         timestamptz NOT NULL DEFAULT now()
);
INSERT INTO site_settings (id) VALUES (1);
