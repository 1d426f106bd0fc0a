package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"changemaker/api"
	"changemaker/api/httpx"
	"changemaker/config"
	"changemaker/internal/asynqconn"
	"changemaker/internal/password"
	"changemaker/internal/queueset"
	"changemaker/scheduler"
	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker"
)

// env is the process's connections, opened once and shared by its parts.
type env struct {
	cfg       config.Config
	log       *slog.Logger
	accessLog *slog.Logger
	store     *storage.Store
	redis     *redis.Client
	asynqOpt  asynq.RedisClientOpt
	inspector *asynq.Inspector
	queue     *asynq.Client
	closers   []func()
	// queueRegisterPeriod is how often the queues process puts the
	// platform's queues back into asynq's set (queueRegisterPeriod's
	// constant; tests shorten it).
	queueRegisterPeriod time.Duration
}

func openEnv(ctx context.Context, cfg config.Config, log *slog.Logger) (*env, error) {
	e := &env{cfg: cfg, log: log, queueRegisterPeriod: queueRegisterPeriod}
	store, err := storage.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, err
	}
	e.store = store
	e.closers = append(e.closers, store.Close)
	ropt, err := storage.RedisOptions(cfg.RedisURL, cfg.RedisPoolSize)
	if err != nil {
		e.close()
		return nil, err
	}
	e.redis = redis.NewClient(ropt)
	e.closers = append(e.closers, func() { e.redis.Close() })
	e.asynqOpt = asynqconn.FromRedis(ropt)
	e.inspector = asynq.NewInspector(e.asynqOpt)
	e.closers = append(e.closers, func() { e.inspector.Close() })
	e.queue = asynq.NewClient(e.asynqOpt)
	e.closers = append(e.closers, func() { e.queue.Close() })
	switch cfg.AccessLog {
	case "off", "":
	case "stdout":
		e.accessLog = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	default:
		f, err := os.OpenFile(cfg.AccessLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("open ACCESS_LOG: %w", err)
		}
		e.accessLog = slog.New(slog.NewJSONHandler(f, nil))
		e.closers = append(e.closers, func() { f.Close() })
	}
	return e, nil
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

func (e *env) apiDeps() api.Deps {
	return api.Deps{Config: e.cfg, Store: e.store, Redis: e.redis, AsynqRedis: e.asynqOpt, Queue: e.queue,
		Inspector: e.inspector, Log: e.log, AccessLog: e.accessLog, Version: version, BcryptCost: password.Cost}
}

// part is one long-running piece of a process. It runs until ctx is done,
// then shuts down gracefully and returns.
type part func(ctx context.Context, e *env) error

