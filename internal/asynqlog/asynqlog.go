// Package asynqlog writes asynq's own log lines (servers, schedulers) to a
// slog.Logger, so they come out as JSON like every other line. It lives apart
// from worker so that the scheduler and test helpers can use it without
// pulling in the fleets (and with them SMTP and ffmpeg code).
package asynqlog

import (
	"fmt"
	"log/slog"
)

// Logger adapts slog to asynq.Logger.
type Logger struct{ log *slog.Logger }

// New returns asynq's logger writing to log.
func New(log *slog.Logger) *Logger {
	return &Logger{log: log.With("component", "asynq")}
}

func (l *Logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l *Logger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l *Logger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l *Logger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }

// Fatal logs at error level. asynq calls it before exiting the process; we
// let it, since asynq only does so when it cannot run at all.
func (l *Logger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...), "fatal", true) }
