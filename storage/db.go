// Package storage is Postgres access for every process: the pool, migrations,
// domain types and their queries. Redis helpers live here too.
package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Errors callers translate into responses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrOutcomeUnknown is a transaction whose COMMIT failed on the way (the
	// connection broke) and whose fate Postgres could not be asked about: it
	// may have committed.
	ErrOutcomeUnknown = errors.New("transaction outcome unknown")
)

// Store is the Postgres-backed data store.
type Store struct {
	Pool *pgxpool.Pool
}

// Open connects a pool to databaseURL. maxConns <= 0 keeps pgx's default.
func Open(ctx context.Context, databaseURL string, maxConns int32) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open postgres pool: %w", err)
	}
	return &Store{Pool: pool}, nil
}

// Close releases the pool.
func (s *Store) Close() { s.Pool.Close() }

// Ping checks that Postgres answers.
func (s *Store) Ping(ctx context.Context) error { return s.Pool.Ping(ctx) }

// InTx runs fn in a transaction, committing when it returns nil.
func (s *Store) InTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.Pool, fn)
}

// outcomeWait bounds how long txOutcome waits for a COMMIT still running.
const outcomeWait = 30 * time.Second

// txOutcome asks Postgres what became of transaction xid, whose COMMIT
// failed on the client's side: the connection may have broken after
// Postgres received it. A COMMIT still running (its WAL flush, say) is
// waited for. It runs even when ctx is cancelled: the caller must learn the
// answer to clean up after itself.
func (s *Store) txOutcome(ctx context.Context, xid int64) (committed bool, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeWait)
	defer cancel()
	for {
		var status *string
		if err := s.Pool.QueryRow(ctx, `SELECT txid_status($1)`, xid).Scan(&status); err != nil {
			return false, fmt.Errorf("txid_status(%d): %w", xid, err)
		}
		switch {
		case status == nil:
			return false, fmt.Errorf("txid_status(%d): too old to know", xid)
		case *status == "committed":
			return true, nil
		case *status == "aborted":
			return false, nil
		}
		select { // in progress
		case <-ctx.Done():
			return false, fmt.Errorf("txid_status(%d): still in progress: %w", xid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// isUniqueViolation reports whether err is Postgres' unique_violation.
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// notFound turns pgx.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
