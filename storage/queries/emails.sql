-- Constituent emails. MAILTO rows count on their campaign when recorded;
-- SMTP rows are flagged count_pending when sent and counted apart, in
-- batches (ApplyEmailCounts), so marking one SENT writes only its own row.

-- name: InsertEmail :one
INSERT INTO campaign_emails (campaign_id, method, status, sender_name, sender_email, postal_code,
    recipient_kind, recipient_name, recipient_title, recipient_district, recipient_level,
    recipient_email, subject, body)
VALUES (@campaign_id, @method, @status, @sender_name, @sender_email, @postal_code,
    @recipient_kind, @recipient_name, @recipient_title, @recipient_district, @recipient_level,
    @recipient_email, @subject, @body)
RETURNING *;

-- name: InsertEmailRows :many
-- Every row of one request in one statement: element i of each array is
-- row i (set-returning functions side by side in a select list advance
-- together). The IDs follow that order.
INSERT INTO campaign_emails (campaign_id, method, status, sender_name, sender_email, postal_code,
    recipient_kind, recipient_name, recipient_title, recipient_district, recipient_level,
    recipient_email, subject, body)
SELECT unnest(@campaign_ids::bigint[]), unnest(@methods::text[]), unnest(@statuses::text[]),
    unnest(@sender_names::text[]), unnest(@sender_emails::text[]), unnest(@postal_codes::text[]),
    unnest(@recipient_kinds::text[]), unnest(@recipient_names::text[]), unnest(@recipient_titles::text[]),
    unnest(@recipient_districts::text[]), unnest(@recipient_levels::text[]), unnest(@recipient_emails::text[]),
    unnest(@subjects::text[]), unnest(@bodies::text[])
RETURNING *;

-- name: AddEmailCount :exec
UPDATE campaigns SET email_count = email_count + @n::integer WHERE id = @id;

-- name: EmailByID :one
SELECT * FROM campaign_emails WHERE id = @id;

-- name: MarkEmailSent :execrows
-- The commit of this statement closes the duplicate window (a worker killed
-- after the SMTP server's 250 and before this commit sends the message again
-- on retry), so it does not wait for the WAL flush: synchronous_commit is off
-- for this one transaction (set_config(…, true) is transaction-local, and a
-- lone statement is its own transaction). A worker crash loses nothing by it;
-- only a crash of Postgres itself within ~3 wal_writer_delay of the commit
-- could undo the mark, and then the sweeper sends again: a duplicate, never
-- a loss.
WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))
UPDATE campaign_emails SET status = 'SENT', message_id = @message_id, sent_at = @sent_at, attempts = attempts + 1,
    last_error = '', count_pending = true, updated_at = now()
WHERE id = @id AND status = 'QUEUED' AND EXISTS (SELECT 1 FROM async_commit);

-- name: ApplyEmailCounts :one
WITH picked AS (
    SELECT id FROM campaign_emails WHERE count_pending LIMIT @max_rows::bigint FOR UPDATE SKIP LOCKED
), done AS (
    UPDATE campaign_emails e SET count_pending = false FROM picked WHERE e.id = picked.id
    RETURNING e.campaign_id
), totals AS (
    SELECT campaign_id, count(*)::integer AS n FROM done GROUP BY campaign_id
), bumped AS (
    UPDATE campaigns c SET email_count = c.email_count + totals.n FROM totals WHERE c.id = totals.campaign_id
    RETURNING c.id
)
SELECT COALESCE(sum(n), 0)::bigint AS counted FROM totals;

-- name: RecordEmailAttempt :exec
UPDATE campaign_emails SET attempts = attempts + 1, last_error = @last_error, status = @status, updated_at = now()
WHERE id = @id AND status = 'QUEUED';

-- name: FailStuckEmail :execrows
UPDATE campaign_emails SET status = 'FAILED', last_error = @last_error, updated_at = now()
WHERE id = @id AND status = 'QUEUED' AND method = 'SMTP' AND updated_at = @updated_at;

-- name: RequeueFailedEmail :one
UPDATE campaign_emails SET status = 'QUEUED', last_error = '', updated_at = now()
WHERE id = @id AND campaign_id = @campaign_id AND status = 'FAILED' AND method = 'SMTP'
RETURNING *;

-- name: QueuedEmailIDs :many
SELECT id FROM campaign_emails
WHERE status = 'QUEUED' AND method = 'SMTP' AND updated_at < @cutoff
ORDER BY created_at
LIMIT @max_rows::bigint;

-- name: CountEmails :one
SELECT count(*) FROM campaign_emails
WHERE campaign_id = @campaign_id AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'));

-- name: ListEmails :many
SELECT * FROM campaign_emails
WHERE campaign_id = @campaign_id AND (sqlc.narg('status')::text IS NULL OR status = sqlc.narg('status'))
ORDER BY created_at DESC, id DESC
LIMIT @page_limit::bigint OFFSET @page_offset::bigint;

-- name: EmailStats :many
SELECT method, status, count(*) AS emails FROM campaign_emails WHERE campaign_id = @campaign_id
GROUP BY method, status;
