// Command killnine is the kill -9 benchmark of scripts/bench-killnine.sh: it
// queues N campaign emails (rows QUEUED, one email:send task each, as
// send-email leaves them), runs one email worker process (the changemaker
// binary, `worker --queues email`), kills it with SIGKILL K times while it
// sends (each kill a random moment, up to -jitter, after its delivery count
// is reached) and restarts it, enqueues the email sweep every few seconds (as the
// scheduler does), and counts what an in-process SMTP server received:
//
//   - lost: rows never delivered (must be 0);
//   - duplicates: deliveries beyond the first of a Message-ID;
//   - in-flight: email:send tasks active at each kill;
//   - the window: from the server's 250 to the end of DATA to the commit of
//     the row's SENT (its updated_at), p50 and p99 over the rows.
//
// It prints a markdown table and exits 1 when a target is missed (lost > 0,
// or duplicates over 10% of in-flight), 2 when it cannot run.
//
// DATABASE_URL (migrated, empty) and REDIS_URL name the bench's own database
// and Redis; -bin is the changemaker binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/bench/internal/smtpsink"
	"changemaker/internal/asynqconn"
	"changemaker/storage"
	"changemaker/tasks"
)

func main() {
	bin := flag.String("bin", "bin/changemaker", "the changemaker binary")
	n := flag.Int("n", 1000, "emails")
	kills := flag.Int("kills", 3, "SIGKILLs of the worker")
	jitter := flag.Duration("jitter", 200*time.Millisecond, "each kill comes a random time up to this long after its delivery count is reached")
	conc := flag.Int("concurrency", 10, "the worker's --concurrency")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after")
	logPath := flag.String("log", "killnine-worker.log", "the worker's output")
	flag.Parse()
	code, err := run(context.Background(), *bin, *n, *kills, *conc, *jitter, *timeout, *logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "killnine:", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(ctx context.Context, bin string, n, kills, conc int, jitter, timeout time.Duration, logPath string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	store, err := storage.Open(ctx, os.Getenv("DATABASE_URL"), 4)
	if err != nil {
		return 0, err
	}
	defer store.Close()
	ropt, err := storage.RedisOptions(os.Getenv("REDIS_URL"), 8)
	if err != nil {
		return 0, err
	}
	redisOpt := asynqconn.FromRedis(ropt)
	queue := asynq.NewClient(redisOpt)
	defer queue.Close()
	inspector := asynq.NewInspector(redisOpt)
	defer inspector.Close()

	box, err := smtpsink.Start(30 * time.Second)
	if err != nil {
		return 0, err
	}
	defer box.Close()
	port := box.Port

	ids, err := setup(ctx, store, queue, n)
	if err != nil {
		return 0, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	start := func() (*exec.Cmd, error) {
		cmd := exec.Command(bin, "worker", "--queues", tasks.QueueEmail, "--concurrency", strconv.Itoa(conc))
		cmd.Env = append(os.Environ(), "SMTP_HOST=127.0.0.1", "SMTP_PORT="+strconv.Itoa(port), "SMTP_TLS=none",
			"SMTP_FROM=campaigns@bench.invalid", "SMTP_FROM_NAME=Bench Organization", "WORKER_METRICS_PORT=0")
		cmd.Stdout, cmd.Stderr = logf, logf
		return cmd, cmd.Start()
	}
	worker, err := start()
	if err != nil {
		return 0, fmt.Errorf("start the worker: %w", err)
	}
	defer func() { _ = worker.Process.Kill(); _ = worker.Wait() }()

	// The scheduler's part: the sweep, more often than its minute so the run
	// stays short. Rows untouched for 30 s whose task is gone come back.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-sweepCtx.Done():
				return
			case <-t.C:
				task, _ := tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 30, Limit: 500})
				_, _ = queue.EnqueueContext(sweepCtx, task)
			}
		}
	}()

	var inFlight []int
	counted := map[string]bool{} // a killed worker's tasks stay active until their lease runs out
	began := time.Now()
	for k := 1; k <= kills; k++ {
		at := n * k / (kills + 1)
		for box.Count() < at {
			if err := ctx.Err(); err != nil {
				return 0, fmt.Errorf("waiting for %d deliveries before kill %d: %w", at, k, err)
			}
			time.Sleep(2 * time.Millisecond)
		}
		// Kill at a random moment after that delivery, not right after its
		// 250 (inside its window): the kill then lands where a real crash
		// would, anywhere in the sends in flight.
		time.Sleep(rand.N(jitter))
		active, err := inspector.ListActiveTasks(tasks.QueueEmail, asynq.PageSize(1000))
		if err != nil {
			return 0, fmt.Errorf("list active tasks: %w", err)
		}
		sends := 0
		for _, a := range active {
			if a.Type == tasks.TypeSendEmail && !counted[a.ID] {
				counted[a.ID] = true
				sends++
			}
		}
		if err := worker.Process.Signal(syscall.SIGKILL); err != nil {
			return 0, err
		}
		_ = worker.Wait()
		inFlight = append(inFlight, sends)
		fmt.Fprintf(os.Stderr, "kill %d after %d deliveries: %d send tasks active\n", k, at, sends)
		if worker, err = start(); err != nil {
			return 0, fmt.Errorf("restart the worker: %w", err)
		}
	}

	// Wait for every row to be SENT (or the deadline).
	for {
		left, err := queued(ctx, store, ids)
		if err != nil {
			return 0, err
		}
		if left == 0 {
			break
		}
		if ctx.Err() != nil {
			fmt.Fprintf(os.Stderr, "deadline: %d rows not SENT\n", left)
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(began)
	time.Sleep(2 * time.Second) // a straggler's late second copy still counts
	stopSweep()

	firstAt := map[string]time.Time{}
	dups := 0
	for _, d := range box.Deliveries() {
		if _, ok := firstAt[d.MessageID]; !ok {
			firstAt[d.MessageID] = d.At
		} else {
			dups++
		}
	}
	lost := 0
	var windows []time.Duration
	for _, id := range ids {
		e, err := store.EmailByID(context.Background(), id)
		if err != nil {
			return 0, err
		}
		at, delivered := firstAt[e.MessageID]
		if e.Status != storage.EmailSent || !delivered {
			lost++
			continue
		}
		if box.Copies(e.MessageID) == 1 {
			// The last 250 of this message to its commit.
			windows = append(windows, e.UpdatedAt.Sub(at))
		}
	}
	sort.Slice(windows, func(i, j int) bool { return windows[i] < windows[j] })
	pct := func(p float64) time.Duration {
		if len(windows) == 0 {
			return 0
		}
		return windows[min(len(windows)-1, int(p*float64(len(windows))))]
	}
	total := 0
	for _, f := range inFlight {
		total += f
	}
	code := 0
	verdict := "met"
	if lost > 0 || float64(dups) > 0.10*float64(total) {
		code, verdict = 1, "NOT met"
	}
	fmt.Printf("| emails | kills | in-flight at each kill | lost | duplicates | duplicates / in-flight | window p50 | window p99 | run |\n")
	fmt.Printf("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	ratio := "—"
	if total > 0 {
		ratio = fmt.Sprintf("%.0f%%", 100*float64(dups)/float64(total))
	}
	fmt.Printf("| %d | %d | %v (total %d) | **%d** | **%d** | %s | %s | %s | %.0f s |\n", n, kills, inFlight, total, lost,
		dups, ratio, pct(0.50).Round(10*time.Microsecond), pct(0.99).Round(10*time.Microsecond), elapsed.Seconds())
	fmt.Printf("\nTarget (lost 0, duplicates at most 10%% of in-flight): **%s**. Window: the SMTP server's 250 to the "+
		"end of DATA to the row's SENT commit, over the %d rows delivered once.\n", verdict, len(windows))
	return code, nil
}

func setup(ctx context.Context, store *storage.Store, queue *asynq.Client, n int) ([]int64, error) {
	ptr := func(s string) *string { return &s }
	u, err := store.CreateUser(ctx, storage.NewUser{Email: "bench-killnine@bench.invalid", Name: "Bench",
		PasswordHash: "!", Role: storage.RoleInfluenceAdmin})
	if err != nil {
		return nil, fmt.Errorf("create bench user: %w", err)
	}
	active := storage.CampaignActive
	camp, err := store.CreateCampaign(ctx, storage.CampaignFields{Slug: ptr("bench-killnine"),
		Title: ptr("Bench: kill -9"), EmailSubject: ptr("Please fund transit, {{representativeName}}"),
		EmailBody: ptr("Dear {{representativeName}},\n\nPlease fund public transit.\n\n{{senderName}}\n"),
		Status:    &active}, u.ID)
	if err != nil {
		return nil, fmt.Errorf("create bench campaign: %w", err)
	}
	var ids []int64
	for done := 0; done < n; {
		rows := make([]storage.CampaignEmail, min(500, n-done))
		for i := range rows {
			k := done + i
			rows[i] = storage.CampaignEmail{CampaignID: camp.ID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
				SenderName: fmt.Sprintf("Sender %d", k), SenderEmail: fmt.Sprintf("sender%d@bench.invalid", k),
				RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
				RecipientEmail: "mp@bench.invalid", Subject: camp.EmailSubject, Body: camp.EmailBody}
		}
		stored, err := store.InsertEmails(ctx, rows)
		if err != nil {
			return nil, err
		}
		for _, e := range stored {
			task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: e.ID})
			if err != nil {
				return nil, err
			}
			if _, err := queue.EnqueueContext(ctx, task); err != nil {
				return nil, fmt.Errorf("enqueue email %d: %w", e.ID, err)
			}
			ids = append(ids, e.ID)
		}
		done += len(rows)
	}
	return ids, nil
}

func queued(ctx context.Context, store *storage.Store, ids []int64) (int, error) {
	var left int
	err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_emails WHERE id = ANY($1) AND status <> 'SENT'`,
		ids).Scan(&left)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return 0, fmt.Errorf("count unsent rows: %w", err)
	}
	return left, nil
}
