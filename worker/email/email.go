// Package email is the email fleet: constituents' campaign emails,
// response-wall verification emails, and the sweeper that re-enqueues what
// Redis lost. It holds the SMTP client code.
package email

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hibiken/asynq"
	"github.com/wneessen/go-mail"

	"changemaker/config"
	"changemaker/internal/netguard"
	"changemaker/internal/smtppool"
	"changemaker/storage"
	"changemaker/tasks"
)

// Handler handles the email fleet's tasks.
//
// Delivery is at least once. A worker that crashes after the SMTP server
// accepted a message but before the row is marked SENT leaves the task to
// asynq's lease recovery, which runs it again: that message is sent twice.
// The window is the time between the server's 250 reply to the end of DATA
// and the commit of the one-row UPDATE (measured in docs/influence.md); both copies carry the same Message-ID (derived from the row ID),
// so mail clients and many servers fold them into one.
type Handler struct {
	Store   *storage.Store
	Queue   *asynq.Client
	Config  config.Config
	Box     *storage.SecretBox // opens the SMTP password in the settings
	Log     *slog.Logger
	Metrics *Metrics // may be nil
	// Inspector lets the sweeper look at the task of a QUEUED row whose
	// enqueue conflicts; nil skips that repair.
	Inspector *asynq.Inspector
	// Now is the sweeper's clock; nil is time.Now.
	Now func() time.Time
	// Pool keeps SMTP connections open between messages; nil opens one per
	// message.
	Pool *smtppool.Pool
	// Cache holds the settings and campaigns between emails; nil reads them
	// for every email.
	Cache *Cache
}

// mailer is the SMTP server and sender identity in force: the settings
// singleton when it names a server, else SMTP_* from the environment.
type mailer struct {
	smtppool.Sender
}

// mailer is the mailer in force: from e.Cache while it holds one, else read.
func (e *Handler) mailer(ctx context.Context) (mailer, error) {
	return e.Cache.mailer(ctx, e.loadMailer)
}

// campaign is what an email needs of campaign id, from e.Cache while it
// holds it.
func (e *Handler) campaign(ctx context.Context, id int64) (campaignInfo, error) {
	return e.Cache.campaign(ctx, id, func(ctx context.Context) (campaignInfo, error) {
		c, err := e.Store.CampaignByID(ctx, id)
		return campaignInfo{Title: c.Title, Slug: c.Slug}, err
	})
}

// loadMailer reads the settings (and opens the SMTP password in them).
func (e *Handler) loadMailer(ctx context.Context) (mailer, error) {
	st, err := e.Store.GetSettings(ctx)
	if err != nil {
		return mailer{}, err
	}
	snd, err := smtppool.InForce(st, smtppool.SenderOptions{Env: e.Config.SMTP, Box: e.Box,
		AllowPrivate: e.Config.SMTPAllowPrivate, Timeout: e.Config.Influence.SMTPTimeout})
	return mailer{snd}, err
}

// domain is the part of the From address after @, for Message-IDs.
func (m mailer) domain() string {
	if _, d, ok := strings.Cut(m.FromAddr, "@"); ok && d != "" {
		return d
	}
	return "changemaker.local"
}

// send delivers msg and returns when the SMTP server accepted it: the moment
// it answered 250 to the end of DATA. That is when the message is out, so it
// is the time recorded as sent_at. The connection comes from e.Pool and goes
// back to it at once (nothing is said to the server between messages). done,
// which send returns, is for the caller to call (always, even on error) after
// recording the delivery: without a pool (a Handler built by hand) it ends
// the one-off connection with QUIT, so that round trip never sits inside the
// duplicate window between the 250 and the commit.
func (e *Handler) send(ctx context.Context, m mailer, msg *mail.Msg) (accepted time.Time, done func(), err error) {
	pool, done := e.Pool, func() {}
	if pool == nil {
		pool = smtppool.New(smtppool.Options{MaxConns: 1})
		done = pool.Close
	}
	from, err := msg.GetSender(false)
	if err != nil {
		return time.Time{}, done, fmt.Errorf("smtp sender: %w", err)
	}
	rcpts, err := msg.GetRecipients()
	if err != nil {
		return time.Time{}, done, fmt.Errorf("smtp recipients: %w", err)
	}
	accepted, err = pool.Send(ctx, m.Server, smtppool.Message{From: from, To: rcpts, Body: msg})
	return accepted, done, err
}

