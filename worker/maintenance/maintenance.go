// Package maintenance is the housekeeping fleet: periodic tasks that tidy
// Postgres, served from the default queue.
package maintenance

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
)

// Register routes the maintenance task types to their handlers.
func Register(mux *asynq.ServeMux, d fleet.Deps) {
	h := &Handler{Store: d.Store, Log: d.Log}
	mux.HandleFunc(tasks.TypePurgeRefreshTokens, h.PurgeRefreshTokens)
	mux.HandleFunc(tasks.TypeAbandonCanvassIdle, h.AbandonCanvassIdle)
}

// Handler handles the housekeeping tasks.
type Handler struct {
	Store *storage.Store
	Log   *slog.Logger
}

// PurgeRefreshTokens deletes long-expired refresh tokens. Running it twice
// deletes nothing the second time.
func (m *Handler) PurgeRefreshTokens(ctx context.Context, t *asynq.Task) error {
	var p tasks.PurgeRefreshTokens
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.GraceHours < 0 {
		return fmt.Errorf("purge refresh tokens: negative grace %d: %w", p.GraceHours, asynq.SkipRetry)
	}
	n, err := m.Store.PurgeRefreshTokens(ctx, time.Now().Add(-time.Duration(p.GraceHours)*time.Hour))
	if err != nil {
		return err
	}
	m.Log.Info("purged refresh tokens", "deleted", n)
	return nil
}
