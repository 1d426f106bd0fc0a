package config

import (
	"fmt"
	"time"
)

// CanvassConfig configures volunteer shifts and canvassing.
type CanvassConfig struct {
	// SignupRateLimit is how many public shift signups one client may make
	// per SignupRateWindow (MAP_SHIFT_SIGNUP_RATE_LIMIT): the form is public
	// and creates accounts.
	SignupRateLimit  int
	SignupRateWindow time.Duration
	// RateLimit is how many canvassing writes (visits, track batches,
	// sessions) one volunteer may make per RateWindow (MAP_CANVASS_RATE_LIMIT).
	RateLimit  int
	RateWindow time.Duration
	// MaxBatch bounds the visits of one POST /api/map/canvass/visits and the
	// points of one track upload (MAP_CANVASS_MAX_BATCH).
	MaxBatch int
	// RouteMaxStops bounds the doors one route orders, nearest the start
	// first (MAP_ROUTE_MAX_STOPS).
	RouteMaxStops int
}

func loadCanvass(r *reader) CanvassConfig {
	c := CanvassConfig{
		SignupRateLimit:  r.int("MAP_SHIFT_SIGNUP_RATE_LIMIT", 10),
		SignupRateWindow: r.duration("MAP_SHIFT_SIGNUP_RATE_WINDOW", time.Hour),
		RateLimit:        r.int("MAP_CANVASS_RATE_LIMIT", 300),
		RateWindow:       r.duration("MAP_CANVASS_RATE_WINDOW", time.Minute),
		MaxBatch:         r.int("MAP_CANVASS_MAX_BATCH", 500),
		RouteMaxStops:    r.int("MAP_ROUTE_MAX_STOPS", 2000),
	}
	if r.err != nil {
		return c
	}
	switch {
	case c.MaxBatch < 1 || c.MaxBatch > 5000:
		r.err = fmt.Errorf("MAP_CANVASS_MAX_BATCH: want 1 to 5000, got %d", c.MaxBatch)
	case c.RouteMaxStops < 1 || c.RouteMaxStops > 5000:
		r.err = fmt.Errorf("MAP_ROUTE_MAX_STOPS: want 1 to 5000, got %d", c.RouteMaxStops)
	}
	return c
}
