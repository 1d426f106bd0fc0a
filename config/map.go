package config

import (
	"fmt"
	"time"
)

// MapConfig configures the map core: locations, cuts, tiles and the public map.
type MapConfig struct {
	// MatchRadiusMeters is how close a new location must be to an existing
	// one with the same building address key to join it instead of adding a
	// second building (MAP_MATCH_RADIUS_METERS).
	MatchRadiusMeters int
	// PublicMaxPoints bounds the points GET /api/public/map/locations
	// returns for one bounding box (MAP_PUBLIC_MAX_POINTS).
	PublicMaxPoints int
	// PublicTileMaxAge is the Cache-Control max-age of the public vector
	// tiles (MAP_PUBLIC_TILE_MAX_AGE).
	PublicTileMaxAge time.Duration
}

func loadMap(r *reader) MapConfig {
	c := MapConfig{
		MatchRadiusMeters: r.int("MAP_MATCH_RADIUS_METERS", 50),
		PublicMaxPoints:   r.int("MAP_PUBLIC_MAX_POINTS", 2000),
		PublicTileMaxAge:  r.duration("MAP_PUBLIC_TILE_MAX_AGE", 5*time.Minute),
	}
	if c.PublicMaxPoints < 1 && r.err == nil {
		r.err = fmt.Errorf("MAP_PUBLIC_MAX_POINTS: want at least 1, got %d", c.PublicMaxPoints)
	}
	if c.MatchRadiusMeters > 10_000 && r.err == nil {
		r.err = fmt.Errorf("MAP_MATCH_RADIUS_METERS: want at most 10000, got %d", c.MatchRadiusMeters)
	}
	return c
}
