-- At most one response-wall verification email per address per hour: the
-- submitter chooses the address, so without a bound the wall could mail a
-- stranger as often as the per-IP limit allows. A response claims the
-- address (lower-cased) before its email is sent; a claim older than an hour
-- may be taken over by the next response.
CREATE TABLE verification_email_claims (
    address     text PRIMARY KEY,
    response_id bigint NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now()
);
