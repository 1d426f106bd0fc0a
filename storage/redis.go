package storage

import (
	"fmt"

	"github.com/hibiken/asynq"
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

// AsynqRedis turns parsed options into asynq's connection option, so asynq and
// the rest of the process talk to the same server and database.
func AsynqRedis(opt *redis.Options) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{
		Network:      opt.Network,
		Addr:         opt.Addr,
		Username:     opt.Username,
		Password:     opt.Password,
		DB:           opt.DB,
		DialTimeout:  opt.DialTimeout,
		ReadTimeout:  opt.ReadTimeout,
		WriteTimeout: opt.WriteTimeout,
		PoolSize:     opt.PoolSize,
		TLSConfig:    opt.TLSConfig,
	}
}
