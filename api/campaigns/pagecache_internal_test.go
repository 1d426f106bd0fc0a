package campaigns

import (
	"fmt"
	"testing"
	"time"
)

func TestPageCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	t.Run("a zero TTL caches nothing", func(t *testing.T) {
		p := newPageCache(0, 10)
		p.put("a", []byte("x"), now)
		if _, ok := p.get("a", now); ok {
			t.Error("got a page")
		}
		p.drop("a")
	})
	t.Run("a page lives for the TTL", func(t *testing.T) {
		p := newPageCache(time.Second, 10)
		p.put("a", []byte("x"), now)
		if b, ok := p.get("a", now.Add(999*time.Millisecond)); !ok || string(b) != "x" {
			t.Errorf("within the TTL = %q %v", b, ok)
		}
		if _, ok := p.get("a", now.Add(time.Second)); ok {
			t.Error("after the TTL the page is still served")
		}
		p.put("a", []byte("y"), now)
		p.drop("a", "b")
		if _, ok := p.get("a", now); ok {
			t.Error("a dropped page is served")
		}
	})
	t.Run("a full cache drops what expired, then everything", func(t *testing.T) {
		p := newPageCache(time.Second, 3)
		p.put("old", []byte("o"), now.Add(-2*time.Second))
		p.put("a", []byte("a"), now)
		p.put("b", []byte("b"), now)
		p.put("c", []byte("c"), now) // full: "old" expired and goes
		if len(p.pages) != 3 {
			t.Fatalf("%d pages, want 3", len(p.pages))
		}
		if _, ok := p.get("a", now); !ok {
			t.Error("a fresh page was dropped to make room")
		}
		for i := range 5 {
			p.put(fmt.Sprint("n", i), []byte("n"), now)
		}
		if len(p.pages) > 3 {
			t.Errorf("%d pages, want at most 3", len(p.pages))
		}
		p.put("a", []byte("a2"), now) // replacing an entry needs no room
	})
}
