package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
)

// observe logs each task, records its metrics and turns a panic into an error
// so one bad task cannot take the worker down.
func observe(log *slog.Logger, m *Metrics) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
			start := time.Now()
			m.observeWait(ctx, t, start)
			id, _ := asynq.GetTaskID(ctx)
			retry, _ := asynq.GetRetryCount(ctx)
			defer func() {
				if r := recover(); r != nil {
					log.Error("task panicked", "type", t.Type(), "task_id", id, "panic", fmt.Sprint(r),
						"stack", string(debug.Stack()))
					err = fmt.Errorf("task %s panicked: %v", t.Type(), r)
				}
				result := "ok"
				switch {
				case errors.Is(err, asynq.SkipRetry):
					result = "skip"
				case err != nil:
					result = "error"
				}
				d := time.Since(start)
				if m != nil {
					m.processed.WithLabelValues(t.Type(), result).Inc()
					m.duration.WithLabelValues(t.Type()).Observe(d.Seconds())
				}
				log.LogAttrs(ctx, slog.LevelInfo, "task",
					slog.String("type", t.Type()), slog.String("task_id", id), slog.Int("retry", retry),
					slog.String("result", result), slog.Float64("duration_ms", float64(d.Microseconds())/1000))
			}()
			return next.ProcessTask(ctx, t)
		})
	}
}