// runServers opens the environment and runs parts until ctx ends or one fails.
func runServers(ctx context.Context, cfg config.Config, log *slog.Logger, parts ...part) error {
	e, err := openEnv(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer e.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(parts))
	for _, p := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := p(ctx, e); err != nil {
				errs <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// listenAddr is host:port; an empty host is every interface.
func listenAddr(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }

// serveApp listens on host:port and shuts the app down when ctx ends.
func serveApp(ctx context.Context, e *env, name, host string, port int, app *api.App) error {
	ln, err := net.Listen("tcp", listenAddr(host, port))
	if err != nil {
		app.Close()
		return fmt.Errorf("%s: listen on %s: %w", name, listenAddr(host, port), err)
	}
	e.log.Info("listening", "service", name, "addr", ln.Addr().String(), "port", port)
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	select {
	case err := <-done:
		app.Close()
		return fmt.Errorf("%s: %w", name, err)
	case <-ctx.Done():
	}
	e.log.Info("shutting down", "service", name)
	shutdown := make(chan error, 1)
	go func() { shutdown <- app.Close() }()
	select {
	case err := <-shutdown:
		return err
	case <-time.After(30 * time.Second):
		return fmt.Errorf("%s: shutdown timed out", name)
	}
}

func serveMainAPI(ctx context.Context, e *env) error {
	app, err := api.NewMain(e.apiDeps())
	if err != nil {
		return err
	}
	return serveApp(ctx, e, "api", e.cfg.APIHost, e.cfg.APIPort, app)
}

func serveMediaAPI(ctx context.Context, e *env) error {
	app, err := api.NewMedia(e.apiDeps())
	if err != nil {
		return err
	}
	return serveApp(ctx, e, "media-api", e.cfg.MediaAPIHost, e.cfg.MediaAPIPort, app)
}

// queueRegisterPeriod is how often the queues process puts the platform's
// queues back into asynq's set of queues (see internal/queueset).
const queueRegisterPeriod = 30 * time.Second

func serveQueues(ctx context.Context, e *env) error {
	app, err := api.NewQueues(e.apiDeps())
	if err != nil {
		return err
	}
	// After a Redis wipe, long-running asynq clients never list their queues
	// again: this process does, so the Inspector, the dashboard and the queue
	// metrics find them within a period.
	kctx, cancel := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		queueset.Keep(kctx, e.redis, worker.QueueNames(tasks.QueueWeights()), e.queueRegisterPeriod, e.log)
	}()
	defer func() { cancel(); <-kept }()
	return serveApp(ctx, e, "queues", e.cfg.QueuesHost, e.cfg.QueuesPort, app)
}

// workerPart runs an asynq server on the named queues, with its metrics on
// WORKER_METRICS_PORT (0 disables them).
func workerPart(queueList string, concurrency int) part {
	return func(ctx context.Context, e *env) error {
		queues, err := worker.ParseQueues(queueList)
		if err != nil {
			return usageError{err.Error()}
		}
		if concurrency < 1 {
			return usageError{"--concurrency must be at least 1"}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		metrics := worker.NewMetrics(reg)
		reg.MustRegister(worker.InfoGauge(queues))
		if e.cfg.WorkerMetricsPort > 0 {
			srv := &http.Server{Addr: listenAddr(e.cfg.WorkerMetricsHost, e.cfg.WorkerMetricsPort),
				Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
			go func() {
				if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
					e.log.Warn("worker metrics server stopped", "err", err)
				}
			}()
			defer srv.Close()
		}
		srv := worker.NewServer(e.asynqOpt, worker.ServerOptions{Queues: queues, Concurrency: concurrency,
			ShutdownTimeout: e.cfg.WorkerShutdownTimeout, Log: e.log, TaskCheckInterval: e.cfg.WorkerTaskCheckInterval})
		mux := worker.NewMux(worker.Deps{Config: e.cfg, Store: e.store, Redis: e.redis, Queue: e.queue, Log: e.log,
			Context: ctx}, metrics)
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		e.log.Info("worker running", "queues", worker.QueueNames(queues), "concurrency", concurrency)
		<-ctx.Done()
		srv.Shutdown()
		return nil
	}
}

func runScheduler(ctx context.Context, e *env) error {
	return scheduler.Run(ctx, scheduler.Options{Redis: e.asynqOpt, RedisCli: e.redis, Log: e.log})
}

// runAll migrates, then runs every process type in this one process.
func runAll(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := migrateUp(ctx, cfg, log); err != nil {
		return err
	}
	return runServers(ctx, cfg, log, serveMainAPI, serveMediaAPI, serveQueues,
		workerPart("", cfg.WorkerConcurrency), runScheduler)
}

func migrateUp(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	store, err := storage.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer store.Close()
	applied, err := store.MigrateUp(ctx)
	for _, m := range applied {
		log.Info("migration applied", "version", m.Version, "name", m.Name)
	}
	return err
}

func runMigrate(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	force := len(args) == 2 && args[0] == "force"
	if len(args) != 1 && !force {
		return usageError{"migrate needs one of: up, down, status, force VERSION"}
	}
	var forceTo int
	if force {
		v, err := strconv.Atoi(args[1])
		if err != nil || v < -1 {
			return usageError{fmt.Sprintf("migrate force needs a version number (-1 for none), not %q", args[1])}
		}
		forceTo = v
	}
	store, err := storage.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer store.Close()
	switch args[0] {
	case "up":
		applied, err := store.MigrateUp(ctx)
		for _, m := range applied {
			fmt.Fprintf(out, "applied %04d_%s\n", m.Version, m.Name)
		}
		if err == nil && len(applied) == 0 {
			fmt.Fprintln(out, "up to date")
		}
		return err
	case "down":
		m, err := store.MigrateDown(ctx)
		if m != nil {
			fmt.Fprintf(out, "reverted %04d_%s\n", m.Version, m.Name)
		} else if err == nil {
			fmt.Fprintln(out, "nothing to revert")
		}
		return err
	case "status":
		all, err := store.MigrationStatus(ctx)
		for _, m := range all {
			state := "pending"
			switch {
			case m.Dirty:
				state = "DIRTY (failed part-way; see `migrate up` for what to do)"
			case m.Applied:
				state = "applied"
			}
			fmt.Fprintf(out, "%04d_%-30s %s\n", m.Version, m.Name, state)
		}
		return err
	case "force":
		if err := store.MigrateForce(ctx, forceTo); err != nil {
			return err
		}
		fmt.Fprintf(out, "recorded version %d (nothing was run)\n", forceTo)
		return nil
	}
	return usageError{fmt.Sprintf("unknown migrate command %q", args[0])}
}

func runAdmin(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		return usageError{"admin needs a subcommand: create-user"}
	}
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	email := fs.String("email", "", "the user's email (required)")
	role := fs.String("role", "", "SUPER_ADMIN, INFLUENCE_ADMIN, MAP_ADMIN, USER or TEMP (required)")
	pass := fs.String("password", "", "the password; a strong one is generated and printed when omitted")
	name := fs.String("name", "", "display name")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err.Error()}
	}
	if *email == "" || *role == "" {
		return usageError{"admin create-user needs --email and --role"}
	}
	if !httpx.ValidEmail(*email) {
		return usageError{fmt.Sprintf("--email %q is not an email address", *email)}
	}
	valid := false
	for _, r := range storage.Roles {
		valid = valid || r == *role
	}
	if !valid {
		return usageError{fmt.Sprintf("unknown role %q", *role)}
	}
	generated := false
	if *pass == "" {
		pw, err := password.Generate()
		if err != nil {
			return err
		}
		*pass, generated = pw, true
	} else if p := password.Problem(*pass); p != "" {
		return usageError{"--password " + p}
	}
	hash, err := password.Hash(*pass, password.Cost)
	if err != nil {
		return err
	}
	store, err := storage.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := store.CreateUser(ctx, storage.NewUser{Email: *email, Name: *name, PasswordHash: hash, Role: *role})
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("a user with email %s already exists", *email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created user %d <%s> with role %s\n", u.ID, u.Email, u.Role)
	if generated {
		fmt.Fprintf(out, "password: %s\n(shown once; store it now)\n", *pass)
	}
	return nil
}