// newMessage is the message every email of ours starts from: From the
// organization, To the recipient, the Subject (see setSubject), the
// Message-ID, the Date, one header of ours naming what it is (name: value)
// and a plain text body. It fails when the From address is not usable.
func newMessage(m mailer, to *netmail.Address, subject, msgID, header, value, body string) (*mail.Msg, error) {
	msg := mail.NewMsg()
	from, err := address(m.FromName, m.FromAddr)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	msg.FromMailAddress(from)
	msg.AddToMailAddress(to)
	setSubject(msg, oneLine(subject))
	msg.SetMessageIDWithValue(msgID)
	msg.SetDate()
	if header != "" {
		msg.SetGenHeader(mail.Header(header), value)
	}
	msg.SetBodyString(mail.TypeTextPlain, body)
	return msg, nil
}

// permanent reports whether the message cannot go out by trying again: the
// server refused it for good (a 5xx reply), or the server of the settings
// is an address SMTP_ALLOW_PRIVATE=false forbids.
func permanent(err error) bool {
	if netguard.IsPrivateAddr(err) {
		return true
	}
	var pe *textproto.Error
	if errors.As(err, &pe) {
		return pe.Code >= 500 && pe.Code < 600
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		return code >= 500 && code < 600
	}
	return false
}

// oneLine keeps a value that goes into a header on one line, without
// control characters. The API refuses them; rows stored before it did may
// still hold some, and they must not keep a message from leaving.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r < 0x20 || (r >= 0x7f && r <= 0x9f)
	}), " ")
}

// setSubject sets the Subject through go-mail's encoder (RFC 2047 when the
// text is not plain ASCII). Plain ASCII that looks like an encoded word
// ("=?utf-8?q?…?=") would pass through that encoder as it is and then be
// decoded by the reader's client into something else, so such a subject is
// always written as base64 encoded words.
func setSubject(msg *mail.Msg, s string) {
	if !strings.Contains(s, "=?") {
		msg.Subject(s)
		return
	}
	var words []string
	for s != "" {
		// 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and "?=",
		// 72, under RFC 2047's 75. Words end on a rune boundary.
		n := min(len(s), 45)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	msg.SetGenHeaderPreformatted(mail.HeaderSubject, strings.Join(words, " "))
}

// address is name and addr as one header address. The header is written by
// net/mail.Address.String, which quotes the name or encodes it (RFC 2047)
// as it needs: a name is never pasted between quotes by hand, so no quote,
// backslash or comma in it can break the header. addr must be a bare
// address.
func address(name, addr string) (*netmail.Address, error) {
	a, err := netmail.ParseAddress(addr)
	if err != nil {
		return nil, fmt.Errorf("address %q: %w", addr, err)
	}
	if a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return nil, fmt.Errorf("address %q: not a bare address", addr)
	}
	return &netmail.Address{Name: oneLine(name), Address: a.Address}, nil
}

// Render fills a campaign email's placeholders. {{userName}} and
// {{userEmail}} are accepted as aliases, as older templates use them.
func Render(tmpl string, e storage.CampaignEmail, campaignTitle string) string {
	return strings.NewReplacer(
		"{{senderName}}", e.SenderName, "{{userName}}", e.SenderName,
		"{{senderEmail}}", e.SenderEmail, "{{userEmail}}", e.SenderEmail,
		"{{postalCode}}", e.PostalCode,
		"{{representativeName}}", e.RecipientName, "{{recipientName}}", e.RecipientName,
		"{{representativeTitle}}", e.RecipientTitle, "{{representativeDistrict}}", e.RecipientDistrict,
		"{{district}}", e.RecipientDistrict,
		"{{campaignTitle}}", campaignTitle,
	).Replace(tmpl)
}

// CampaignMessageID is the Message-ID of campaign email id, without brackets.
func CampaignMessageID(id int64, domain string) string {
	return fmt.Sprintf("campaign-email-%d@%s", id, domain)
}

