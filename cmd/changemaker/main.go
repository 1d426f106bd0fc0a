// Command changemaker is every Changemaker process in one binary:
//
//	changemaker api | media-api | worker [--queues q1,q2] [--concurrency N] |
//	            scheduler | queues | migrate up|down|status|force | all |
//	            admin create-user --email E --role R [--password P] [--name N] | version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"changemaker/config"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage: changemaker <command> [flags]

commands:
  api                      main API (API_PORT, default 4000)
  media-api                media API (MEDIA_API_PORT, default 4100)
  worker [--queues q,...]  task worker; queues: email, represent, geocode, import, media, default
         [--concurrency N]
  scheduler                periodic tasks (run one; a second waits on standby)
  queues                   queue dashboard (QUEUES_PORT, default 8080)
  migrate up|down|status   database migrations
  migrate force VERSION    record VERSION as current after a failed migration (runs nothing)
  all                      everything above in one process (development, small installs)
  admin create-user --email E --role R [--password P] [--name N]
  version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "changemaker: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "changemaker: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "changemaker", version)
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, os.Stderr)
	if len(cfg.Generated) > 0 {
		log.Warn("generated ephemeral secrets for this run; tokens and encrypted settings will not survive a restart "+
			"(set them in the environment, see .env.example)", "variables", strings.Join(cfg.Generated, ","))
	}
	switch cmd {
	case "api":
		return runServers(ctx, cfg, log, serveMainAPI)
	case "media-api":
		return runServers(ctx, cfg, log, serveMediaAPI)
	case "queues":
		return runServers(ctx, cfg, log, serveQueues)
	case "worker":
		fs := flag.NewFlagSet("worker", flag.ContinueOnError)
		queues := fs.String("queues", "", "comma-separated queues to serve (default: all, weighted)")
		concurrency := fs.Int("concurrency", cfg.WorkerConcurrency, "tasks handled at once")
		if err := fs.Parse(args); err != nil {
			return usageError{err.Error()}
		}
		return runServers(ctx, cfg, log, workerPart(*queues, *concurrency))
	case "scheduler":
		return runServers(ctx, cfg, log, runScheduler)
	case "all":
		return runAll(ctx, cfg, log)
	case "migrate":
		return runMigrate(ctx, cfg, args, stdout)
	case "admin":
		return runAdmin(ctx, cfg, args, stdout)
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func newLogger(level string, w io.Writer) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
