package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	t.Parallel()
	l := Limit{Name: "test", Max: 3, Window: time.Minute}
	t.Run("the local count refills at Max per Window", func(t *testing.T) {
		c := newLocal(10)
		now := time.Now()
		for range l.Max {
			c.allow(l, "k", now)
		}
		if res := c.allow(l, "k", now); res.Allowed || res.RetryAfter != l.Window/time.Duration(l.Max) {
			t.Fatalf("past the burst = %+v, want refused for one interval", res)
		}
		if res := c.allow(l, "k", now.Add(l.Window/time.Duration(l.Max))); !res.Allowed {
			t.Fatal("refused after one interval")
		}
	})
	t.Run("the local count keeps at most its bound of keys", func(t *testing.T) {
		c := newLocal(8)
		now := time.Now()
		for i := range 100 {
			c.allow(l, fmt.Sprint("k", i), now)
			if len(c.tat) > 8 {
				t.Fatalf("%d keys held after %d, want at most 8", len(c.tat), i+1)
			}
		}
	})
}
