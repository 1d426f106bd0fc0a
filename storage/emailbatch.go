package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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
// in a transaction of their own). When Postgres refuses a batch's data
// (SQLSTATE classes 22 and 23), each request of the batch is written on its
// own, so one request's bad row fails only that request. A request whose
// context ends before a batch takes it is withdrawn; once taken, it is
// written under the batcher's own timeout.
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
	rows     []CampaignEmail
	taken    bool          // in a batch being written (under EmailBatcher.mu)
	takenCh  chan struct{} // closed when taken
	done     chan struct{} // closed once out and err are set
	finished bool          // finish has run (only the batch's writer touches it)
	out      []CampaignEmail
	err      error
}

// EmailBatcherOptions shape an EmailBatcher.
type EmailBatcherOptions struct {
	Slots   int           // statements at a time (at least 1)
	MaxRows int           // rows per statement; a request's rows are never split, so one larger request is a batch of its own
	Timeout time.Duration // each statement's (10 s when 0)
	// Written, if set, is told the size of every batch written (requests
	// and rows), for a metric.
	Written func(requests, rows int)
}

// NewEmailBatcher writes through s as o says.
func NewEmailBatcher(s *Store, o EmailBatcherOptions) *EmailBatcher {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	return &EmailBatcher{store: s, slots: make(chan struct{}, max(o.Slots, 1)), maxRows: max(o.MaxRows, 1),
		timeout: o.Timeout, written: o.Written}
}

// Insert stores SMTP rows and returns them with their IDs, in the order
// given, once they are committed. ctx can withdraw a request until a batch
// has taken it; from then on the statement runs under the batcher's own
// timeout, as it may carry other requests' rows.
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
	p := &pendingInsert{rows: rows, takenCh: make(chan struct{}), done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, p)
	b.mu.Unlock()
	select {
	case <-p.takenCh: // another caller's batch holds it
	case b.slots <- struct{}{}:
		func() {
			defer func() { <-b.slots }()
			b.flushUntilTaken(p)
		}()
	case <-ctx.Done():
		if b.withdraw(p) {
			return nil, ctx.Err()
		}
	}
	<-p.done
	return p.out, p.err
}

// withdraw takes p out of the pending requests unless a batch has taken
// it; it reports whether it did.
func (b *EmailBatcher) withdraw(p *pendingInsert) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.taken {
		return false
	}
	b.pending = slices.DeleteFunc(b.pending, func(q *pendingInsert) bool { return q == p })
	return true
}

// flushUntilTaken writes pending batches, oldest requests first, until own
// is in one (its own or another caller's).
func (b *EmailBatcher) flushUntilTaken(own *pendingInsert) {
	for {
		b.mu.Lock()
		if own.taken {
			b.mu.Unlock()
			return
		}
		batch := b.takeLocked()
		b.mu.Unlock()
		b.write(batch) // never empty: own is still pending
	}
}

// takeLocked removes the oldest pending requests, up to maxRows rows.
func (b *EmailBatcher) takeLocked() []*pendingInsert {
	n, rows := 0, 0
	for n < len(b.pending) && (n == 0 || rows+len(b.pending[n].rows) <= b.maxRows) {
		rows += len(b.pending[n].rows)
		b.pending[n].taken = true
		close(b.pending[n].takenCh)
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
// Whatever happens, every request of the batch is finished: a panic on the
// way finishes the rest with an error before it goes on up.
func (b *EmailBatcher) write(batch []*pendingInsert) {
	defer func() {
		if r := recover(); r != nil {
			for _, p := range batch {
				if !p.finished {
					p.finish(nil, fmt.Errorf("insert emails: panic: %v", r))
				}
			}
			panic(r)
		}
	}()
	if b.written != nil {
		rows := 0
		for _, p := range batch {
			rows += len(p.rows)
		}
		b.written(len(batch), rows)
	}
	if len(batch) == 1 {
		batch[0].finish(b.insert(batch[0].rows))
		return
	}
	var all []CampaignEmail
	for _, p := range batch {
		all = append(all, p.rows...)
	}
	out, err := b.insert(all)
	if refusedData(err) {
		// Postgres refused the data: nothing of the batch is stored (one
		// statement). Each request on its own, so only the bad one fails.
		for _, p := range batch {
			p.finish(b.insert(p.rows))
		}
		return
	}
	if err == nil {
		err = matches(all, out)
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

// insert is InsertEmails under the batcher's timeout.
func (b *EmailBatcher) insert(rows []CampaignEmail) ([]CampaignEmail, error) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	return b.store.InsertEmails(ctx, rows)
}

// refusedData reports whether Postgres refused a statement for its data
// (SQLSTATE classes 22, data exception, and 23, integrity constraint
// violation) — not for the server's state (overload, shutdown, timeouts),
// when writing the batch again request by request would only add load.
func refusedData(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}

// matches checks that the stored rows are the given ones, in order (what
// InsertEmails promises, relying on the IDs following the rows' order in
// one INSERT): each request is handed the next rows of out, and must never
// be handed another request's.
func matches(given, stored []CampaignEmail) error {
	if len(stored) != len(given) {
		return fmt.Errorf("insert emails: %d rows stored for %d given", len(stored), len(given))
	}
	for i := range given {
		if stored[i].SenderEmail != given[i].SenderEmail || stored[i].RecipientEmail != given[i].RecipientEmail ||
			stored[i].CampaignID != given[i].CampaignID {
			return fmt.Errorf("insert emails: row %d came back out of order", i)
		}
	}
	return nil
}

func (p *pendingInsert) finish(out []CampaignEmail, err error) {
	p.out, p.err, p.finished = out, err, true
	close(p.done)
}
