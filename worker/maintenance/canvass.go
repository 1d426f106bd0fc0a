package maintenance

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/tasks"
)

// AbandonCanvassIdle marks ABANDONED the ACTIVE canvass sessions with no
// visit or track point for IdleHours. Running it twice changes nothing more.
func (m *Handler) AbandonCanvassIdle(ctx context.Context, t *asynq.Task) error {
	var p tasks.AbandonCanvassIdle
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.IdleHours <= 0 {
		return fmt.Errorf("abandon idle canvass sessions: idle hours %d: %w", p.IdleHours, asynq.SkipRetry)
	}
	n, err := m.Store.AbandonIdleSessions(ctx, time.Now().Add(-time.Duration(p.IdleHours)*time.Hour))
	if err != nil {
		return err
	}
	if n > 0 {
		m.Log.Info("abandoned idle canvass sessions", "sessions", n)
	}
	return nil
}