// Send handles email:send. A row that is not QUEUED (already SENT, FAILED,
// or gone) is a no-op, so running the task twice sends once.
func (e *Handler) Send(ctx context.Context, t *asynq.Task) error {
	var p tasks.SendEmail
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	row, err := e.Store.EmailByID(ctx, p.EmailID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("send email %d: row is gone: %w", p.EmailID, asynq.SkipRetry)
	}
	if err != nil {
		return fmt.Errorf("send email %d: %w", p.EmailID, err)
	}
	if row.Status != storage.EmailQueued || row.Method != storage.MethodSMTP {
		return nil
	}
	camp, err := e.campaign(ctx, row.CampaignID)
	if err != nil {
		return fmt.Errorf("send email %d: load campaign: %w", p.EmailID, err)
	}
	m, err := e.mailer(ctx)
	if err != nil {
		return fmt.Errorf("send email %d: %w", p.EmailID, err)
	}
	msgID := CampaignMessageID(row.ID, m.domain())
	to, err := address(row.RecipientName, row.RecipientEmail)
	if err != nil {
		e.fail(ctx, row.ID, err.Error(), true)
		return fmt.Errorf("send email %d: recipient: %v: %w", p.EmailID, err, asynq.SkipRetry)
	}
	replyTo, err := address(row.SenderName, row.SenderEmail)
	if err != nil {
		e.fail(ctx, row.ID, err.Error(), true)
		return fmt.Errorf("send email %d: reply-to: %v: %w", p.EmailID, err, asynq.SkipRetry)
	}
	msg, err := newMessage(m, to, Render(row.Subject, row, camp.Title), msgID, "X-Changemaker-Campaign", camp.Slug,
		Render(row.Body, row, camp.Title))
	if err != nil {
		return fmt.Errorf("send email %d: %v: %w", p.EmailID, err, asynq.SkipRetry)
	}
	msg.ReplyToMailAddress(replyTo)

	start := time.Now()
	accepted, quit, err := e.send(ctx, m, msg)
	defer quit() // after the row is marked: see send
	e.Metrics.observeSend(time.Since(start), err)
	if err != nil {
		retry, _ := asynq.GetRetryCount(ctx)
		maxRetry, ok := asynq.GetMaxRetry(ctx)
		perm := permanent(err)
		final := perm || (ok && retry >= maxRetry)
		e.fail(ctx, row.ID, err.Error(), final)
		if perm {
			return fmt.Errorf("send email %d: %v: %w", p.EmailID, err, asynq.SkipRetry)
		}
		return fmt.Errorf("send email %d: %w", p.EmailID, err)
	}
	if _, err := e.Store.MarkEmailSent(context.WithoutCancel(ctx), row.ID, "<"+msgID+">", accepted); err != nil {
		// The message is out; retrying would send it again. Log loudly, and
		// let the archived task's error tell the sweeper it was accepted
		// (Postgres, where we would say so, is what just failed).
		e.Log.Error("email sent but not marked SENT", "email_id", row.ID, "err", err)
		return fmt.Errorf("send email %d: %s: marking it SENT failed: %v: %w",
			p.EmailID, acceptedNote(msgID), err, asynq.SkipRetry)
	}
	return nil
}

// acceptedMarker starts the note in a send task's error that the SMTP server
// accepted the message; acceptedNote writes it, acceptedMessageID reads it.
const acceptedMarker = "[smtp-accepted "

func acceptedNote(msgID string) string { return acceptedMarker + "<" + msgID + ">]" }

// acceptedMessageID finds the note of acceptedNote in a task's last error.
func acceptedMessageID(lastErr string) (string, bool) {
	_, rest, ok := strings.Cut(lastErr, acceptedMarker)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "]")
	return id, ok && strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">")
}

func (e *Handler) fail(ctx context.Context, id int64, msg string, final bool) {
	if err := e.Store.RecordEmailAttempt(context.WithoutCancel(ctx), id, msg, final); err != nil {
		e.Log.Warn("record email attempt", "email_id", id, "err", err)
	}
	if final {
		e.Metrics.failed()
	}
}

