// Package asynqconn turns the process's parsed Redis options into asynq's
// connection option. It lives apart from storage so that storage imports no
// queue package, and apart from tasks so that tasks imports only asynq and the
// standard library.
package asynqconn

import (
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// FromRedis turns parsed options into asynq's connection option, so asynq and
// the rest of the process talk to the same server and database.
func FromRedis(opt *redis.Options) asynq.RedisClientOpt {
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
