// Command email is the email throughput benchmark of scripts/bench-email.sh
// (docs/benchmarks.md, "Email throughput"). Side by side in one run, against
// an SMTP server in this process (go-smtp, storing nothing, counting
// deliveries by Message-ID) and, with -smtp both or mailpit, against a
// mailpit the script started (storing every message, as the issue measured;
// deliveries counted and timed through its API):
//
//   - the plain loop: one reused SMTP connection, nothing else;
//   - the delivery floor: per message read the row, send it over one reused
//     connection, mark the row SENT (the same UPDATE the worker makes);
//   - one worker process (`changemaker worker --queues email`) at
//     concurrency 1, 10 and 50 — each on both servers, each compared with
//     the plain loop and the floor on the same server — and 1, 2 and 4
//     worker processes at 10 (go-smtp), with the CPU each party used
//     (worker, Postgres, Redis, the SMTP server);
//   - the accept floor (50 goroutines: the same insert and one enqueue) and
//     where the time of the send route goes, step by step, against the route
//     itself (`changemaker api`, wrk at 50 connections);
//   - the waiting time from the route's 202 to the SMTP conversation's start
//     (MAIL FROM) with an idle worker, at WORKER_TASK_CHECK_INTERVAL's
//     default and at asynq's 1 s, and what that polling costs Redis with 4
//     idle workers;
//   - 50,000 sends, with the uncached public campaign page measured (wrk)
//     before and after.
//
// DATABASE_URL (migrated, empty) and REDIS_URL name the bench's own database
// and Redis; -bin is the changemaker binary. It prints markdown.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	gomail "github.com/wneessen/go-mail"
	mailsmtp "github.com/wneessen/go-mail/smtp"

	"changemaker/bench/internal/smtpsink"
	"changemaker/internal/asynqconn"
	"changemaker/storage"
	"changemaker/storage/cachenotify"
	"changemaker/storage/ratelimit"
	"changemaker/tasks"
)

type options struct {
	bin          string
	n            int
	rounds       int
	big          int
	accept       time.Duration
	waitSamples  int
	idle         time.Duration
	apiPort      int
	redisPID     int
	logDir       string
	defaultCheck string
	steps        string
	smtp         string // both, go-smtp or mailpit: the servers of the delivery runs
	mailpitAPI   string
	mailpitSMTP  int
	mailpitPID   int
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "bin/changemaker", "the changemaker binary")
	flag.IntVar(&o.n, "n", 2000, "emails per delivery run")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of the delivery runs (the median is reported)")
	flag.IntVar(&o.big, "big", 50000, "emails of the long run (0 skips it)")
	flag.DurationVar(&o.accept, "accept", 10*time.Second, "length of each accept run")
	flag.IntVar(&o.waitSamples, "wait-samples", 60, "sends of each waiting-time run")
	flag.DurationVar(&o.idle, "idle", 10*time.Second, "length of each idle-polling run")
	flag.IntVar(&o.apiPort, "api-port", 4950, "port of the API the bench starts")
	flag.IntVar(&o.redisPID, "redis-pid", 0, "pid of the bench's Redis server (for its CPU)")
	flag.StringVar(&o.logDir, "logs", ".bench/email", "where the processes' output goes")
	flag.StringVar(&o.defaultCheck, "check-interval", "50ms", "WORKER_TASK_CHECK_INTERVAL's default")
	flag.StringVar(&o.steps, "steps", "delivery,scaling,accept,waiting,polling,long", "which parts to run")
	flag.StringVar(&o.smtp, "smtp", "go-smtp", "the SMTP servers of the delivery runs: both, go-smtp or mailpit")
	flag.StringVar(&o.mailpitAPI, "mailpit-api", "", "mailpit's HTTP API (http://127.0.0.1:port), with -smtp both or mailpit")
	flag.IntVar(&o.mailpitSMTP, "mailpit-smtp", 0, "mailpit's SMTP port")
	flag.IntVar(&o.mailpitPID, "mailpit-pid", 0, "mailpit's pid (for its CPU)")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/email:", err)
		os.Exit(2)
	}
}

type bench struct {
	o        options
	store    *storage.Store
	rdb      *redis.Client
	queue    *asynq.Client
	sink     *smtpsink.Sink
	smtpPort int
	local    *inProcess // the go-smtp server of this process
	targets  []target   // the servers of the delivery runs
	campID   int64
	slug     string
	subject  string
	body     string
	env      []string
	out      io.Writer
}

