package media_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"changemaker/api"
	"changemaker/internal/testenv"
	"changemaker/storage"
)

// commitCutter stands between the media API and Postgres. Once armed, the
// first COMMIT it sees breaks its connection: in mode "after" Postgres runs
// the COMMIT and answers, and the answer is dropped (the upload committed,
// and the API cannot know); in mode "before" the COMMIT never reaches
// Postgres (it rolls back when the connection goes); in mode "late" the
// client's connection breaks at once and the COMMIT reaches Postgres
// lateCommit later, so the API asks while the transaction is still open.
type commitCutter struct {
	ln     net.Listener
	target string
	mode   string
	armed  atomic.Bool
	cuts   atomic.Int32
	wg     sync.WaitGroup
}

// lateCommit is how long mode "late" holds the COMMIT back.
const lateCommit = 300 * time.Millisecond

func newCommitCutter(t *testing.T, target, mode string) *commitCutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &commitCutter{ln: ln, target: target, mode: mode}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go p.relay(c)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *commitCutter) relay(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	defer server.Close()
	var cutting atomic.Bool
	done := make(chan struct{})
	go func() { // server to client
		defer close(done)
		defer client.Close() // the server closed (or the answer to COMMIT came)
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if cutting.Load() {
				return // the answer to COMMIT: it ran, and the client never hears it
			}
			if n > 0 {
				if _, werr := client.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			// pgx sends COMMIT as a simple query: 'Q', length, "commit\0".
			if bytes.Contains(buf[:n], []byte("commit\x00")) && p.armed.CompareAndSwap(true, false) {
				p.cuts.Add(1)
				switch p.mode {
				case "before":
					return // neither side sees the COMMIT: Postgres rolls back
				case "late":
					client.Close()
					time.Sleep(lateCommit)
					cutting.Store(true)
					if _, err := server.Write(buf[:n]); err == nil {
						<-done // the answer came: the COMMIT ran
					}
					return
				}
				cutting.Store(true)
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	server.Close()
	<-done
}

// behindCutter is the test's media API, its database reached through a
// commitCutter.
func behindCutter(t *testing.T, b *bundle, mode string) (*bundle, *commitCutter) {
	t.Helper()
	cc := b.env.Store.Pool.Config().ConnConfig
	cut := newCommitCutter(t, fmt.Sprintf("%s:%d", cc.Host, cc.Port), mode)
	store, err := storage.Open(context.Background(),
		fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cc.User, cut.ln.Addr(), cc.Database), 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	deps := b.env.Deps
	deps.Store = store
	app, err := api.NewMedia(deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	behind := *b
	behind.base = testenv.Serve(t, app)
	return &behind, cut
}

// uploadThroughCut uploads content through a media API whose first COMMIT
// is cut in mode, and fails the test unless the cut happened.
func uploadThroughCut(t *testing.T, b *bundle, mode string, content []byte) (*bundle, int, map[string]any) {
	t.Helper()
	behind, cut := behindCutter(t, b, mode)
	cut.armed.Store(true)
	status, out := behind.upload(t, b.owner, "a.mp4", content, nil)
	if cut.cuts.Load() != 1 {
		t.Fatalf("the COMMIT was not cut (%d cuts): the test proves nothing", cut.cuts.Load())
	}
	return behind, status, out
}

// The connection breaks during a COMMIT that Postgres carries out: the API
// asks Postgres what became of its transaction and answers 201, and the file
// is where the row says. In "after" the COMMIT has run when the API asks; in
// "late" it reaches Postgres only after the API has started asking, and the
// API waits for it instead of taking "not there yet" for "not recorded".
func TestUploadCommittedButAnswerLost(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"after", "late"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			content := []byte("\x00\x00\x00\x18ftypisom-committed-answer-lost-" + mode)
			_, status, out := uploadThroughCut(t, b, mode, content)
			if status != 201 {
				t.Fatalf("upload = %d %v, want 201: it committed", status, out)
			}
			v := b.video(t, idOf(t, out))
			if got, err := os.ReadFile(filepath.Join(b.root, v.Path)); err != nil || !bytes.Equal(got, content) {
				t.Fatalf("the recorded video's file: %d bytes, %v", len(got), err)
			}
			if left := b.leftovers(t); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

// The connection breaks before Postgres sees the COMMIT: nothing is
// recorded, no file is left, and sending the same file again succeeds.
func TestUploadCommitLost(t *testing.T) {
	t.Parallel()
	b := setup(t)
	content := []byte("\x00\x00\x00\x18ftypisom-commit-lost")
	behind, status, out := uploadThroughCut(t, b, "before", content)
	if status < 500 {
		t.Fatalf("upload = %d %v, want a 5xx: it was not recorded", status, out)
	}
	testenv.Eventually(t, 10*time.Second, "Postgres to roll the upload back", func() bool { return b.videoCount(t) == 0 })
	if files := b.storedVideos(t); len(files) != 0 {
		t.Errorf("video files left: %v", files)
	}
	if left := b.leftovers(t); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if status, out := behind.upload(t, b.owner, "a.mp4", content, nil); status != 201 {
		t.Fatalf("the same upload again = %d %v, want 201", status, out)
	}
}
