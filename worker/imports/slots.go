package imports

import (
	"context"
	"errors"
	"sync"
	"time"

	"changemaker/storage"
)

// A NAR part is loaded by several connections at once (IMPORT_LOADERS,
// Handler.Loaders): the one goroutine that reads the file hands each row to
// the slot of its building (slotOf its LOC_GUID), and each slot loads its
// own batches on its own connection. No two slots ever write the same
// building, so their transactions do not wait for each other, and Postgres
// works on as many batches at once as there are slots while the file is
// read. Each slot records in its batches' transactions how far into the
// file it has loaded its rows (map_import_parts.slot_rows_done); a task
// that runs again skips, for every slot, the rows that slot had committed.

// slotOf is the slot (0-based, of n) that loads building locID's rows; a
// row without one (a row that cannot be read) goes by its line.
func slotOf(locID string, line, n int) int {
	if n <= 1 {
		return 0
	}
	if locID == "" {
		return line % n
	}
	// FNV-1a, as hash/fnv's New32a computes it (the test holds them equal),
	// written out to spare an allocation per row: stable across runs,
	// processes and releases, as resuming needs.
	h := uint32(2166136261)
	for i := 0; i < len(locID); i++ {
		h ^= uint32(locID[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// slotBatch is one batch of a slot's rows and what it adds to the part's
// counters.
type slotBatch struct {
	rows     []storage.ImportRow
	progress storage.BatchProgress
}

// slot is one loader of a part: the connection it loads through, where it
// stands in the file, and the batch being filled by the reading goroutine.
type slot struct {
	n     int // 1-based, as stored
	conn  *slotConn
	done  int64 // the file's rows this slot had committed when the run began
	batch slotBatch
	jobs  chan slotBatch
}

// slotConn is a connection slots load through, one batch at a time. When
// the pool cannot spare a connection for every slot, slots share them: the
// temporary tables then hold several slots' buildings, which is harmless,
// since slots never share a building.
type slotConn struct {
	mu     sync.Mutex
	loader *storage.ImportLoader
}

// extraConnWait is how long a part waits for each connection beyond its
// first: a busy pool gives it fewer, never a deadlock between tasks that
// each hold some and wait for more.
const extraConnWait = 200 * time.Millisecond

// slots runs a part's slots: the reading goroutine fills batches and hands
// them over; each slot's goroutine loads them in order. The first error (or
// a cancelled import) stops every slot and the reader.
type slots struct {
	list   []*slot
	conns  []*slotConn
	ctx    context.Context // cancelled when a slot fails or the import is cancelled
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu        sync.Mutex
	err       error
	cancelled bool
}

// openSlots fixes the part's slots (their number is the part's from its
// first load, else Handler.Loaders) and takes a connection for each, or as
// many as the pool spares, the first one waited for.
func (r *partRun) openSlots(ctx context.Context, source string, bbox *[4]float64) (*slots, error) {
	done, err := r.h.Store.MapImportSlots(ctx, r.imp.ID, r.part.Name, r.h.Loaders)
	if err != nil {
		return nil, err
	}
	s := &slots{}
	s.ctx, s.cancel = context.WithCancel(ctx)
	for i := range done {
		wait := time.Duration(0)
		if i > 0 {
			wait = extraConnWait
		}
		l, err := r.newLoader(ctx, wait, source, bbox)
		if err != nil {
			s.close()
			return nil, err
		}
		if l == nil {
			break // the pool is busy: the slots share the connections they have
		}
		s.conns = append(s.conns, &slotConn{loader: l})
	}
	for i, d := range done {
		s.list = append(s.list, &slot{n: i + 1, conn: s.conns[i%len(s.conns)], done: d})
	}
	return s, nil
}

// close gives the connections back.
func (s *slots) close() {
	s.cancel()
	for _, c := range s.conns {
		c.loader.Close()
	}
}

// minDone is the first row some slot has not committed: the file is read
// from there.
func (s *slots) minDone() int64 {
	m := s.list[0].done
	for _, sl := range s.list[1:] {
		m = min(m, sl.done)
	}
	return m
}

// fail records the first error and stops everything. After a cancelled
// import, the batches it interrupts are no error.
func (s *slots) fail(err error) {
	s.mu.Lock()
	if s.err == nil && !s.cancelled {
		s.err = err
	}
	s.mu.Unlock()
	s.cancel()
}

// result is the first error, and whether the import was cancelled.
func (s *slots) result() (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cancelled, s.err
}

// run starts each slot's goroutine: f is called with every batch handed to
// the slot, in order.
func (s *slots) run(f func(*slot, slotBatch) (more bool, err error)) {
	for _, sl := range s.list {
		sl.jobs = make(chan slotBatch, 1)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for b := range sl.jobs {
				if s.ctx.Err() != nil {
					continue // drained: the run is stopping
				}
				more, err := f(sl, b)
				if err != nil {
					s.fail(err)
				} else if !more {
					s.mu.Lock()
					s.cancelled = true
					s.mu.Unlock()
					s.cancel()
				}
			}
		}()
	}
}

// hand gives a slot its filled batch; false when the run is stopping.
func (s *slots) hand(sl *slot) bool {
	b := sl.batch
	sl.batch = slotBatch{}
	select {
	case sl.jobs <- b:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// wait closes the slots' queues and waits for their goroutines.
func (s *slots) wait() {
	for _, sl := range s.list {
		close(sl.jobs)
	}
	s.wg.Wait()
}

// stopped says why the reader should stop: the slots' first error, or the
// caller's context.
func (s *slots) stopped(ctx context.Context) error {
	if _, err := s.result(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("import slots stopped")
}
