package password

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBusy is returned instead of hashing when every hashing slot is taken
// and the wait queue is full (or the wait ran out). Callers answer 503 with
// Retry-After at once: a flood of login guesses then costs the process a
// bounded share of its CPU, and health checks and pages keep answering.
var ErrBusy = errors.New("password hashing is saturated")

// Gate bounds how many bcrypt computations run at once in one process, with
// a short queue of waiters behind them. A nil Gate bounds nothing (the admin
// command hashes one password and has no flood to fear).
type Gate struct {
	slots   chan struct{} // a token per running computation
	waiters chan struct{} // a token per request waiting for a slot
	maxWait time.Duration
}

// NewGate returns a gate letting concurrent computations run at once
// (at least 1), queue more wait (0: none), each at most maxWait.
func NewGate(concurrent, queue int, maxWait time.Duration) *Gate {
	if concurrent < 1 {
		concurrent = 1
	}
	if queue < 0 {
		queue = 0
	}
	return &Gate{slots: make(chan struct{}, concurrent), waiters: make(chan struct{}, queue), maxWait: maxWait}
}

// Acquire takes a slot, waiting in the queue if there is room, and returns
// the function that gives it back. It returns ErrBusy when the queue is full
// or the wait ran out.
func (g *Gate) Acquire(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case g.waiters <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-g.waiters }()
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
}

// Hasher hashes and checks passwords at one cost, through a Gate.
type Hasher struct {
	Cost int
	Gate *Gate
}

// Hash hashes pw, or returns ErrBusy without hashing.
func (h *Hasher) Hash(ctx context.Context, pw string) (string, error) {
	release, err := h.Gate.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return Hash(pw, h.Cost)
}

// Check reports whether pw matches hash, or returns ErrBusy without
// comparing.
func (h *Hasher) Check(ctx context.Context, hash, pw string) (bool, error) {
	release, err := h.Gate.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return Check(hash, pw), nil
}
