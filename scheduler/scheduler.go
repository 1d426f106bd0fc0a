// Package scheduler enqueues the periodic tasks. Exactly one scheduler should
// run; a Redis lease makes a second one wait on standby, so running two (for
// failover) never enqueues twice.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"changemaker/internal/asynqlog"
	"changemaker/tasks"
)

// Entry is one periodic task: a cron spec and the task it enqueues.
type Entry struct {
	Name string
	Spec string
	Task func() (*asynq.Task, error)
}

// Entries is the periodic task table.
func Entries() []Entry {
	return []Entry{
		{
			Name: "purge expired refresh tokens",
			Spec: "17 * * * *", // hourly, off the top of the hour
			Task: func() (*asynq.Task, error) {
				return tasks.NewPurgeRefreshTokens(tasks.PurgeRefreshTokens{GraceHours: 24})
			},
		},
		{
			Name: "sweep queued emails that have no task",
			Spec: "* * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewSweepEmails(tasks.SweepEmails{OlderThanSeconds: 60, Limit: 500})
			},
		},
		{
			Name: "refresh the Represent cache",
			Spec: "41 * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewRepresentRefresh(tasks.RepresentRefresh{Limit: 50})
			},
		},
		{
			Name: "sweep videos left processing with no task",
			Spec: "* * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewMediaSweep(tasks.MediaSweep{OlderThanSeconds: 300, Limit: 200})
			},
		},
		{
			Name: "abandon canvass sessions idle for 12 hours",
			Spec: "*/10 * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewAbandonCanvassIdle(tasks.AbandonCanvassIdle{IdleHours: tasks.CanvassSessionIdleHours})
			},
		},
		{
			Name: "plan again geocode jobs whose tasks were lost",
			Spec: "*/5 * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewGeocodeSweep(tasks.GeocodeSweep{OlderThanSeconds: 600, Limit: 100})
			},
		},
		{
			Name: "plan again address imports whose tasks were lost",
			Spec: "*/5 * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewMapImportSweep(tasks.MapImportSweep{OlderThanSeconds: 600, Limit: 50})
			},
		},
		{
			Name: "sweep shift emails that have no task",
			Spec: "* * * * *",
			Task: func() (*asynq.Task, error) {
				return tasks.NewMapShiftEmailSweep(tasks.MapShiftEmailSweep{OlderThanSeconds: 60, Limit: 500})
			},
		},
	}
}

// Options configure Run.
type Options struct {
	Redis     asynq.RedisConnOpt
	RedisCli  redis.UniversalClient // for the leader lease
	Log       *slog.Logger
	LeaseTTL  time.Duration // default 30s
	LeaseKey  string        // default "cm:scheduler:leader"
	OnLeading func()        // called each time this process becomes the leader (tests)
}

// Run holds the leader lease and, while it does, runs the asynq scheduler
// with Entries. It returns when ctx is done.
func Run(ctx context.Context, o Options) error {
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.LeaseKey == "" {
		o.LeaseKey = "cm:scheduler:leader"
	}
	me := leaseToken()
	standby := false // logged once per stay on standby, not every check
	for {
		ok, err := acquireScript.Run(ctx, o.RedisCli, []string{o.LeaseKey}, me, o.LeaseTTL.Milliseconds()).Bool()
		if err != nil && ctx.Err() == nil {
			o.Log.Warn("scheduler lease: redis unavailable; retrying", "err", err)
		}
		switch {
		case ok:
			if standby {
				o.Log.Info("scheduler taking over: the leader's lease ran out", "lease_key", o.LeaseKey)
				standby = false
			}
			if err := lead(ctx, o, me); err != nil {
				return err
			}
		case err == nil && !standby:
			standby = true
			o.Log.Info("scheduler on standby: another scheduler holds the lease; this one takes over if it stops",
				"lease_key", o.LeaseKey, "check_every", o.LeaseTTL/3)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.LeaseTTL / 3):
		}
	}
}

// acquireScript takes the lease when it is free, and keeps it when it is
// already ours (a leader that lost touch with Redis for a moment resumes at
// once instead of waiting out its own lease).
var acquireScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)

var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)

// lead runs the scheduler until ctx ends or the lease is lost.
func lead(ctx context.Context, o Options, me string) error {
	s := asynq.NewScheduler(o.Redis, &asynq.SchedulerOpts{
		Logger:   asynqlog.New(o.Log),
		Location: time.UTC,
		// Each entry's task is built once and enqueued at every tick: its
		// enqueue time (the wait metric's start) is set anew each time.
		PreEnqueueFunc: func(t *asynq.Task, _ []asynq.Option) { tasks.Restamp(t, time.Now()) },
		PostEnqueueFunc: func(info *asynq.TaskInfo, err error) {
			if err != nil && !errors.Is(err, asynq.ErrDuplicateTask) && !errors.Is(err, asynq.ErrTaskIDConflict) {
				o.Log.Warn("scheduler: enqueue failed", "err", err)
			}
		},
	})
	for _, e := range Entries() {
		t, err := e.Task()
		if err != nil {
			return fmt.Errorf("scheduler entry %q: %w", e.Name, err)
		}
		if _, err := s.Register(e.Spec, t); err != nil {
			return fmt.Errorf("register scheduler entry %q: %w", e.Name, err)
		}
	}
	if err := s.Start(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	o.Log.Info("scheduler leading", "entries", len(Entries()))
	if o.OnLeading != nil {
		o.OnLeading()
	}
	defer func() {
		s.Shutdown()
		releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		releaseScript.Run(releaseCtx, o.RedisCli, []string{o.LeaseKey}, me) //nolint:errcheck
	}()
	tick := time.NewTicker(o.LeaseTTL / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			renewCtx, cancel := context.WithTimeout(ctx, o.LeaseTTL/3)
			n, err := renewScript.Run(renewCtx, o.RedisCli, []string{o.LeaseKey}, me, o.LeaseTTL.Milliseconds()).Int()
			cancel()
			if err != nil || n == 0 {
				o.Log.Warn("scheduler lease lost; standing by", "err", err)
				return nil
			}
		}
	}
}

func leaseToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
