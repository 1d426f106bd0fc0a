// Command influence is the helper of scripts/bench-influence.sh: it prepares
// the bench database, feeds the email queue, waits for the worker, and sends
// mail from a plain loop to measure what the SMTP server itself accepts.
//
//	influence setup                      create the bench campaign; print its slug
//	influence precheck                   refuse a Redis database another worker serves
//	influence enqueue -n N               insert N QUEUED emails and enqueue their tasks
//	influence wait-sent -n N             wait until N emails are SENT; print the rate
//	influence drop-queued                delete the tasks of QUEUED rows; mark them FAILED
//	influence smtp-loop -addr A -n N -c C  send N messages from C goroutines
//
// DATABASE_URL and REDIS_URL name the bench database and Redis, as for the
// changemaker binary. It is a benchmark tool: it writes to whatever those name.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/wneessen/go-mail"

	"changemaker/internal/asynqconn"
	"changemaker/storage"
	"changemaker/tasks"
)

// The bench campaign and the one representative it writes to.
const (
	Slug       = "bench-influence"
	PostalCode = "T5K2J1"
	RepEmail   = "mp@bench.invalid"
	// Subject and body of the size of a real campaign email.
	Subject = "Please fund public transit in {{postalCode}}, {{representativeName}}"
)

var body = "Dear {{representativeName}},\n\n" + strings.Repeat(
	"I am writing as a constituent in {{district}} to ask you to support stable funding for public transit. ", 6) +
	"\n\nSincerely,\n{{senderName}}\n{{senderEmail}}\n"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: influence setup|precheck|enqueue|wait-sent|drop-queued|smtp-loop [flags]")
		os.Exit(2)
	}
	ctx := context.Background()
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "setup":
		err = setup(ctx)
	case "precheck":
		err = precheck(ctx)
	case "enqueue":
		err = enqueue(ctx, args)
	case "wait-sent":
		err = waitSent(ctx, args)
	case "drop-queued":
		err = dropQueued(ctx)
	case "smtp-loop":
		err = smtpLoop(ctx, args)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "influence:", err)
		os.Exit(1)
	}
}

func openStore(ctx context.Context) (*storage.Store, error) {
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		return nil, errors.New("DATABASE_URL is not set")
	}
	return storage.Open(ctx, u, 4)
}

func redisOptions() (*redis.Options, error) {
	u := os.Getenv("REDIS_URL")
	if u == "" {
		return nil, errors.New("REDIS_URL is not set")
	}
	return storage.RedisOptions(u, 8)
}

func ptr[T any](v T) *T { return &v }

// setup creates the bench user, an ACTIVE campaign that sends by SMTP to the
// representatives of one cached postal code, and that postal code's cache
// entry (one MP with an address). It prints the slug.
func setup(ctx context.Context) error {
	store, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.CreateUser(ctx, storage.NewUser{Email: "bench-influence@bench.invalid", Name: "Bench",
		PasswordHash: "!", Role: storage.RoleInfluenceAdmin})
	if err != nil {
		return fmt.Errorf("create bench user: %w", err)
	}
	_, err = store.CreateCampaign(ctx, storage.CampaignFields{
		Slug: ptr(Slug), Title: ptr("Bench: fund public transit"),
		Description:  ptr("A campaign the influence benchmark reads and writes to."),
		EmailSubject: ptr(Subject), EmailBody: ptr(body), CallToAction: ptr("Write to your MP"),
		Status: ptr(storage.CampaignActive), TargetGovernmentLevels: &[]string{storage.LevelFederal},
		AllowSMTPEmail: ptr(true), AllowMailtoLink: ptr(false), ShowEmailCount: ptr(true),
		AllowCustomRecipients: ptr(false),
	}, u.ID)
	if err != nil {
		return fmt.Errorf("create bench campaign: %w", err)
	}
	err = store.SavePostalCode(ctx, storage.PostalCode{Code: PostalCode, Status: storage.PostalFound, City: "Edmonton",
		Province: "AB"}, []storage.Representative{{Key: "mp", Name: "Jane Federal", ElectedOffice: "MP",
		DistrictName: "Edmonton Centre", Email: RepEmail, GovernmentLevel: storage.LevelFederal}})
	if err != nil {
		return err
	}
	fmt.Println(Slug)
	return nil
}

