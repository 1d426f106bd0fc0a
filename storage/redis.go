package storage

import (
	"fmt"

	"github.com/redis/go-redis/v9"
)

// RedisOptions parses REDIS_URL (redis://[:password@]host:port/db).
func RedisOptions(redisURL string, poolSize int) (*redis.Options, error) {
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	if poolSize > 0 {
		opt.PoolSize = poolSize
	}
	return opt, nil
}
