// Package queueset keeps asynq's set of known queues filled.
//
// asynq lists queues from one Redis set (base.AllQueues, "asynq:queues" in
// asynq v0.26.0). A client adds a queue to it on its first enqueue to that
// queue and then remembers having done so, for the life of the process. After
// a Redis wipe (FLUSHALL, a failover to an empty replica) long-running clients
// therefore never add their queues again: workers keep serving them, but the
// Inspector, the queue dashboard and the queue metrics answer "queue not
// found" until every process restarts. The `queues` process runs Keep, which
// adds the platform's queues again every period.
package queueset

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// Key is the Redis set asynq lists its queues from (base.AllQueues in asynq
// v0.26.0, an internal package). The package's test reads the queues back
// through asynq's Inspector, so a rename in a later asynq fails it.
const Key = "asynq:queues"

// Timeout bounds one SADD.
const Timeout = 5 * time.Second

// Add puts names into asynq's set of queues. Adding a queue that is already
// there changes nothing.
func Add(ctx context.Context, rdb redis.UniversalClient, names []string) error {
	if len(names) == 0 {
		return nil
	}
	members := make([]any, len(names))
	for i, n := range names {
		members[i] = n
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	return rdb.SAdd(ctx, Key, members...).Err()
}

// Keep adds names to asynq's set of queues at once and then every period
// until ctx ends. A failure is logged (once until the next success) and
// tried again at the next period.
func Keep(ctx context.Context, rdb redis.UniversalClient, names []string, period time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	failing := false
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		err := Add(ctx, rdb, names)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			log.Warn("cannot register the queues in Redis; trying again", "key", Key, "every", period, "err", err)
			failing = true
		case err == nil && failing:
			log.Info("queues registered in Redis again", "key", Key)
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
