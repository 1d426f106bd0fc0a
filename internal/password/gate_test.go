package password_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"changemaker/internal/password"
)

func TestGate(t *testing.T) {
	t.Parallel()
	t.Run("past the slots and the queue it refuses at once", func(t *testing.T) {
		g := password.NewGate(1, 0, time.Minute)
		release, err := g.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := g.Acquire(context.Background()); !errors.Is(err, password.ErrBusy) {
			t.Fatalf("second acquire = %v, want ErrBusy", err)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("refusal took %v", d)
		}
		release()
		r2, err := g.Acquire(context.Background())
		if err != nil {
			t.Fatalf("acquire after release = %v", err)
		}
		r2()
	})
	t.Run("a waiter in the queue gets the slot when it is released", func(t *testing.T) {
		g := password.NewGate(1, 1, time.Minute)
		release, _ := g.Acquire(context.Background())
		got := make(chan error, 1)
		go func() {
			r, err := g.Acquire(context.Background())
			if err == nil {
				r()
			}
			got <- err
		}()
		time.Sleep(10 * time.Millisecond) // not a sync: only makes the waiting path likely; the test holds either way
		release()
		if err := <-got; err != nil {
			t.Fatalf("queued acquire = %v, want the slot", err)
		}
	})
	t.Run("a waiter gives up after the wait", func(t *testing.T) {
		g := password.NewGate(1, 1, 20*time.Millisecond)
		release, _ := g.Acquire(context.Background())
		defer release()
		if _, err := g.Acquire(context.Background()); !errors.Is(err, password.ErrBusy) {
			t.Fatalf("acquire past the wait = %v, want ErrBusy", err)
		}
	})
	t.Run("a nil gate bounds nothing", func(t *testing.T) {
		var g *password.Gate
		r, err := g.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r()
	})
}