func run(ctx context.Context, o options) error {
	store, err := storage.Open(ctx, os.Getenv("DATABASE_URL"), 60)
	if err != nil {
		return err
	}
	defer store.Close()
	ropt, err := storage.RedisOptions(os.Getenv("REDIS_URL"), 60)
	if err != nil {
		return err
	}
	rdb := redis.NewClient(ropt)
	defer rdb.Close()
	queue := asynq.NewClient(asynqconn.FromRedis(ropt))
	defer queue.Close()
	if err := os.MkdirAll(o.logDir, 0o755); err != nil {
		return err
	}

	sink, err := smtpsink.Start(60 * time.Second)
	if err != nil {
		return err
	}
	defer sink.Close()

	b := &bench{o: o, store: store, rdb: rdb, queue: queue, sink: sink, smtpPort: sink.Port,
		out: os.Stdout}
	b.local = &inProcess{sink: sink, smtp: b.smtpPort}
	switch o.smtp {
	case "go-smtp":
		b.targets = []target{b.local}
	case "mailpit", "both":
		if o.mailpitAPI == "" || o.mailpitSMTP == 0 {
			return errors.New("-smtp " + o.smtp + " needs -mailpit-api and -mailpit-smtp")
		}
		mp := newMailpit(o.mailpitAPI, o.mailpitSMTP, o.mailpitPID)
		if err := mp.wait(ctx); err != nil {
			return err
		}
		b.targets = []target{mp}
		if o.smtp == "both" {
			b.targets = []target{b.local, mp}
		}
	default:
		return fmt.Errorf("-smtp %q: want both, go-smtp or mailpit", o.smtp)
	}
	b.env = append(os.Environ(), "SMTP_HOST=127.0.0.1", "SMTP_PORT="+strconv.Itoa(b.smtpPort), "SMTP_TLS=none",
		"SMTP_FROM=campaigns@bench.invalid", "SMTP_FROM_NAME=Bench Organization", "WORKER_METRICS_PORT=0",
		"ACCESS_LOG=off", "EMAIL_SEND_RATE_LIMIT=100000000", "API_PORT="+strconv.Itoa(o.apiPort),
		"API_HOST=127.0.0.1", "PUBLIC_CAMPAIGN_CACHE_TTL=0", "LOG_LEVEL=warn")
	if err := b.setup(ctx); err != nil {
		return err
	}
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{{"delivery", b.delivery}, {"scaling", b.scaling}, {"accept", b.acceptPath}, {"waiting", b.waiting},
		{"polling", b.polling}, {"long", b.longRun}}
	for _, step := range steps {
		if !slices.Contains(strings.Split(o.steps, ","), step.name) {
			continue
		}
		if err := step.fn(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

const postal = "T5K2J1"

func (b *bench) setup(ctx context.Context) error {
	ptr := func(s string) *string { return &s }
	u, err := b.store.CreateUser(ctx, storage.NewUser{Email: "bench-email@bench.invalid", Name: "Bench",
		PasswordHash: "!", Role: storage.RoleInfluenceAdmin})
	if err != nil {
		return fmt.Errorf("create bench user: %w", err)
	}
	active, yes := storage.CampaignActive, true
	b.slug = "bench-email"
	camp, err := b.store.CreateCampaign(ctx, storage.CampaignFields{Slug: ptr(b.slug),
		Title: ptr("Bench: email throughput"), EmailSubject: ptr("Please fund transit, {{representativeName}}"),
		EmailBody: ptr("Dear {{representativeName}},\n\nPlease fund public transit.\n\n{{senderName}}\n"),
		Status:    &active, AllowSMTPEmail: &yes}, u.ID)
	if err != nil {
		return fmt.Errorf("create bench campaign: %w", err)
	}
	b.campID, b.subject, b.body = camp.ID, camp.EmailSubject, camp.EmailBody
	return b.store.SavePostalCode(ctx, storage.PostalCode{Code: postal, Status: storage.PostalFound},
		[]storage.Representative{{Key: "mp", Name: "Jane Federal", ElectedOffice: "MP",
			Email: "mp@bench.invalid", GovernmentLevel: storage.LevelFederal}})
}

// rows inserts n QUEUED rows (as send-email writes them) and returns their IDs.
func (b *bench) rows(ctx context.Context, n int) ([]int64, error) {
	var ids []int64
	for done := 0; done < n; {
		rows := make([]storage.CampaignEmail, min(1000, n-done))
		for i := range rows {
			k := done + i
			rows[i] = storage.CampaignEmail{CampaignID: b.campID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
				SenderName: fmt.Sprintf("Sender %d", k), SenderEmail: fmt.Sprintf("sender%d@bench.invalid", k),
				PostalCode: postal, RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
				RecipientTitle: "MP", RecipientEmail: "mp@bench.invalid", Subject: b.subject, Body: b.body}
		}
		stored, err := b.store.InsertEmails(ctx, rows)
		if err != nil {
			return nil, err
		}
		for _, e := range stored {
			ids = append(ids, e.ID)
		}
		done += len(rows)
	}
	return ids, nil
}

func (b *bench) enqueue(ctx context.Context, ids []int64) error {
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for _, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: id})
			if _, err := b.queue.EnqueueContext(ctx, task); err != nil {
				firstErr.CompareAndSwap(nil, err)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return err
	}
	return nil
}

// message builds the email of row e as the worker does (go-mail).
func (b *bench) message(e storage.CampaignEmail) *gomail.Msg {
	msg := gomail.NewMsg()
	_ = msg.FromFormat("Bench Organization", "campaigns@bench.invalid")
	_ = msg.AddToFormat(e.RecipientName, e.RecipientEmail)
	_ = msg.ReplyToFormat(e.SenderName, e.SenderEmail)
	msg.Subject(strings.ReplaceAll(e.Subject, "{{representativeName}}", e.RecipientName))
	msg.SetMessageIDWithValue(fmt.Sprintf("campaign-email-%d@bench.invalid", e.ID))
	msg.SetDate()
	msg.SetGenHeader("X-Changemaker-Campaign", b.slug)
	body := strings.NewReplacer("{{representativeName}}", e.RecipientName, "{{senderName}}", e.SenderName).Replace(e.Body)
	msg.SetBodyString(gomail.TypeTextPlain, body)
	return msg
}

func (b *bench) dialSMTP(ctx context.Context, port int) (*mailsmtp.Client, error) {
	c, err := gomail.NewClient("127.0.0.1", gomail.WithPort(port), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithTimeout(30*time.Second))
	if err != nil {
		return nil, err
	}
	return c.DialToSMTPClientWithContext(ctx)
}

// sendOn sends msg on c as the worker's pool does (the envelope addresses
// in angle brackets, as go-mail gives them).
func sendOn(c *mailsmtp.Client, msg *gomail.Msg) error {
	from, err := msg.GetSender(false)
	if err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	rcpts, _ := msg.GetRecipients()
	for _, r := range rcpts {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := msg.WriteTo(w); err != nil {
		return err
	}
	return w.Close()
}

// plainLoop: one reused connection to t, n messages, nothing else.
func (b *bench) plainLoop(ctx context.Context, t target) (float64, error) {
	if err := t.reset(ctx); err != nil {
		return 0, err
	}
	c, err := b.dialSMTP(ctx, t.port())
	if err != nil {
		return 0, err
	}
	defer c.Quit() //nolint:errcheck
	e := storage.CampaignEmail{RecipientName: "Jane Federal", RecipientEmail: "mp@bench.invalid",
		SenderName: "Sender", SenderEmail: "sender@bench.invalid", Subject: b.subject, Body: b.body}
	start := time.Now()
	for i := range b.o.n {
		e.ID = int64(-1 - i)
		if err := sendOn(c, b.message(e)); err != nil {
			return 0, err
		}
	}
	rate := float64(b.o.n) / time.Since(start).Seconds()
	return rate, b.checkAll(ctx, t, b.o.n)
}

// checkAll makes sure t holds the n messages just sent, once each.
func (b *bench) checkAll(ctx context.Context, t target, n int) error {
	if err := awaitDelivered(ctx, t, n, time.Now().Add(time.Minute)); err != nil {
		return err
	}
	if _, _, dups, err := t.span(ctx); err != nil {
		return err
	} else if dups > 0 {
		fmt.Fprintf(os.Stderr, "warning: %s: %d duplicate deliveries\n", t.name(), dups)
	}
	return nil
}

// deliveryFloor: per message read the row, send it over one reused
// connection to t, mark it SENT.
func (b *bench) deliveryFloor(ctx context.Context, t target) (float64, error) {
	ids, err := b.rows(ctx, b.o.n)
	if err != nil {
		return 0, err
	}
	if err := t.reset(ctx); err != nil {
		return 0, err
	}
	c, err := b.dialSMTP(ctx, t.port())
	if err != nil {
		return 0, err
	}
	defer c.Quit() //nolint:errcheck
	start := time.Now()
	for _, id := range ids {
		e, err := b.store.EmailByID(ctx, id)
		if err != nil {
			return 0, err
		}
		if err := sendOn(c, b.message(e)); err != nil {
			return 0, err
		}
		if _, err := b.store.MarkEmailSent(ctx, id, fmt.Sprintf("<campaign-email-%d@bench.invalid>", id), time.Now()); err != nil {
			return 0, err
		}
	}
	rate := float64(len(ids)) / time.Since(start).Seconds()
	return rate, b.checkAll(ctx, t, len(ids))
}

// cpu is the CPU time (user+system) of processes, read from /proc.
func cpuOf(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(raw)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		sy, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(u+sy) * 10 * time.Millisecond // USER_HZ 100
	}
	return total
}

// postgresPIDs are the backends serving the bench's database.
func (b *bench) postgresPIDs(ctx context.Context) []int {
	rows, err := b.store.Pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var p int
		if rows.Scan(&p) == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type usage struct{ worker, postgres, redis, smtp float64 } // cores

type proc struct {
	cmd *exec.Cmd
	log *os.File
}

func (b *bench) start(name string, extraEnv []string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(filepath.Join(b.o.logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.o.bin, args...)
	cmd.Env = append(append([]string{}, b.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	return &proc{cmd: cmd, log: logf}, nil
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.log.Close()
}

// workerRun queues n emails, then starts workers processes at concurrency
// conc, sending to t, and times the deliveries from the first to the last
// (as t received them).
func (b *bench) workerRun(ctx context.Context, t target, workers, conc int) (float64, usage, error) {
	ids, err := b.rows(ctx, b.o.n)
	if err != nil {
		return 0, usage{}, err
	}
	if err := b.enqueue(ctx, ids); err != nil {
		return 0, usage{}, err
	}
	if err := t.reset(ctx); err != nil {
		return 0, usage{}, err
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for w := range workers {
		p, err := b.start(fmt.Sprintf("worker-%d", w), []string{"SMTP_PORT=" + strconv.Itoa(t.port())}, "worker",
			"--queues", tasks.QueueEmail, "--concurrency", strconv.Itoa(conc))
		if err != nil {
			return 0, usage{}, err
		}
		procs = append(procs, p)
	}
	// CPU from the first delivery on (the start-up is not the steady state).
	deadline := time.Now().Add(10 * time.Minute)
	if err := awaitDelivered(ctx, t, 1, deadline); err != nil {
		return 0, usage{}, fmt.Errorf("%d workers at %d: %w", workers, conc, err)
	}
	var wpids []int
	for _, p := range procs {
		wpids = append(wpids, p.cmd.Process.Pid)
	}
	pg := b.postgresPIDs(ctx)
	w0, p0, r0, s0, t0 := cpuOf(wpids), cpuOf(pg), cpuOf([]int{b.o.redisPID}), t.cpu(), time.Now()
	if err := awaitDelivered(ctx, t, len(ids), deadline); err != nil {
		return 0, usage{}, fmt.Errorf("%d workers at %d: %w", workers, conc, err)
	}
	el := time.Since(t0).Seconds()
	u := usage{worker: (cpuOf(wpids) - w0).Seconds() / el, postgres: (cpuOf(pg) - p0).Seconds() / el,
		redis: (cpuOf([]int{b.o.redisPID}) - r0).Seconds() / el, smtp: (t.cpu() - s0).Seconds() / el}
	first, last, dups, err := t.span(ctx)
	if err != nil {
		return 0, usage{}, err
	}
	if dups > 0 {
		fmt.Fprintf(os.Stderr, "warning: %s: %d duplicate deliveries\n", t.name(), dups)
	}
	return float64(len(ids)-1) / last.Sub(first).Seconds(), u, nil
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func loadavg() string {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func (b *bench) delivery(ctx context.Context) error {
	var names []string
	for _, t := range b.targets {
		names = append(names, t.name())
	}
	fmt.Fprintf(os.Stderr, "delivery (%s): plain loop, floor, one worker at 1, 10, 50\n", strings.Join(names, ", "))
	type res struct {
		xs []float64
		u  []usage
	}
	whats := []string{"plain Go loop, one SMTP connection reused",
		"delivery floor: read the row, send (one reused connection), mark it SENT",
		"one worker, concurrency 1", "one worker, concurrency 10", "one worker, concurrency 50"}
	results := make([][]*res, len(b.targets)) // [target][what]
	for i := range results {
		for range whats {
			results[i] = append(results[i], &res{})
		}
	}
	l0 := loadavg()
	// Each round measures every server in turn, so all meet the same
	// moments of a shared machine.
	for r := range b.o.rounds {
		for ti, t := range b.targets {
			fmt.Fprintf(os.Stderr, "  round %d, %s (load %s)\n", r+1, t.name(), loadavg())
			x, err := b.plainLoop(ctx, t)
			if err != nil {
				return err
			}
			results[ti][0].xs = append(results[ti][0].xs, x)
			if x, err = b.deliveryFloor(ctx, t); err != nil {
				return err
			}
			results[ti][1].xs = append(results[ti][1].xs, x)
			for i, conc := range []int{1, 10, 50} {
				x, u, err := b.workerRun(ctx, t, 1, conc)
				if err != nil {
					return err
				}
				results[ti][2+i].xs = append(results[ti][2+i].xs, x)
				results[ti][2+i].u = append(results[ti][2+i].u, u)
			}
		}
	}
	b.printf("### Delivery (%d emails per run, median of %d rounds)\n\n", b.o.n, b.o.rounds)
	b.printf("Each server's percentages are of its own plain loop and floor, measured in the same run.\n\n")
	b.printf("| what |")
	for _, t := range b.targets {
		b.printf(" %s: emails/s | of its floor | of its plain loop |", t.name())
	}
	b.printf("\n| --- |%s\n", strings.Repeat(" ---: | ---: | ---: |", len(b.targets)))
	for wi, what := range whats {
		b.printf("| %s |", what)
		for ti := range b.targets {
			m := median(results[ti][wi].xs)
			floor, plain := median(results[ti][1].xs), median(results[ti][0].xs)
			b.printf(" **%.0f** | %.0f%% | %.0f%% |", m, 100*m/floor, 100*m/plain)
		}
		b.printf("\n")
	}
	b.printf("\n| what | server | CPU: worker / Postgres / Redis / SMTP server (cores) | rounds |\n| --- | --- | --- | --- |\n")
	for wi, what := range whats {
		for ti, t := range b.targets {
			r := results[ti][wi]
			cpu := "—"
			if len(r.u) > 0 {
				u := r.u[len(r.u)/2]
				cpu = fmt.Sprintf("%.2f / %.2f / %.2f / %.2f", u.worker, u.postgres, u.redis, u.smtp)
			}
			var all []string
			for _, x := range r.xs {
				all = append(all, fmt.Sprintf("%.0f", x))
			}
			b.printf("| %s | %s | %s | %s |\n", what, t.name(), cpu, strings.Join(all, ", "))
		}
	}
	b.printf("\nTargets: one worker ≥ 70%% of the floor and ≥ 50%% of the plain loop. The go-smtp server's CPU is the "+
		"bench process's (its polling included); mailpit's is its process's. Load average %s before, %s after.\n\n",
		l0, loadavg())
	return nil
}

func (b *bench) scaling(ctx context.Context) error {
	fmt.Fprintln(os.Stderr, "scaling: 1, 2, 4 workers at concurrency 10")
	l0 := loadavg()
	b.printf("### Scaling (%d emails per run, workers at concurrency 10, %s)\n\n", b.o.n, b.local.name())
	b.printf("| workers | emails/s | CPU: workers / Postgres / Redis / SMTP server (cores) |\n| ---: | ---: | --- |\n")
	for _, w := range []int{1, 2, 4} {
		x, u, err := b.workerRun(ctx, b.local, w, 10)
		if err != nil {
			return err
		}
		b.printf("| %d | **%.0f** | %.2f / %.2f / %.2f / %.2f |\n", w, x, u.worker, u.postgres, u.redis, u.smtp)
	}
	b.printf("\nLoad average %s before, %s after.\n\n", l0, loadavg())
	return nil
}

// dropAccepted deletes the tasks of the emails the accept runs stored: they
// are not this bench's deliveries (their rows stay QUEUED; no sweeper runs
// here). A deletion script still running from before answers BUSY: wait.
func (b *bench) dropAccepted() error {
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		_, err := asynq.NewInspectorFromRedisClient(b.rdb).DeleteAllPendingTasks(tasks.QueueEmail)
		if err == nil || !strings.Contains(err.Error(), "BUSY") || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("drop the accepted tasks: %w", err)
			}
			return nil
		}
	}
}

// acceptPath: the accept floor (per request, and through the route's
// batcher), the route's steps one by one at the same concurrency, and the
// route itself.
func (b *bench) acceptPath(ctx context.Context) error {
	fmt.Fprintln(os.Stderr, "accept: floor, steps, route")
	const conns = 50
	l0 := loadavg()
	limiter := ratelimit.New(b.rdb, 1000)
	// The campaign as the route reads it: from an in-process table dropped
	// by the campaigns' NOTIFY (the route's SEND_CAMPAIGN_CACHE_TTL default).
	listener := cachenotify.NewListener()
	campaigns := cachenotify.NewTable(listener, 10*time.Second, 1000,
		func(c cachenotify.Change, _ string, camp storage.Campaign) bool { return c.Campaign == camp.ID })
	// And the representatives, dropped by the postal code's NOTIFY.
	reps := cachenotify.NewTable(listener, 10*time.Second, 1000,
		func(c cachenotify.Change, code string, _ []storage.Representative) bool { return c.Postal == code })
	lctx, stopListening := context.WithCancel(ctx)
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		listener.Listen(lctx, b.store.Pool, slog.New(slog.NewTextHandler(os.Stderr, nil)), "bench")
	}()
	defer func() { stopListening(); <-listening }()
	for deadline := time.Now().Add(30 * time.Second); !listener.Live(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return errors.New("accept steps: the campaign cache's LISTEN did not connect in 30 s")
		}
	}
	steps := []string{"rate limits (both in one Redis call)", "campaign by slug (in-process cache)",
		"representatives of the postal code (in-process cache)", "insert (one statement)", "enqueue"}
	var stepTime [5]atomic.Int64
	var floorN, stepN atomic.Int64
	row := storage.CampaignEmail{CampaignID: b.campID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
		SenderName: "Chris", SenderEmail: "chris@bench.invalid", PostalCode: postal,
		RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal", RecipientTitle: "MP",
		RecipientEmail: "mp@bench.invalid", Subject: b.subject, Body: b.body}
	// The route writes its rows through a batcher (SEND_INSERT_SLOTS, 4 by
	// default; batches of up to 200 rows): the floor is measured both ways.
	batcher := storage.NewEmailBatcher(b.store, storage.EmailBatcherOptions{Slots: 4, MaxRows: 200, Timeout: 10 * time.Second})
	insertEnqueue := func(ctx context.Context, timed, batched bool) error {
		t := time.Now()
		insert := b.store.InsertEmails
		if batched {
			insert = batcher.Insert
		}
		stored, err := insert(ctx, []storage.CampaignEmail{row})
		if err != nil {
			return err
		}
		if timed {
			stepTime[3].Add(int64(time.Since(t)))
			t = time.Now()
		}
		task, _ := tasks.NewSendEmail(tasks.SendEmail{EmailID: stored[0].ID})
		if _, err := b.queue.EnqueueContext(ctx, task); err != nil {
			return err
		}
		if timed {
			stepTime[4].Add(int64(time.Since(t)))
		}
		return nil
	}
	runFor := func(d time.Duration, fn func(context.Context) error, workers int) error {
		ctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if err := fn(ctx); err != nil && ctx.Err() == nil {
						firstErr.CompareAndSwap(nil, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, ok := firstErr.Load().(error); ok {
			return err
		}
		return nil
	}
	lim := ratelimit.Limit{Name: "bench-send", Max: 100000000, Window: time.Hour}
	stepsFn := func(ctx context.Context) error {
		t := time.Now()
		if _, err := limiter.AllowAll(ctx,
			ratelimit.Hit{Limit: ratelimit.Limit{Name: lim.Name + "-ip", Max: lim.Max, Window: lim.Window}, Key: "127.0.0.1"},
			ratelimit.Hit{Limit: ratelimit.Limit{Name: lim.Name + "-sender", Max: lim.Max, Window: lim.Window},
				Key: "chris@bench.invalid"}); err != nil {
			return err
		}
		stepTime[0].Add(int64(time.Since(t)))
		t = time.Now()
		if _, err := campaigns.Get(ctx, b.slug, func(ctx context.Context) (storage.Campaign, error) {
			return b.store.CampaignBySlug(ctx, b.slug)
		}); err != nil {
			return err
		}
		stepTime[1].Add(int64(time.Since(t)))
		t = time.Now()
		// The postal code itself is read only when it has no representatives.
		if _, err := reps.Get(ctx, postal, func(ctx context.Context) ([]storage.Representative, error) {
			return b.store.RepresentativesFor(ctx, postal)
		}); err != nil {
			return err
		}
		stepTime[2].Add(int64(time.Since(t)))
		if err := insertEnqueue(ctx, true, false); err != nil {
			return err
		}
		stepN.Add(1)
		return nil
	}
	// One at a time first (each step's own cost, round trips included),
	// then 50 at once (as under the route's load).
	if err := runFor(b.o.accept/2, stepsFn, 1); err != nil {
		return fmt.Errorf("accept steps: %w", err)
	}
	var serial [5]float64
	serialN := float64(stepN.Load())
	for i := range stepTime {
		serial[i] = float64(stepTime[i].Swap(0)) / serialN / 1e6
	}
	stepN.Store(0)
	if err := runFor(b.o.accept, stepsFn, conns); err != nil {
		return fmt.Errorf("accept steps: %w", err)
	}

	api, err := b.start("api", nil, "api")
	if err != nil {
		return err
	}
	defer api.stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", b.o.apiPort)
	if err := waitHTTP(base + "/api/health"); err != nil {
		return err
	}
	script := filepath.Join(b.o.logDir, "send.lua")
	body := `{"senderName":"Chris","senderEmail":"chris@bench.invalid","postalCode":"T5K 2J1","recipients":[{"email":"mp@bench.invalid"}]}`
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body)
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		return err
	}
	url := base + "/api/public/campaigns/" + b.slug + "/send-email"
	if _, err := wrk(url, script, "3s", conns); err != nil { // warm-up
		return err
	}
	// Floor and route in turns, so both meet the same moments of a shared
	// machine; the medians are reported.
	floorRun := func(batched bool) (float64, error) {
		floorN.Store(0)
		err := runFor(b.o.accept, func(ctx context.Context) error {
			if err := insertEnqueue(ctx, false, batched); err != nil {
				return err
			}
			floorN.Add(1)
			return nil
		}, conns)
		return float64(floorN.Load()) / b.o.accept.Seconds(), err
	}
	var floors, batchedFloors, routes []float64
	var routeRuns []wrkResult
	for range max(1, b.o.rounds) {
		f, err := floorRun(false)
		if err != nil {
			return fmt.Errorf("accept floor: %w", err)
		}
		bf, err := floorRun(true)
		if err != nil {
			return fmt.Errorf("accept floor, batched: %w", err)
		}
		batchedFloors = append(batchedFloors, bf)
		r, err := wrk(url, script, b.o.accept.String(), conns)
		if err != nil {
			return err
		}
		floors, routes, routeRuns = append(floors, f), append(routes, r.rps), append(routeRuns, r)
		if err := b.dropAccepted(); err != nil { // a round's tasks at a time: one script over millions blocks Redis
			return err
		}
	}
	floor := median(floors)
	route := routeRuns[0]
	for _, r := range routeRuns {
		if r.rps == median(routes) {
			route = r
		}
	}
	fmtAll := func(xs []float64) string {
		var out []string
		for _, x := range xs {
			out = append(out, fmt.Sprintf("%.0f", x))
		}
		return strings.Join(out, ", ")
	}
	b.printf("### Accepting (50 at once, %s each, floor and route in turns, median of %d)\n\n", b.o.accept, len(floors))
	b.printf("| what | accepted/s | p50 | p99 | of the floor | rounds |\n| --- | ---: | ---: | ---: | ---: | --- |\n")
	b.printf("| accept floor: insert (one statement, its commit) + one enqueue, 50 goroutines | **%.0f** | | | 100%% | %s |\n",
		floor, fmtAll(floors))
	b.printf("| the floor with its inserts through the route's batcher (4 slots): requests arriving together share an INSERT and its commit | **%.0f** | | | %.0f%% | %s |\n",
		median(batchedFloors), 100*median(batchedFloors)/floor, fmtAll(batchedFloors))
	b.printf("| `POST /api/public/campaigns/:slug/send-email` (wrk, 50 connections) | **%.0f** | %s | %s | %.0f%% | %s |\n\n",
		route.rps, route.p50, route.p99, 100*route.rps/floor, fmtAll(routes))
	if route.errors != "" {
		b.printf("wrk: %s\n\n", route.errors)
	}
	n := float64(stepN.Load())
	b.printf("Where the route's time goes: its steps done by plain Go, mean per request, one at a time (%.0f/s) "+
		"and 50 at once (%.0f/s):\n\n", serialN/(b.o.accept/2).Seconds(), n/b.o.accept.Seconds())
	b.printf("| step | one at a time | 50 at once |\n| --- | ---: | ---: |\n")
	for i, s := range steps {
		b.printf("| %s | %.2f ms | %.2f ms |\n", s, serial[i], float64(stepTime[i].Load())/n/1e6)
	}
	b.printf("\nLoad average %s before, %s after.\n\n", l0, loadavg())
	if err := b.dropAccepted(); err != nil {
		return err
	}
	return nil
}

type wrkResult struct {
	rps      float64
	p50, p99 string
	errors   string
}

func wrk(url, script, d string, conns int) (wrkResult, error) {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + d, "--latency"}
	if script != "" {
		args = append(args, "-s", script)
	}
	out, err := exec.Command("wrk", append(args, url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	var r wrkResult
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) == 2 && f[0] == "50%":
			r.p50 = f[1]
		case len(f) == 2 && f[0] == "99%":
			r.p99 = f[1]
		case strings.HasPrefix(sc.Text(), "  Non-2xx") || strings.HasPrefix(sc.Text(), "  Socket errors"):
			r.errors += strings.TrimSpace(sc.Text()) + "; "
		}
	}
	return r, nil
}

func waitHTTP(url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New(url + " did not answer 200 in 60 s")
}

var idRe = regexp.MustCompile(`"id":\s*(\d+)`)

// waiting: one worker idle at concurrency 10; sends one at a time, a random
// pause between them, and takes from each 202 to its MAIL FROM.
func (b *bench) waiting(ctx context.Context) error {
	fmt.Fprintln(os.Stderr, "waiting time")
	api, err := b.start("api-wait", nil, "api")
	if err != nil {
		return err
	}
	defer api.stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", b.o.apiPort)
	if err := waitHTTP(base + "/api/health"); err != nil {
		return err
	}
	b.printf("### Waiting time: from the route's 202 to the SMTP conversation's start (MAIL FROM), idle worker\n\n")
	b.printf("| WORKER_TASK_CHECK_INTERVAL | sends | p50 | p95 | max |\n| --- | ---: | ---: | ---: | ---: |\n")
	l0 := loadavg()
	for _, interval := range []string{b.o.defaultCheck, "100ms", "1s"} {
		w, err := b.start("worker-wait", []string{"WORKER_TASK_CHECK_INTERVAL=" + interval}, "worker", "--queues",
			tasks.QueueEmail, "--concurrency", "10")
		if err != nil {
			return err
		}
		if err := b.drain(ctx); err != nil {
			w.stop()
			return err
		}
		var waits []time.Duration
		body := `{"senderName":"Chris","senderEmail":"chris@bench.invalid","postalCode":"T5K 2J1","recipients":[{"email":"mp@bench.invalid"}]}`
		for range b.o.waitSamples {
			time.Sleep(time.Duration(rand.N(300)) * time.Millisecond) // a constituent's own timing
			res, err := http.Post(base+"/api/public/campaigns/"+b.slug+"/send-email", "application/json",
				strings.NewReader(body))
			if err != nil {
				w.stop()
				return err
			}
			got := time.Now()
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			m := idRe.FindSubmatch(raw)
			if res.StatusCode != 202 || m == nil {
				w.stop()
				return fmt.Errorf("send-email = %d %s", res.StatusCode, raw)
			}
			id := fmt.Sprintf("<campaign-email-%s@bench.invalid>", m[1])
			deadline := time.Now().Add(30 * time.Second)
			for {
				at, ok := b.sink.MailAt(id)
				if ok {
					waits = append(waits, at.Sub(got))
					break
				}
				if time.Now().After(deadline) {
					w.stop()
					return fmt.Errorf("email %s not delivered in 30 s", id)
				}
				time.Sleep(time.Millisecond)
			}
		}
		w.stop()
		sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
		pct := func(p float64) time.Duration { return waits[min(len(waits)-1, int(p*float64(len(waits))))] }
		b.printf("| %s | %d | **%s** | **%s** | %s |\n", interval, len(waits), pct(0.5).Round(time.Millisecond),
			pct(0.95).Round(time.Millisecond), waits[len(waits)-1].Round(time.Millisecond))
	}
	b.printf("\nTargets: p50 < 100 ms, p95 < 250 ms. A negative wait cannot happen: the 202 is taken when the client "+
		"has it. Load average %s before, %s after.\n\n", l0, loadavg())
	return nil
}

// drain waits until the email queue is empty and nothing is in flight.
func (b *bench) drain(ctx context.Context) error {
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	deadline := time.Now().Add(15 * time.Minute)
	for time.Now().Before(deadline) {
		qi, err := insp.GetQueueInfo(tasks.QueueEmail)
		if err != nil || (qi.Pending == 0 && qi.Active == 0) {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("the email queue did not drain in 15 minutes")
}

// polling: what idle workers cost Redis, at the default interval and at 1 s.
func (b *bench) polling(ctx context.Context) error {
	fmt.Fprintln(os.Stderr, "idle polling cost")
	b.printf("### What idle polling costs Redis (4 idle worker processes, all queues, %s each)\n\n", b.o.idle)
	b.printf("| WORKER_TASK_CHECK_INTERVAL | Redis commands/s | Redis CPU (%% of a core) |\n| --- | ---: | ---: |\n")
	for _, interval := range []string{b.o.defaultCheck, "100ms", "1s"} {
		var ws []*proc
		for i := range 4 {
			w, err := b.start(fmt.Sprintf("worker-idle-%d", i), []string{"WORKER_TASK_CHECK_INTERVAL=" + interval}, "worker")
			if err != nil {
				return err
			}
			ws = append(ws, w)
		}
		time.Sleep(3 * time.Second) // start-up
		c0, err := b.redisCalls(ctx)
		if err != nil {
			return err
		}
		r0, t0 := cpuOf([]int{b.o.redisPID}), time.Now()
		time.Sleep(b.o.idle)
		c1, err := b.redisCalls(ctx)
		if err != nil {
			return err
		}
		el := time.Since(t0).Seconds()
		cpu := (cpuOf([]int{b.o.redisPID}) - r0).Seconds() / el
		for _, w := range ws {
			w.stop()
		}
		b.printf("| %s | %.0f | %.1f%% |\n", interval, float64(c1-c0)/el, 100*cpu)
	}
	b.printf("\nCommands counted from INFO commandstats (the bench's own INFO calls included: 2 per run).\n\n")
	return nil
}

func (b *bench) redisCalls(ctx context.Context) (int64, error) {
	info, err := b.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, err
	}
	var total int64
	for _, line := range strings.Split(info, "\n") {
		_, rest, ok := strings.Cut(line, ":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		v, _ := strconv.ParseInt(n, 10, 64)
		total += v
	}
	return total, nil
}

// longRun: the uncached public page before and after o.big sends.
func (b *bench) longRun(ctx context.Context) error {
	if b.o.big <= 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "long run: %d sends\n", b.o.big)
	api, err := b.start("api-long", nil, "api")
	if err != nil {
		return err
	}
	defer api.stop()
	base := fmt.Sprintf("http://127.0.0.1:%d", b.o.apiPort)
	if err := waitHTTP(base + "/api/health"); err != nil {
		return err
	}
	page := base + "/api/public/campaigns/" + b.slug
	if _, err := wrk(page, "", "3s", 50); err != nil {
		return err
	}
	before, err := wrk(page, "", "10s", 50)
	if err != nil {
		return err
	}
	l0 := loadavg()
	ids, err := b.rows(ctx, b.o.big)
	if err != nil {
		return err
	}
	if err := b.enqueue(ctx, ids); err != nil {
		return err
	}
	b.sink.Reset()
	w, err := b.start("worker-long", nil, "worker", "--queues", tasks.QueueEmail, "--concurrency", "10")
	if err != nil {
		return err
	}
	t0 := time.Now()
	// The scheduler's sweep folds the counts in every minute; here every 5 s.
	var sweeps int
	for b.sink.Count() < len(ids) {
		if time.Since(t0) > 30*time.Minute {
			w.stop()
			return fmt.Errorf("long run: %d of %d delivered in 30 minutes", b.sink.Count(), len(ids))
		}
		time.Sleep(5 * time.Second)
		if _, err := b.store.ApplyEmailCounts(ctx, 2000); err == nil {
			sweeps++
		}
	}
	el := time.Since(t0)
	w.stop()
	for {
		n, err := b.store.ApplyEmailCounts(ctx, 2000)
		if err != nil {
			return err
		}
		if n < 2000 {
			break
		}
	}
	var count int
	var dead int64
	_ = b.store.Pool.QueryRow(ctx, `SELECT email_count FROM campaigns WHERE id = $1`, b.campID).Scan(&count)
	_ = b.store.Pool.QueryRow(ctx, `SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'campaigns'`).Scan(&dead)
	after, err := wrk(page, "", "10s", 50)
	if err != nil {
		return err
	}
	b.printf("### %d sends, then the uncached public campaign page\n\n", b.o.big)
	b.printf("%d emails delivered by one worker (concurrency 10) in %.0f s (%.0f/s); the campaign's emailCount "+
		"%d afterwards; dead tuples in campaigns: %d.\n\n", len(ids), el.Seconds(), float64(len(ids))/el.Seconds(), count, dead)
	b.printf("| `GET /api/public/campaigns/:slug` (PUBLIC_CAMPAIGN_CACHE_TTL=0, wrk 50 connections, 10 s) | requests/s | p50 | p99 |\n")
	b.printf("| --- | ---: | ---: | ---: |\n")
	b.printf("| before | **%.0f** | %s | %s |\n| after %d sends | **%.0f** | %s | %s |\n\n", before.rps, before.p50,
		before.p99, b.o.big, after.rps, after.p50, after.p99)
	b.printf("Load average %s before the sends, %s after.\n\n", l0, loadavg())
	return nil
}
