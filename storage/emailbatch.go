package storage

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// EmailBatcher stores the SMTP emails of concurrent requests together: one
// INSERT and one commit for the rows of every request waiting at that
// moment, instead of one per request. A request waits for the commit that
// holds its rows before it returns, so a caller that answers 202 afterwards
// has its rows stored exactly as with InsertEmails.
//
// There is no background goroutine: a caller whose rows are pending takes
// one of the flush slots (at most slots statements run at once) and writes
// whatever is pending, its own rows among it; the others wait for the
// commit that takes theirs. One request at a time is therefore written at
// once, as by InsertEmails, and under load the batches grow by themselves
// to what arrives while the slots are busy.
//
// Only SMTP rows go through it (MAILTO rows also update the campaign's count
// in a transaction of their own). When a batch's statement fails on its data
// (a Postgres error, not a lost connection), each request of the batch is
// written on its own, so one request's bad row fails only that request.
type EmailBatcher struct {
	store   *Store
	slots   chan struct{}
	maxRows int
	timeout time.Duration
	written func(requests, rows int)

	mu      sync.Mutex
	pending []*pendingInsert
}

type pendingInsert struct {
	rows  []CampaignEmail
	taken bool          // in a batch being written (under EmailBatcher.mu)
	done  chan struct{} // closed once out and err are set
	out   []CampaignEmail
	err   error
}

// EmailBatcherOptions shape an EmailBatcher.
type EmailBatcherOptions struct {
	Slots   int           // statements at a time (at least 1)
	MaxRows int           // rows per statement; a request's rows are never split, so one larger request is a batch of its own
	Timeout time.Duration // each statement's
	// Written, if set, is told the size of every batch written (requests
	// and rows), for a metric.
	Written func(requests, rows int)
}

// NewEmailBatcher writes through s as o says.
func NewEmailBatcher(s *Store, o EmailBatcherOptions) *EmailBatcher {
	return &EmailBatcher{store: s, slots: make(chan struct{}, max(o.Slots, 1)), maxRows: max(o.MaxRows, 1),
		timeout: o.Timeout, written: o.Written}
}

// Insert stores SMTP rows and returns them with their IDs, in the order
// given, once they are committed. The statement runs under the batcher's
// own timeout rather than ctx: it may carry other requests' rows.
func (b *EmailBatcher) Insert(ctx context.Context, rows []CampaignEmail) ([]CampaignEmail, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	for _, r := range rows {
		if r.Method != MethodSMTP {
			return nil, fmt.Errorf("insert emails: the batcher takes SMTP rows only, not %q", r.Method)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := &pendingInsert{rows: rows, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, p)
	b.mu.Unlock()
	for {
		select {
		case <-p.done:
			return p.out, p.err
		case b.slots <- struct{}{}:
			b.flushUntilTaken(p)
			<-b.slots
		}
		b.mu.Lock()
		taken := p.taken
		b.mu.Unlock()
		if taken { // in a batch: this one's or another caller's
			<-p.done
			return p.out, p.err
		}
	}
}

// flushUntilTaken writes pending batches, oldest requests first, until own
// is in one.
func (b *EmailBatcher) flushUntilTaken(own *pendingInsert) {
	for {
		b.mu.Lock()
		if own.taken {
			b.mu.Unlock()
			return
		}
		batch := b.takeLocked()
		b.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		b.write(batch)
	}
}

// takeLocked removes the oldest pending requests, up to maxRows rows.
func (b *EmailBatcher) takeLocked() []*pendingInsert {
	n, rows := 0, 0
	for n < len(b.pending) && (n == 0 || rows+len(b.pending[n].rows) <= b.maxRows) {
		rows += len(b.pending[n].rows)
		b.pending[n].taken = true
		n++
	}
	batch := make([]*pendingInsert, n)
	copy(batch, b.pending[:n])
	clear(b.pending[:n])
	b.pending = b.pending[n:]
	if len(b.pending) == 0 {
		b.pending = nil // let the backing array go
	}
	return batch
}

// write stores a batch with one statement and hands each request its rows.
func (b *EmailBatcher) write(batch []*pendingInsert) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if b.written != nil {
		rows := 0
		for _, p := range batch {
			rows += len(p.rows)
		}
		b.written(len(batch), rows)
	}
	if len(batch) == 1 {
		batch[0].finish(b.store.InsertEmails(ctx, batch[0].rows))
		return
	}
	var all []CampaignEmail
	for _, p := range batch {
		all = append(all, p.rows...)
	}
	// InsertEmails returns the rows in the order given: each request's
	// rows are the next len(rows) of them.
	out, err := b.store.InsertEmails(ctx, all)
	if err == nil && len(out) != len(all) {
		err = fmt.Errorf("insert emails: %d rows stored for %d given", len(out), len(all))
	}
	var pgErr *pgconn.PgError
	if err != nil && errors.As(err, &pgErr) {
		// Postgres refused the data: nothing of the batch is stored (one
		// statement). Each request on its own, so only the bad one fails.
		for _, p := range batch {
			p.finish(b.store.InsertEmails(ctx, p.rows))
		}
		return
	}
	for _, p := range batch {
		if err != nil {
			p.finish(nil, err)
			continue
		}
		p.finish(out[:len(p.rows):len(p.rows)], nil)
		out = out[len(p.rows):]
	}
}

func (p *pendingInsert) finish(out []CampaignEmail, err error) {
	p.out, p.err = out, err
	close(p.done)
}