// VerifyResponse handles email:response-verification: it mails the submitter
// a signed link, valid ResponseTokenTTL. It is a no-op once sent, failed or
// verified. When it gives up (an address it cannot send to, a permanent
// refusal, its last retry) it records the failure, so the sweeper stops
// picking the response up.
func (e *Handler) VerifyResponse(ctx context.Context, t *asynq.Task) error {
	var p tasks.VerifyResponse
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	r, err := e.Store.ResponseByID(ctx, p.ResponseID)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("verify response %d: gone: %w", p.ResponseID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if r.VerificationSentAt != nil || r.VerificationFailedAt != nil || r.VerifiedAt != nil || r.SubmitterEmail == "" {
		return nil
	}
	// The API claimed the address already; claiming again covers a response
	// the sweeper brings back and one whose claim the API could not make.
	claimed, err := e.Store.ClaimVerificationEmail(ctx, r.SubmitterEmail, r.ID)
	if err != nil {
		return fmt.Errorf("verify response %d: %w", r.ID, err)
	}
	if !claimed {
		if _, err := e.Store.MarkVerificationFailed(ctx, r.ID, storage.VerificationThrottled); err != nil {
			return fmt.Errorf("verify response %d: record it throttled: %w", r.ID, err)
		}
		return nil
	}
	camp, err := e.campaign(ctx, r.CampaignID)
	if err != nil {
		return fmt.Errorf("verify response %d: load campaign: %w", p.ResponseID, err)
	}
	m, err := e.mailer(ctx)
	if err != nil {
		return err
	}
	token := storage.SignResponseToken(storage.ResponseTokenKey(e.Config.EncryptionKey), r.ID,
		time.Now().Add(storage.ResponseTokenTTL))
	link := e.Config.Influence.PublicURL + "/api/public/responses/verify/" + token
	// Only our words and the campaign's title: whoever submits chooses the
	// recipient, so nothing else they typed (not even the name they gave)
	// may ride along to a stranger's inbox.
	to, err := address("", r.SubmitterEmail)
	if err != nil {
		return e.verificationFailed(ctx, r.ID, fmt.Errorf("verify response %d: to: %v: %w", r.ID, err, asynq.SkipRetry))
	}
	msg, err := newMessage(m, to, "Please confirm the response you posted: "+camp.Title,
		fmt.Sprintf("response-verification-%d@%s", r.ID, m.domain()), "", "", VerificationBody(camp.Title, link))
	if err != nil {
		return e.verificationFailed(ctx, r.ID, fmt.Errorf("verify response %d: %v: %w", r.ID, err, asynq.SkipRetry))
	}
	_, quit, err := e.send(ctx, m, msg)
	defer quit()
	if err != nil {
		if permanent(err) {
			return e.verificationFailed(ctx, r.ID, fmt.Errorf("verify response %d: %v: %w", r.ID, err, asynq.SkipRetry))
		}
		err = fmt.Errorf("verify response %d: %w", r.ID, err)
		retry, _ := asynq.GetRetryCount(ctx)
		if budget, ok := asynq.GetMaxRetry(ctx); ok && retry >= budget {
			return e.verificationFailed(ctx, r.ID, err) // the last attempt
		}
		return err
	}
	if _, err := e.Store.MarkVerificationSent(context.WithoutCancel(ctx), r.ID); err != nil {
		// The message is out. Ending the task would free its ID and the
		// sweeper would send it again; archiving it with the accepted note
		// lets the sweeper record it as sent instead.
		e.Log.Error("verification sent but not recorded", "response_id", r.ID, "err", err)
		return fmt.Errorf("verify response %d: sent %s but not recorded: %v: %w",
			r.ID, acceptedNote(fmt.Sprintf("response-verification-%d@%s", r.ID, m.domain())), err, asynq.SkipRetry)
	}
	return nil
}

// VerificationBody is the text of a verification email.
func VerificationBody(campaignTitle, link string) string {
	return fmt.Sprintf("Someone posted a response to the campaign \"%s\" on the response wall and gave this "+
		"address.\n\nIf it was you, confirm it by opening this link (valid 30 days):\n\n%s\n\n"+
		"If it was not you, ignore this email.\n", campaignTitle, link)
}

// verificationFailed records that the verification email of response id
// will not go out, and returns err (the task's final error).
func (e *Handler) verificationFailed(ctx context.Context, id int64, err error) error {
	if _, merr := e.Store.MarkVerificationFailed(context.WithoutCancel(ctx), id, err.Error()); merr != nil {
		e.Log.Warn("record failed verification", "response_id", id, "err", merr)
	}
	return err
}

// Sweep handles email:sweep: it enqueues QUEUED rows untouched for
// OlderThanSeconds, and verification emails that never went out, then counts
// the emails sent since the last sweep on their campaigns. A row whose
// task is still live answers asynq.ErrTaskIDConflict and is left alone, so
// sweeping never sends twice; a row whose task is archived is repaired (see
// repairStuck).
func (e *Handler) Sweep(ctx context.Context, t *asynq.Task) error {
	var p tasks.SweepEmails
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.Limit <= 0 {
		p.Limit = 500
	}
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	cutoff := now().Add(-time.Duration(p.OlderThanSeconds) * time.Second)
	ids, err := e.Store.QueuedEmailIDs(ctx, cutoff, p.Limit)
	if err != nil {
		return err
	}
	enqueued, failed, sent := 0, 0, 0
	for _, id := range ids {
		task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: id})
		if err != nil {
			return err
		}
		// One round, no replacing: what holds the row's task ID is
		// repairStuck's to judge, from the row.
		_, err = tasks.EnqueueUnique(ctx, e.Queue, e.Inspector, task, tasks.QueueEmail, tasks.SendEmailTaskID(id),
			tasks.Policy{Rounds: 1})
		var held *tasks.HeldError
		switch {
		case err == nil:
			enqueued++
		case errors.As(err, &held):
			got, err := e.repairStuck(ctx, id, held.Info)
			if err != nil {
				// One row's trouble must not stop the sweep of the others.
				e.Log.Warn("sweep: inspect the task of a queued email", "email_id", id, "err", err)
			}
			switch got {
			case repairFailed:
				failed++
			case repairSent:
				sent++
			case repairRequeued:
				enqueued++
			}
		default:
			return fmt.Errorf("sweep: enqueue email %d: %w", id, err)
		}
	}
	vids, err := e.Store.UnsentVerificationIDs(ctx, now().Add(-storage.ResponseTokenTTL), cutoff, p.Limit)
	if err != nil {
		return err
	}
	for _, id := range vids {
		task, err := tasks.NewVerifyResponse(tasks.VerifyResponse{ResponseID: id})
		if err != nil {
			return err
		}
		_, err = tasks.EnqueueUnique(ctx, e.Queue, e.Inspector, task, tasks.QueueEmail,
			tasks.VerifyResponseTaskID(id), tasks.Policy{Rounds: 1})
		var held *tasks.HeldError
		switch {
		case err == nil:
			enqueued++
		case errors.As(err, &held):
			done, err := e.repairStuckVerification(ctx, id, held.Info)
			if err != nil {
				e.Log.Warn("sweep: inspect the task of a verification email", "response_id", id, "err", err)
			}
			if done {
				failed++
			}
		default:
			return fmt.Errorf("sweep: enqueue verification %d: %w", id, err)
		}
	}
	if enqueued > 0 || failed > 0 || sent > 0 {
		e.Log.Info("sweeper repaired queued rows", "enqueued", enqueued, "marked_failed", failed,
			"marked_sent", sent, "queued_rows", len(ids))
	}
	return e.applyCounts(ctx)
}

