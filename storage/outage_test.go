package storage_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"changemaker/internal/testenv"
	"changemaker/storage"
)

// fakePostgres listens on a loopback port and meets every connection the
// way a server in trouble does: "silent" accepts and never answers (a host
// whose packets are lost), "starting" answers the startup message with
// FATAL 57P03 (the database system is starting up), "reset" resets the
// connection at once.
func fakePostgres(t *testing.T, mode string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			switch mode {
			case "reset":
				c.(*net.TCPConn).SetLinger(0) //nolint:errcheck // a plain close is a weaker test, not a wrong one
				c.Close()
			case "starting":
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer c.Close()
					var size [4]byte // the startup message: its length, then the rest
					if _, err := io.ReadFull(c, size[:]); err != nil {
						return
					}
					if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(size[:]))-4); err != nil {
						return
					}
					fields := "SFATAL\x00VFATAL\x00C57P03\x00Mthe database system is starting up\x00\x00"
					msg := append([]byte{'E', 0, 0, 0, 0}, fields...)
					binary.BigEndian.PutUint32(msg[1:], uint32(4+len(fields)))
					c.Write(msg) //nolint:errcheck // the client may be gone
				}()
			}
		}
	}()
	return ln.Addr().String()
}

// TestOutagesAreErrUnavailable: however Postgres is out of reach, a query
// fails with ErrUnavailable, which the API answers with a 503 to retry.
func TestOutagesAreErrUnavailable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mode := range []string{"silent", "starting", "reset"} {
		t.Run("a server "+mode, func(t *testing.T) {
			t.Parallel()
			addr := fakePostgres(t, mode)
			away, err := storage.Open(ctx, fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable&connect_timeout=1", addr), 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(away.Close)
			if _, err := away.UserByID(ctx, 1); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("read: %v, want ErrUnavailable", err)
			}
			if _, _, err := away.ListUsers(ctx, storage.UserFilter{Limit: 10}); !errors.Is(err, storage.ErrUnavailable) {
				t.Errorf("list: %v, want ErrUnavailable", err)
			}
		})
	}
	t.Run("no connection free in time", func(t *testing.T) {
		t.Parallel()
		store, err := storage.Open(ctx, testenv.DatabaseURLFor(t), 1)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		held, err := store.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Release()
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err = store.UserByID(short, 1)
		if !errors.Is(err, storage.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read with the only connection taken: %v, want ErrUnavailable and the deadline", err)
		}
	})
}
