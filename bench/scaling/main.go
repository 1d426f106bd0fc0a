// Command scaling is the fleet-scaling benchmark of scripts/bench-scaling.sh:
// for the email fleet and the media fleet, with 1, 2 and 4 worker processes
// (the changemaker binary, `worker --queues email|media`), it queues a batch
// of work, starts the processes, and measures how fast the batch is done:
//
//   - email: -emails campaign emails (rows QUEUED, one email:send task each,
//     as send-email leaves them) delivered to an SMTP server in this process;
//     done when every row is SENT;
//   - media: -videos copies (hard links) of a sample video, registered as
//     scanned videos with one media:probe task each; the probe asks for the
//     thumbnail (real ffprobe and ffmpeg); done when every video is ready.
//
// While a run lasts it reads from /proc the CPU time of the worker processes
// (their ffprobe and ffmpeg children included), of the Postgres backends
// serving the bench's database, of its Redis server (-redis-pid) and of this
// process (the SMTP server), and the machine's busy share, and prints one
// markdown table row per run: throughput, the speed-up over one process,
// and where the CPU went.
//
// DATABASE_URL (migrated, the bench's own) and REDIS_URL name its database
// and Redis; -bin is the changemaker binary. It exits 2 when it cannot run.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"

	"changemaker/internal/asynqconn"
	"changemaker/storage"
	"changemaker/tasks"
)

type options struct {
	bin             string
	emails, videos  int
	workers         []int
	emailConc       int
	mediaConc       int
	mediaRoot       string
	sample          string
	redisPID        int
	fleets          []string
	timeout         time.Duration
	logPath         string
	pgDatabase      string
	smtpDeliveries  atomic.Int64
	smtpAddr        string
	runSeq          int
	firstThroughput map[string]float64
	machineCores    int
}

func main() {
	o := &options{firstThroughput: map[string]float64{}}
	var workers, fleets string
	flag.StringVar(&o.bin, "bin", "bin/changemaker", "the changemaker binary")
	flag.IntVar(&o.emails, "emails", 2000, "emails per email run")
	flag.IntVar(&o.videos, "videos", 40, "videos per media run")
	flag.StringVar(&workers, "workers", "1,2,4", "worker process counts to run")
	flag.StringVar(&fleets, "fleets", "email,media", "fleets to run")
	flag.IntVar(&o.emailConc, "email-concurrency", 10, "--concurrency of each email worker")
	flag.IntVar(&o.mediaConc, "media-concurrency", 2, "--concurrency of each media worker")
	flag.StringVar(&o.mediaRoot, "media-root", "", "MEDIA_ROOT of the media workers (required for media)")
	flag.StringVar(&o.sample, "sample", "", "the sample video, under -media-root (required for media)")
	flag.IntVar(&o.redisPID, "redis-pid", 0, "pid of the bench's redis-server (its CPU is sampled)")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "give up on a run after")
	flag.StringVar(&o.logPath, "log", "scaling-workers.log", "the workers' output")
	flag.Parse()
	for _, w := range strings.Split(workers, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "scaling: bad -workers", workers)
			os.Exit(2)
		}
		o.workers = append(o.workers, n)
	}
	o.fleets = strings.Split(fleets, ",")
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "scaling:", err)
		os.Exit(2)
	}
}

// sink accepts every message and counts it.
type sink struct{ o *options }

func (s *sink) Reset()                               {}
func (s *sink) Logout() error                        { return nil }
func (s *sink) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sink) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sink) AuthPlain(string, string) error       { return nil }
func (s *sink) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.o.smtpDeliveries.Add(1)
	return nil
}