// countBatch bounds one transaction of ApplyEmailCounts, so a large backlog
// holds each campaign row only briefly.
const countBatch = 2000

// applyCounts folds the emails sent since the last sweep into their
// campaigns' counts (see storage.Store.MarkEmailSent for why sending does not).
func (e *Handler) applyCounts(ctx context.Context) error {
	for {
		n, err := e.Store.ApplyEmailCounts(ctx, countBatch)
		if err != nil {
			return fmt.Errorf("sweep: %w", err)
		}
		if n < countBatch {
			return nil
		}
	}
}

// repairStuckVerification handles an unsent verification whose task ID is
// taken. A live task will send it or record its failure. An archived one
// gave up without recording it (the worker died, or the UPDATE failed): the
// failure is recorded now, so the response stops filling the sweeper's batch.
// info is the task holding the ID; nil (no inspector, or it went since)
// leaves the response to the next sweep.
func (e *Handler) repairStuckVerification(ctx context.Context, id int64, info *asynq.TaskInfo) (bool, error) {
	if info == nil || info.State != asynq.TaskStateArchived {
		return false, nil
	}
	if _, accepted := acceptedMessageID(info.LastErr); accepted {
		// Sent, only not recorded: record it, and send nothing more.
		if _, err := e.Store.MarkVerificationSent(ctx, id); err != nil {
			return false, err
		}
		return false, nil
	}
	reason := info.LastErr
	if reason == "" {
		reason = "the verification task was archived before the email went out"
	}
	return e.Store.MarkVerificationFailed(ctx, id, reason)
}