// precheck refuses to run when another asynq worker is registered on the
// bench Redis database, or its email queue already holds tasks: the bench's
// tasks carry row IDs of the bench database and must meet only its worker.
func precheck(ctx context.Context) error {
	opt, err := redisOptions()
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	servers, err := rdb.SMembers(ctx, "asynq:servers").Result()
	if err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	if len(servers) > 0 {
		return fmt.Errorf("asynq workers are registered on redis db %d (%s): they would take the bench's tasks; "+
			"stop them or set BENCH_REDIS_URL to another database", opt.DB, strings.Join(servers, ", "))
	}
	for _, state := range []string{"pending", "active", "scheduled", "retry"} {
		key := "asynq:{" + tasks.QueueEmail + "}:" + state
		n, err := rdb.Exists(ctx, key).Result()
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		if n > 0 {
			return fmt.Errorf("redis db %d already has %s email tasks (%s): they belong to another instance; "+
				"set BENCH_REDIS_URL to another database", opt.DB, state, key)
		}
	}
	return nil
}

// enqueue inserts n QUEUED emails to the bench representative, as
// send-email would, and enqueues one email:send task per row.
func enqueue(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("enqueue", flag.ExitOnError)
	n := fs.Int("n", 1000, "emails")
	_ = fs.Parse(args)
	store, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	camp, err := store.CampaignBySlug(ctx, Slug)
	if err != nil {
		return fmt.Errorf("bench campaign: %w", err)
	}
	opt, err := redisOptions()
	if err != nil {
		return err
	}
	queue := asynq.NewClient(asynqconn.FromRedis(opt))
	defer queue.Close()
	const batch = 500
	for done := 0; done < *n; {
		rows := make([]storage.CampaignEmail, min(batch, *n-done))
		for i := range rows {
			k := done + i
			rows[i] = storage.CampaignEmail{CampaignID: camp.ID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
				SenderName: fmt.Sprintf("Sender %d", k), SenderEmail: fmt.Sprintf("sender%d@bench.invalid", k),
				PostalCode: PostalCode, RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
				RecipientTitle: "MP", RecipientDistrict: "Edmonton Centre", RecipientLevel: storage.LevelFederal,
				RecipientEmail: RepEmail, Subject: camp.EmailSubject, Body: camp.EmailBody}
		}
		stored, err := store.InsertEmails(ctx, rows)
		if err != nil {
			return err
		}
		for _, e := range stored {
			task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: e.ID})
			if err != nil {
				return err
			}
			if _, err := queue.EnqueueContext(ctx, task); err != nil {
				return fmt.Errorf("enqueue email %d: %w", e.ID, err)
			}
		}
		done += len(rows)
	}
	fmt.Println(*n)
	return nil
}

