package httpx

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"changemaker/storage"
)

// SettingsReader reads the site settings; storage.Store implements it.
type SettingsReader interface {
	GetSettings(ctx context.Context) (storage.Settings, error)
}

// FeatureSwitch enforces one of the settings' feature toggles
// (enableInfluence, enableMedia) on a feature's public routes. Admin routes do
// not use it, so organizers can prepare content while the public side is off.
//
// It keeps the switch for TTL, so a busy public page costs no extra query:
// turning the feature off or on takes effect within TTL on every API
// process. With TTL 0 every request reads the settings.
type FeatureSwitch struct {
	Settings SettingsReader
	Feature  string                      // for logs and the error message, e.g. "campaigns"
	On       func(storage.Settings) bool // picks the toggle
	TTL      time.Duration
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now

	state     atomic.Pointer[switchState]
	refreshMu sync.Mutex
}

type switchState struct {
	on    bool
	until time.Time
}

func (s *FeatureSwitch) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Enabled reports whether the feature's public routes are on. When the
// settings cannot be read it keeps the last known answer, and without one it
// lets requests through: the handlers then meet the same database and fail on
// their own terms, rather than an outage hiding every campaign as "disabled".
func (s *FeatureSwitch) Enabled(ctx context.Context) bool {
	if s.TTL <= 0 {
		on, err := s.read(ctx)
		if err != nil {
			s.Log.Warn("read a feature switch; leaving it on", "feature", s.Feature, "err", err)
			return true
		}
		return on
	}
	cur := s.state.Load()
	if cur != nil && s.now().Before(cur.until) {
		return cur.on
	}
	if cur != nil {
		// Stale: one request refreshes; the others keep the old answer meanwhile.
		if !s.refreshMu.TryLock() {
			return cur.on
		}
	} else {
		s.refreshMu.Lock()
	}
	defer s.refreshMu.Unlock()
	if cur = s.state.Load(); cur != nil && s.now().Before(cur.until) {
		return cur.on
	}
	on, err := s.read(ctx)
	if err != nil {
		if cur == nil {
			s.Log.Warn("read a feature switch; leaving it on", "feature", s.Feature, "err", err)
			return true
		}
		s.Log.Warn("read a feature switch; keeping the last answer", "feature", s.Feature, "on", cur.on, "err", err)
		on = cur.on
	}
	s.state.Store(&switchState{on: on, until: s.now().Add(s.TTL)})
	return on
}

func (s *FeatureSwitch) read(ctx context.Context) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	st, err := s.Settings.GetSettings(ctx)
	return s.On(st), err
}

// Require is the middleware for the feature's public routes: 404
// feature_disabled while the switch is off.
func (s *FeatureSwitch) Require() fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !s.Enabled(c.UserContext()) {
			return NewError(http.StatusNotFound, CodeFeatureDisabled, s.Feature+" are turned off on this site")
		}
		return c.Next()
	}
}