func run(ctx context.Context, o *options) error {
	dbURL := os.Getenv("DATABASE_URL")
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	o.pgDatabase = strings.TrimPrefix(u.Path, "/")
	o.machineCores = cpuCount()
	store, err := storage.Open(ctx, dbURL, 4)
	if err != nil {
		return err
	}
	defer store.Close()
	ropt, err := storage.RedisOptions(os.Getenv("REDIS_URL"), 8)
	if err != nil {
		return err
	}
	queue := asynq.NewClient(asynqconn.FromRedis(ropt))
	defer queue.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sink{o: o}, nil }))
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	srv.ReadTimeout, srv.WriteTimeout = 30*time.Second, 30*time.Second
	go srv.Serve(ln) //nolint:errcheck
	defer srv.Close()
	o.smtpAddr = ln.Addr().String()

	logf, err := os.Create(o.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()

	owner, err := store.CreateUser(ctx, storage.NewUser{Email: fmt.Sprintf("bench-scaling-%d@bench.invalid", time.Now().UnixNano()),
		Name: "Bench", PasswordHash: "!", Role: storage.RoleInfluenceAdmin})
	if err != nil {
		return fmt.Errorf("create bench user: %w", err)
	}

	fmt.Printf("| fleet | worker processes × concurrency | batch | done in | throughput | vs 1 process | CPU cores used: workers | Postgres | Redis | SMTP server | everything else | machine busy |\n")
	fmt.Printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, fleet := range o.fleets {
		for _, k := range o.workers {
			var r result
			switch fleet {
			case "email":
				r, err = o.emailRun(ctx, store, queue, owner.ID, k, logf)
			case "media":
				r, err = o.mediaRun(ctx, store, queue, k, logf)
			default:
				return fmt.Errorf("unknown fleet %q", fleet)
			}
			if err != nil {
				return fmt.Errorf("%s with %d workers: %w", fleet, k, err)
			}
			o.print(r)
		}
	}
	return nil
}

type result struct {
	fleet       string
	workers     int
	concurrency int
	n           int
	unit        string
	elapsed     time.Duration // from the workers' start to the last item done
	cpu         usage
	failed      int // media: videos marked invalid
}

type usage struct {
	workers, postgres, redis, self, machineBusy float64 // cores
}

func (o *options) print(r result) {
	rate := float64(r.n) / r.elapsed.Seconds()
	if _, ok := o.firstThroughput[r.fleet]; !ok {
		o.firstThroughput[r.fleet] = rate
	}
	extra := ""
	if r.failed > 0 {
		extra = fmt.Sprintf(" (%d invalid)", r.failed)
	}
	others := max(0, r.cpu.machineBusy-r.cpu.workers-r.cpu.postgres-r.cpu.redis-r.cpu.self)
	fmt.Printf("| %s | %d × %d | %d %s%s | %.1f s | %.1f %s/s | %.2f× | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f%% of %d cores |\n",
		r.fleet, r.workers, r.concurrency, r.n, r.unit, extra, r.elapsed.Seconds(), rate, r.unit, rate/o.firstThroughput[r.fleet],
		r.cpu.workers, r.cpu.postgres, r.cpu.redis, r.cpu.self, others, 100*r.cpu.machineBusy/float64(o.machineCores), o.machineCores)
}

// proc is a running worker process; exited closes when it has ended.
type proc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startWorkers starts k worker processes of one fleet.
func (o *options) startWorkers(k int, queue string, conc int, logf io.Writer) ([]proc, error) {
	host, port, _ := net.SplitHostPort(o.smtpAddr)
	var procs []proc
	for i := 0; i < k; i++ {
		cmd := exec.Command(o.bin, "worker", "--queues", queue, "--concurrency", strconv.Itoa(conc))
		cmd.Env = append(os.Environ(), "SMTP_HOST="+host, "SMTP_PORT="+port, "SMTP_TLS=none",
			"SMTP_FROM=campaigns@bench.invalid", "SMTP_FROM_NAME=Bench Organization", "WORKER_METRICS_PORT=0",
			"MEDIA_ROOT="+o.mediaRoot, "DB_MAX_CONNS="+strconv.Itoa(conc+2))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			stopWorkers(procs)
			return nil, err
		}
		p := proc{cmd: cmd, exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(p.exited) }()
		procs = append(procs, p)
	}
	return procs, nil
}