// waitSent waits until the bench campaign has n more SENT emails than
// -before, then prints: sent, seconds between the first and the last
// sent_at, and emails/s over that span (the worker's start-up excluded).
func waitSent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("wait-sent", flag.ExitOnError)
	n := fs.Int("n", 1000, "emails to wait for")
	since := fs.String("since", "", "count rows created after this RFC 3339 time")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after")
	_ = fs.Parse(args)
	store, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	after := time.Time{}
	if *since != "" {
		if after, err = time.Parse(time.RFC3339Nano, *since); err != nil {
			return fmt.Errorf("-since: %w", err)
		}
	}
	deadline := time.Now().Add(*timeout)
	for {
		var sent, failed int
		var first, last *time.Time
		err := store.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE e.status = 'SENT'),
				count(*) FILTER (WHERE e.status = 'FAILED'), min(e.sent_at), max(e.sent_at)
			FROM campaign_emails e JOIN campaigns c ON c.id = e.campaign_id
			WHERE c.slug = $1 AND e.method = 'SMTP' AND e.created_at > $2`, Slug, after).
			Scan(&sent, &failed, &first, &last)
		if err != nil {
			return err
		}
		if failed > 0 {
			return fmt.Errorf("%d emails FAILED (is the SMTP server up?)", failed)
		}
		if sent >= *n {
			span := last.Sub(*first).Seconds()
			rate := math.Inf(1)
			if span > 0 {
				rate = float64(sent-1) / span
			}
			fmt.Printf("%d %.3f %.0f\n", sent, span, rate)
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out with %d of %d emails SENT", sent, *n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dropQueued deletes the tasks of the bench database's QUEUED rows (the
// send-email benchmark leaves one per accepted request, with no worker
// running) and marks those rows FAILED, so nothing is sent later.
func dropQueued(ctx context.Context) error {
	store, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	opt, err := redisOptions()
	if err != nil {
		return err
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	rows, err := store.Pool.Query(ctx, `UPDATE campaign_emails SET status = 'FAILED', last_error = 'bench: not sent',
		updated_at = now() WHERE status = 'QUEUED' RETURNING id`)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	deleted := 0
	for _, id := range ids {
		err := inspector.DeleteTask(tasks.QueueEmail, tasks.SendEmailTaskID(id))
		switch {
		case err == nil:
			deleted++
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			return fmt.Errorf("delete task of email %d: %w", id, err)
		}
	}
	fmt.Println(deleted)
	return nil
}

// smtpLoop sends n messages to addr from c goroutines, one connection per
// message as the worker does, with go-mail as the worker uses. It prints
// sent, seconds and messages/s.
func smtpLoop(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("smtp-loop", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:1025", "SMTP server")
	n := fs.Int("n", 1000, "messages")
	c := fs.Int("c", 1, "goroutines")
	_ = fs.Parse(args)
	host, portStr, err := net.SplitHostPort(*addr)
	if err != nil {
		return err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return err
	}
	newClient := func() (*mail.Client, error) {
		return mail.NewClient(host, mail.WithPort(port), mail.WithTLSPolicy(mail.NoTLS),
			mail.WithTimeout(30*time.Second))
	}
	text := strings.NewReplacer("{{representativeName}}", "Jane Federal", "{{district}}", "Edmonton Centre",
		"{{senderName}}", "Sender", "{{senderEmail}}", "sender@bench.invalid", "{{postalCode}}", PostalCode).Replace(body)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *c)
	start := time.Now()
	for range *c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// go-mail clients are not safe for concurrent sends: one per goroutine.
			client, err := newClient()
			if err != nil {
				errs <- err
				return
			}
			for {
				i := next.Add(1)
				if i > int64(*n) {
					return
				}
				msg := mail.NewMsg()
				if err := msg.FromFormat("Bench Organization", "campaigns@bench.invalid"); err != nil {
					errs <- err
					return
				}
				if err := msg.AddToFormat("Jane Federal", RepEmail); err != nil {
					errs <- err
					return
				}
				if err := msg.ReplyToFormat("Sender", fmt.Sprintf("sender%d@bench.invalid", i)); err != nil {
					errs <- err
					return
				}
				msg.Subject("Please fund public transit in T5K2J1, Jane Federal")
				msg.SetMessageIDWithValue(fmt.Sprintf("loop-%d-%d@bench.invalid", start.UnixNano(), i))
				msg.SetDate()
				msg.SetBodyString(mail.TypeTextPlain, text)
				// A new connection per message, as the worker makes.
				if err := client.DialAndSendWithContext(ctx, msg); err != nil {
					errs <- fmt.Errorf("message %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("%d %.3f %.0f\n", *n, secs, float64(*n)/secs)
	return nil
}
