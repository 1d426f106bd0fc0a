// Package storage is Postgres access for every process: the pool, migrations,
// domain types and their queries. Redis helpers live here too.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"changemaker/storage/internal/db"
)

// Errors callers translate into responses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	// ErrOutcomeUnknown is a transaction whose COMMIT failed on the way (the
	// connection broke) and whose fate Postgres could not be asked about: it
	// may have committed.
	ErrOutcomeUnknown = errors.New("transaction outcome unknown")
	// ErrInvalidText is text Postgres cannot store: a NUL character or a
	// byte sequence that is not UTF-8. It came from outside (a client, a
	// file, a remote server), so it is the sender's mistake, not ours.
	ErrInvalidText = errors.New("text Postgres cannot store")
	// ErrUnavailable is Postgres out of reach: it cannot be connected to,
	// is shutting down or restarting, or the connection broke. Trying again
	// later may work.
	ErrUnavailable = errors.New("database unavailable")
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
	return s.inTx(ctx, pgx.TxOptions{}, fn)
}

// inTx is InTx with options. fn's own error is returned as it is: fn runs
// its queries through queries(tx), which translates theirs already.
func (s *Store) inTx(ctx context.Context, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	tx, err := s.Pool.BeginTx(ctx, opts)
	if err != nil {
		return translate(fmt.Errorf("begin transaction: %w", err))
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op; after a failure the error that matters is fn's
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return translate(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// q is the generated queries on the pool.
func (s *Store) q() *db.Queries { return queries(s.Pool) }

// queries is the generated queries on conn (the pool or a transaction),
// with every error they return translated.
func queries(conn db.DBTX) *db.Queries { return db.New(translating{conn}) }

// page reads one page of a list and the list's total in one read-only
// REPEATABLE READ transaction: both see the same snapshot, so the total is
// the number of rows the page was cut from, also on a page past the end.
// conv turns a generated row into a domain value.
func page[R, T any](ctx context.Context, s *Store, what string,
	count func(context.Context, *db.Queries) (int64, error),
	list func(context.Context, *db.Queries) ([]R, error),
	conv func(R) T,
) ([]T, int, error) {
	out := []T{}
	var total int64
	err := s.inTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := queries(tx)
		var err error
		if total, err = count(ctx, q); err != nil {
			return fmt.Errorf("count %s: %w", what, err)
		}
		rows, err := list(ctx, q)
		if err != nil {
			return fmt.Errorf("list %s: %w", what, err)
		}
		for _, r := range rows {
			out = append(out, conv(r))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, int(total), nil
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
		status, err := s.q().TxStatus(ctx, xid)
		if err != nil {
			return false, fmt.Errorf("txid_status(%d): %w", xid, err)
		}
		switch status {
		case "":
			return false, fmt.Errorf("txid_status(%d): too old to know", xid)
		case "committed":
			return true, nil
		case "aborted":
			return false, nil
		}
		select { // in progress
		case <-ctx.Done():
			return false, fmt.Errorf("txid_status(%d): still in progress: %w", xid, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// translate turns what Postgres and pgx report into this package's errors,
// wrapping the original: a unique violation is ErrConflict, text Postgres
// cannot store ErrInvalidText, a server out of reach ErrUnavailable. Every
// query's error passes through it (see translating), so callers, and the
// HTTP layer above them, never look at Postgres error codes.
func translate(err error) error {
	if err == nil || errors.Is(err, pgx.ErrNoRows) || errors.Is(err, ErrConflict) ||
		errors.Is(err, ErrInvalidText) || errors.Is(err, ErrUnavailable) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %w", ErrConflict, err)
		case pgErr.Code == "22021" || pgErr.Code == "22P05": // character_not_in_repertoire, untranslatable_character
			return fmt.Errorf("%w: %w", ErrInvalidText, err)
		case pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03", // shutdown, crash, starting up
			pgErr.Code == "53300",               // too_many_connections: full for now
			strings.HasPrefix(pgErr.Code, "08"): // connection exceptions
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return err
	}
	// A cancelled context is the caller giving up (the client went away),
	// not the server being away; pgx reports it wrapping the network error.
	if errors.Is(err, context.Canceled) {
		return err
	}
	// An expired deadline is Postgres not answering in time: a server that
	// does not answer (connect_timeout), or no pooled connection free before
	// the caller's deadline. Either may pass; the deadline stays in the chain.
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	if errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// translating is a db.DBTX whose errors pass through translate.
type translating struct{ conn db.DBTX }

func (t translating) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	tag, err := t.conn.Exec(ctx, sql, args...)
	return tag, translate(err)
}

func (t translating) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	rows, err := t.conn.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(err)
	}
	return translatingRows{rows}, nil
}

func (t translating) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return translatingRow{t.conn.QueryRow(ctx, sql, args...)}
}

type translatingRow struct{ row pgx.Row }

func (r translatingRow) Scan(dest ...any) error { return translate(r.row.Scan(dest...)) }

// translatingRows translates the two places pgx.Rows report errors.
type translatingRows struct{ pgx.Rows }

func (r translatingRows) Scan(dest ...any) error { return translate(r.Rows.Scan(dest...)) }
func (r translatingRows) Err() error             { return translate(r.Rows.Err()) }

// notFound turns pgx.ErrNoRows into ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

// optText is s as an optional query argument: nil (no filter, or "leave as
// is") when empty.
func optText(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optID is n as an optional query argument: nil when zero.
func optID(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

// int32Ptr narrows an optional int for an integer column.
func int32Ptr(n *int) *int32 {
	if n == nil {
		return nil
	}
	v := int32(*n)
	return &v
}

// convert maps generated rows to domain values; never nil, so an empty
// list stays [] in JSON.
func convert[R, T any](rows []R, conv func(R) T) []T {
	out := make([]T, 0, len(rows))
	for _, r := range rows {
		out = append(out, conv(r))
	}
	return out
}