// stopWorkers stops the workers as a process manager does (SIGTERM), and
// kills those still running 40 s later.
func stopWorkers(procs []proc) {
	for _, p := range procs {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, p := range procs {
		select {
		case <-p.exited:
		case <-time.After(40 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

// measure starts the workers, waits until done reports the batch finished,
// and returns the time it took and the CPU used meanwhile.
func (o *options) measure(ctx context.Context, k int, queue string, conc int, logf io.Writer,
	done func(context.Context) (bool, error)) (time.Duration, usage, error) {
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	before := o.snapshotCPU(nil)
	start := time.Now()
	procs, err := o.startWorkers(k, queue, conc, logf)
	if err != nil {
		return 0, usage{}, err
	}
	defer stopWorkers(procs)
	var pids []int
	for _, p := range procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	for {
		ok, err := done(ctx)
		if err != nil {
			return 0, usage{}, err
		}
		if ok {
			break
		}
		for _, p := range procs {
			select {
			case <-p.exited:
				return 0, usage{}, fmt.Errorf("a worker exited: %v (see -log)", p.cmd.ProcessState)
			default:
			}
		}
		select {
		case <-ctx.Done():
			return 0, usage{}, fmt.Errorf("not done after %v", o.timeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
	elapsed := time.Since(start)
	after := o.snapshotCPU(pids)
	return elapsed, after.minus(before, elapsed), nil
}

func (o *options) emailRun(ctx context.Context, store *storage.Store, queue *asynq.Client, owner int64, k int, logf io.Writer) (result, error) {
	o.runSeq++
	ptr := func(s string) *string { return &s }
	active := storage.CampaignActive
	slug := fmt.Sprintf("bench-scaling-%d-%d", time.Now().Unix(), o.runSeq)
	camp, err := store.CreateCampaign(ctx, storage.CampaignFields{Slug: ptr(slug), Title: ptr("Bench: scaling " + slug),
		EmailSubject: ptr("Please fund transit, {{representativeName}}"),
		EmailBody:    ptr("Dear {{representativeName}},\n\nPlease fund public transit.\n\n{{senderName}}\n"),
		Status:       &active}, owner)
	if err != nil {
		return result{}, fmt.Errorf("create campaign: %w", err)
	}
	for queued := 0; queued < o.emails; {
		rows := make([]storage.CampaignEmail, min(500, o.emails-queued))
		for i := range rows {
			n := queued + i
			rows[i] = storage.CampaignEmail{CampaignID: camp.ID, Method: storage.MethodSMTP, Status: storage.EmailQueued,
				SenderName: fmt.Sprintf("Sender %d", n), SenderEmail: fmt.Sprintf("sender%d@bench.invalid", n),
				RecipientKind: storage.RecipientRepresentative, RecipientName: "Jane Federal",
				RecipientEmail: "mp@bench.invalid", Subject: camp.EmailSubject, Body: camp.EmailBody}
		}
		stored, err := store.InsertEmails(ctx, rows)
		if err != nil {
			return result{}, err
		}
		for _, e := range stored {
			task, err := tasks.NewSendEmail(tasks.SendEmail{EmailID: e.ID})
			if err != nil {
				return result{}, err
			}
			if _, err := queue.EnqueueContext(ctx, task); err != nil {
				return result{}, fmt.Errorf("enqueue email %d: %w", e.ID, err)
			}
		}
		queued += len(rows)
	}
	elapsed, cpu, err := o.measure(ctx, k, tasks.QueueEmail, o.emailConc, logf, func(ctx context.Context) (bool, error) {
		var left int
		err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM campaign_emails WHERE campaign_id = $1 AND status <> 'SENT'`,
			camp.ID).Scan(&left)
		return left == 0, err
	})
	if err != nil {
		return result{}, err
	}
	return result{fleet: "email", workers: k, concurrency: o.emailConc, n: o.emails, unit: "emails", elapsed: elapsed, cpu: cpu}, nil
}

func (o *options) mediaRun(ctx context.Context, store *storage.Store, queue *asynq.Client, k int, logf io.Writer) (result, error) {
	if o.mediaRoot == "" || o.sample == "" {
		return result{}, errors.New("media runs need -media-root and -sample")
	}
	o.runSeq++
	st, err := os.Stat(o.sample)
	if err != nil {
		return result{}, err
	}
	dir := fmt.Sprintf("bench-%d-%d", time.Now().Unix(), o.runSeq)
	if err := os.MkdirAll(filepath.Join(o.mediaRoot, dir), 0o755); err != nil {
		return result{}, err
	}
	var ids []int64
	for i := 0; i < o.videos; i++ {
		rel := filepath.Join(dir, fmt.Sprintf("video-%03d.mp4", i))
		if err := os.Link(o.sample, filepath.Join(o.mediaRoot, rel)); err != nil {
			return result{}, err
		}
		sum := sha256.Sum256([]byte(rel)) // distinct per row; the workers do not hash
		v, err := store.CreateVideo(ctx, storage.NewVideo{Title: "Bench " + rel, OriginalName: filepath.Base(rel), Path: rel,
			SHA256: hex.EncodeToString(sum[:]), SizeBytes: st.Size(), Container: "mp4", Source: "scan"}, nil)
		if err != nil {
			return result{}, fmt.Errorf("register %s: %w", rel, err)
		}
		task, err := tasks.NewMediaProbe(tasks.MediaProbe{VideoID: v.ID})
		if err != nil {
			return result{}, err
		}
		if _, err := queue.EnqueueContext(ctx, task); err != nil {
			return result{}, fmt.Errorf("enqueue probe %d: %w", v.ID, err)
		}
		ids = append(ids, v.ID)
	}
	elapsed, cpu, err := o.measure(ctx, k, tasks.QueueMedia, o.mediaConc, logf, func(ctx context.Context) (bool, error) {
		var left int
		err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM media_videos WHERE id = ANY($1) AND status = 'processing'`,
			ids).Scan(&left)
		return left == 0, err
	})
	if err != nil {
		return result{}, err
	}
	var invalid int
	if err := store.Pool.QueryRow(ctx, `SELECT count(*) FROM media_videos WHERE id = ANY($1) AND status = 'invalid'`,
		ids).Scan(&invalid); err != nil {
		return result{}, err
	}
	return result{fleet: "media", workers: k, concurrency: o.mediaConc, n: o.videos, unit: "videos", elapsed: elapsed,
		cpu: cpu, failed: invalid}, nil
}

// snapshot is CPU time in clock ticks, by part, at one moment.
type snapshot struct {
	workers  float64
	postgres map[int]float64 // backends of the bench's database, by pid
	redis    float64
	self     float64
	busy     float64 // the machine, all cores
}

func (a snapshot) minus(b snapshot, over time.Duration) usage {
	pg := 0.0
	for pid, ticks := range a.postgres {
		pg += ticks - b.postgres[pid] // a backend started during the run counts from 0
	}
	secs := over.Seconds() * 100
	return usage{workers: (a.workers - b.workers) / secs, postgres: pg / secs, redis: (a.redis - b.redis) / secs,
		self: (a.self - b.self) / secs, machineBusy: (a.busy - b.busy) / secs}
}

// snapshotCPU reads the CPU ticks of the worker pids (with their reaped
// children), the Postgres backends of the bench's database, the Redis
// server, this process, and the machine.
func (o *options) snapshotCPU(workerPIDs []int) snapshot {
	s := snapshot{postgres: map[int]float64{}}
	for _, pid := range workerPIDs {
		s.workers += procTicks(pid, true)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !bytes.HasPrefix(cmdline, []byte("postgres: ")) {
			continue
		}
		// "postgres: [CLUSTER: ]USER DATABASE HOST(PORT) STATE" (Debian
		// names the cluster, "15/main:").
		f := strings.Fields(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		if slices.Contains(f, o.pgDatabase) {
			s.postgres[pid] = procTicks(pid, false)
		}
	}
	if o.redisPID > 0 {
		s.redis = procTicks(o.redisPID, false)
	}
	s.self = procTicks(os.Getpid(), false)
	s.busy = machineBusyTicks()
	return s
}

// procTicks is utime+stime of pid (plus cutime+cstime, its reaped
// children, when children is set), in clock ticks.
func procTicks(pid int, children bool) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte(") "))
	if !ok {
		return 0
	}
	f := strings.Fields(string(rest))
	// rest starts at field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return 0
	}
	sum := 0.0
	n := 2
	if children {
		n = 4
	}
	for i := 0; i < n; i++ {
		v, _ := strconv.ParseFloat(f[11+i], 64)
		sum += v
	}
	return sum
}

// machineBusyTicks is the machine's non-idle CPU time, all cores, in ticks.
func machineBusyTicks() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	total := 0.0
	idle := 0.0
	for i, v := range f[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest and guest_nice are already in user and nice
			break
		}
		total += x
		if i == 3 || i == 4 { // idle, iowait
			idle += x
		}
	}
	return total - idle
}

func cpuCount() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 1
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "cpu") && len(line) > 3 && line[3] >= '0' && line[3] <= '9' {
			n++
		}
	}
	return max(n, 1)
}