type repairResult int

const (
	repairNone     repairResult = iota // the task is live (or gone): nothing to do
	repairFailed                       // the row was marked FAILED
	repairRequeued                     // a leftover archived task was replaced by a new one
	repairSent                         // the SMTP server had accepted it: the row was marked SENT
)

// archiveClockSlack absorbs asynq's whole-second LastFailedAt and clock
// differences between the workers and Postgres.
const archiveClockSlack = 2 * time.Second

// repairStuck handles a QUEUED row whose task ID is taken. A live task
// (pending, scheduled, retry, active) will settle the row itself. An
// archived one will not: asynq gave up on it, so nothing will ever mark the
// row, and the sweeper would conflict with it forever.
//
//   - Archived after the row was last touched, with the note that the SMTP
//     server accepted the message (the worker sent it, then could not mark
//     it): the row is marked SENT. FAILED would let an admin retry it and
//     send a second copy.
//   - Archived after the row was last touched otherwise: the worker gave up
//     (its retries ran out, or it died between its last failed attempt and
//     marking the row). The row is marked FAILED with the task's last error,
//     which is what the worker would have done; an admin may then retry it.
//   - Archived before the row was last touched: the row was put back in the
//     queue since (an admin retry that could not delete the old task while
//     Redis was down). The leftover task is deleted and a new one enqueued.
//
// info is the task holding the ID; nil (no inspector, or it finished since
// the enqueue) leaves the row to the next sweep, which sees it as it is then.
func (e *Handler) repairStuck(ctx context.Context, id int64, info *asynq.TaskInfo) (repairResult, error) {
	if info == nil || info.State != asynq.TaskStateArchived {
		return repairNone, nil
	}
	row, err := e.Store.EmailByID(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return repairNone, nil
	}
	if err != nil {
		return repairNone, err
	}
	if row.Status != storage.EmailQueued {
		return repairNone, nil
	}
	if !info.LastFailedAt.IsZero() && row.UpdatedAt.After(info.LastFailedAt.Add(archiveClockSlack)) {
		task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: id})
		if err != nil {
			return repairNone, err
		}
		// Two rounds: the one that meets the leftover and deletes it, the one
		// that enqueues. A task holding the ID by then is another sweep's.
		_, err = tasks.EnqueueUnique(ctx, e.Queue, e.Inspector, task, tasks.QueueEmail, tasks.SendEmailTaskID(id),
			tasks.Policy{Replace: []asynq.TaskState{asynq.TaskStateArchived}, Rounds: 2})
		var held *tasks.HeldError
		if err != nil && !errors.As(err, &held) {
			return repairNone, fmt.Errorf("replace the leftover task of email %d: %w", id, err)
		}
		e.Log.Info("sweep: replaced a leftover archived task", "email_id", id)
		return repairRequeued, nil
	}
	if msgID, accepted := acceptedMessageID(info.LastErr); accepted {
		// The SMTP server took it; only marking the row failed. FAILED would
		// invite an admin retry, and with it a second copy.
		// The archive time is the closest we know to the acceptance: the
		// worker archived the task right after the server's 250.
		sentAt := info.LastFailedAt
		if sentAt.IsZero() {
			sentAt = time.Now()
		}
		ok, err := e.Store.MarkEmailSent(ctx, id, msgID, sentAt)
		if err != nil || !ok {
			return repairNone, err
		}
		e.Log.Warn("sweep: marked SENT an email the SMTP server had accepted", "email_id", id)
		return repairSent, nil
	}
	reason := info.LastErr
	if reason == "" {
		reason = row.LastError
	}
	if reason == "" {
		reason = "the send task was archived before the email went out"
	}
	ok, err := e.Store.FailStuckEmail(ctx, id, reason, row.UpdatedAt)
	if err != nil || !ok {
		return repairNone, err
	}
	e.Metrics.failed()
	e.Log.Warn("sweep: marked FAILED an email whose task was archived", "email_id", id, "err", reason)
	return repairFailed, nil
}
