package cachenotify

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for payload, want := range map[string]Change{
		"settings": {Settings: true}, "campaign:42": {Campaign: 42},
		"campaign:x": {All: true}, "postal:K1A0A6": {Postal: "K1A0A6"}, "postal:": {All: true}, "representatives": {All: true}, "campaign:-1": {All: true}, "": {All: true}, "something new": {All: true},
	} {
		if got := Parse(payload); got != want {
			t.Errorf("Parse(%q) = %+v, want %+v", payload, got, want)
		}
	}
}

// TestTable: what a table keeps, and what drops it (Listen itself, on a
// real Postgres, is tested with the worker's cache and the send routes).
func TestTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type camp struct{ id int64 }
	var loads int
	loader := func(v camp) func(context.Context) (camp, error) {
		return func(context.Context) (camp, error) { loads++; return v, nil }
	}
	newTable := func(ttl time.Duration) (*Listener, *Table[string, camp]) {
		l := NewListener()
		return l, NewTable(l, ttl, 3, func(c Change, _ string, v camp) bool { return c.Campaign == v.id })
	}
	get := func(tb *Table[string, camp], k string, v camp) camp {
		t.Helper()
		got, err := tb.Get(ctx, k, loader(v))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("nothing is kept until the listener is live", func(t *testing.T) {
		_, tb := newTable(time.Hour)
		loads = 0
		get(tb, "a", camp{1})
		get(tb, "a", camp{1})
		if loads != 2 || tb.Len() != 0 {
			t.Errorf("loads = %d, entries = %d; want 2 and 0", loads, tb.Len())
		}
	})
	t.Run("kept while live; a change drops what it names; losing the listener drops all", func(t *testing.T) {
		l, tb := newTable(time.Hour)
		l.setLive(true)
		loads = 0
		get(tb, "a", camp{1})
		get(tb, "b", camp{2})
		if got := get(tb, "a", camp{99}); got.id != 1 || loads != 2 {
			t.Fatalf("a = %+v after %d loads, want the kept {1} after 2", got, loads)
		}
		l.Invalidate("campaign:1")
		if got := get(tb, "a", camp{10}); got.id != 10 {
			t.Errorf("a after its change = %+v, want reloaded", got)
		}
		if got := get(tb, "b", camp{99}); got.id != 2 {
			t.Errorf("b after another campaign's change = %+v, want kept", got)
		}
		l.Invalidate("settings")
		if got := get(tb, "b", camp{99}); got.id != 2 {
			t.Errorf("b after a settings change = %+v, want kept", got)
		}
		l.Invalidate("unknown")
		if tb.Len() != 0 {
			t.Errorf("%d entries after an unknown payload, want none", tb.Len())
		}
		get(tb, "a", camp{1})
		l.setLive(false)
		if tb.Len() != 0 {
			t.Errorf("%d entries after the listener was lost, want none", tb.Len())
		}
	})
	t.Run("a value read while a change came in is not kept", func(t *testing.T) {
		l, tb := newTable(time.Hour)
		l.setLive(true)
		_, err := tb.Get(ctx, "a", func(context.Context) (camp, error) {
			l.Invalidate("campaign:1") // committed while the old row was being read
			return camp{1}, nil
		})
		if err != nil || tb.Len() != 0 {
			t.Errorf("entries = %d (err %v), want the racing read dropped", tb.Len(), err)
		}
	})
	t.Run("errors are not kept; entries expire; the table is bounded", func(t *testing.T) {
		l, tb := newTable(time.Hour)
		l.setLive(true)
		if _, err := tb.Get(ctx, "a", func(context.Context) (camp, error) { return camp{}, errors.New("down") }); err == nil ||
			tb.Len() != 0 {
			t.Errorf("a failed read: err %v, %d entries", err, tb.Len())
		}
		for i, k := range []string{"a", "b", "c", "d"} {
			get(tb, k, camp{int64(i + 1)})
			if tb.Len() > 3 {
				t.Fatalf("%d entries, want at most 3", tb.Len())
			}
		}
		l2, short := newTable(time.Nanosecond)
		l2.setLive(true)
		get(short, "a", camp{1})
		if got := get(short, "a", camp{2}); got.id != 2 {
			t.Errorf("after its TTL a = %+v, want reloaded", got)
		}
	})
	t.Run("a nil table reads every time", func(t *testing.T) {
		var tb *Table[string, camp]
		loads = 0
		get(tb, "a", camp{1})
		get(tb, "a", camp{1})
		if loads != 2 {
			t.Errorf("loads = %d, want 2", loads)
		}
	})
}
