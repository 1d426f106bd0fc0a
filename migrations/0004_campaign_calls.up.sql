-- One row per phone call a visitor reports making through a campaign, for
-- the campaign's call count. Nothing about the caller is kept (no name,
-- address, postal code or IP): only whom they called, which is public.
-- idempotency_key is the client's Idempotency-Key header, so a retried
-- report counts once.
CREATE TABLE campaign_calls (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    campaign_id     bigint      NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    recipient_kind  text        NOT NULL CHECK (recipient_kind IN ('REPRESENTATIVE', 'CUSTOM')),
    recipient_name  text        NOT NULL,
    recipient_title text        NOT NULL DEFAULT '',
    recipient_level text        NOT NULL DEFAULT '',
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, idempotency_key)
);
