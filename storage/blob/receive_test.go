package blob

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"
	"unsafe"
)

func openRoot(t *testing.T) *Root {
	t.Helper()
	r, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func tmpEntries(t *testing.T, r *Root) []os.DirEntry {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(r.Dir(), TmpDir))
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// Sizes around the chunk and the direct-I/O block, read in pieces of odd
// sizes: what lands in the file and its hash are exactly what was sent.
func TestReceiveStoresAndHashesExactly(t *testing.T) {
	t.Parallel()
	r := openRoot(t)
	sizes := []int{0, 1, DirectAlign - 1, DirectAlign, DirectAlign + 1, ReceiveChunk - 1, ReceiveChunk,
		ReceiveChunk + 1, 3*ReceiveChunk + 12345, receiveBuffers*ReceiveChunk*2 + DirectAlign}
	for i, size := range sizes {
		content := randomBytes(uint64(i), size)
		src := ReaderSource(iotest.HalfReader(bytes.NewReader(content)))
		tmp, got, err := r.Receive("t-", src)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if got.Size != int64(size) || got.SHA256 != sha256.Sum256(content) {
			t.Errorf("size %d: got size %d, hash %x", size, got.Size, got.SHA256)
		}
		name := NewVideoName(time.Now(), "mp4")
		if err := tmp.Commit(name); err != nil {
			t.Fatal(err)
		}
		stored, err := os.ReadFile(filepath.Join(r.Dir(), name))
		if err != nil || !bytes.Equal(stored, content) {
			t.Fatalf("size %d: stored %d bytes (%v), want the %d sent", size, len(stored), err, size)
		}
	}
	if left := tmpEntries(t, r); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// A source that fails (a client gone mid-upload) fails Receive with that
// error, not ErrWrite, and leaves no temporary file.
func TestReceiveSourceErrorLeavesNothing(t *testing.T) {
	t.Parallel()
	r := openRoot(t)
	cut := errors.New("connection reset")
	src := ReaderSource(io.MultiReader(bytes.NewReader(randomBytes(7, 2*ReceiveChunk+5)), iotest.ErrReader(cut)))
	tmp, _, err := r.Receive("t-", src)
	if !errors.Is(err, cut) || errors.Is(err, ErrWrite) || tmp != nil {
		t.Fatalf("Receive = %v, %v; want the source's error", tmp, err)
	}
	if left := tmpEntries(t, r); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// endless never ends: a failed write must stop the reading by itself.
type endless struct{}

func (endless) Fill(buf []byte) (int, error) { return len(buf), nil }

func TestPipelineStopsReadingWhenAWriteFails(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close() // every write fails
	done := make(chan error, 1)
	go func() {
		_, err := pipeline(newChunkWriter(f, false), endless{})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrWrite) {
			t.Fatalf("pipeline = %v, want ErrWrite", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pipeline still reading 30 s after its writes started failing")
	}
}

// A chunk direct I/O refuses (here: not aligned in memory) is written
// through the page cache instead, and so is every chunk after it.
func TestDirectWriteFallsBack(t *testing.T) {
	t.Parallel()
	if oDirect == 0 {
		t.Log("no direct I/O on this system: only the page-cache path runs")
	}
	r := openRoot(t)
	name := filepath.Join(TmpDir, "direct.part")
	f, direct, err := r.openDirect(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if oDirect != 0 && !direct {
		t.Fatal("the test's folder refused direct I/O at open: the fallback below is not the one under test")
	}
	w := newChunkWriter(f, direct)
	aligned := alignedBuffer(2 * DirectAlign)
	first := aligned[:DirectAlign]
	copy(first, randomBytes(1, DirectAlign))
	misaligned := alignedBuffer(3 * DirectAlign)[1 : 1+DirectAlign]
	copy(misaligned, randomBytes(2, DirectAlign))
	tail := randomBytes(3, 100)
	for i, b := range [][]byte{first, misaligned, tail} {
		if err := w.write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
		if i == 0 && oDirect != 0 && !w.direct {
			t.Fatal("an aligned chunk turned direct I/O off")
		}
	}
	if w.direct {
		t.Error("direct I/O still on after a refused chunk and a partial one")
	}
	stored, err := os.ReadFile(filepath.Join(r.Dir(), name))
	want := append(append(append([]byte{}, first...), misaligned...), tail...)
	if err != nil || !bytes.Equal(stored, want) {
		t.Fatalf("stored %d bytes (%v), want %d", len(stored), err, len(want))
	}
}

func TestAlignedBuffer(t *testing.T) {
	t.Parallel()
	for range 10 {
		b := alignedBuffer(ReceiveChunk)
		if len(b) != ReceiveChunk || cap(b) != ReceiveChunk {
			t.Fatalf("len %d cap %d", len(b), cap(b))
		}
		if addr := uintptr(unsafe.Pointer(&b[0])); addr%DirectAlign != 0 {
			t.Fatalf("address %#x is not aligned", addr)
		}
	}
}

// BenchmarkSHA256 is the hash alone, on one core: the floor under any
// upload that hashes what it receives (scripts/bench-upload.sh prints it).
func BenchmarkSHA256(b *testing.B) {
	buf := randomBytes(1, ReceiveChunk)
	h := sha256.New()
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		h.Write(buf)
	}
}

// BenchmarkReceive stores 64 MiB held in memory: hashing, writing and the
// final sync, without the network.
func BenchmarkReceive(b *testing.B) {
	r, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	content := randomBytes(2, 64<<20)
	b.SetBytes(int64(len(content)))
	for b.Loop() {
		tmp, _, err := r.Receive("b-", ReaderSource(bytes.NewReader(content)))
		if err != nil {
			b.Fatal(err)
		}
		tmp.Abort()
	}
}

// A temporary file its writer still holds stays, however long unwritten;
// one nobody holds (its writer crashed) goes once it is old enough.
func TestRemoveStaleTemps(t *testing.T) {
	t.Parallel()
	r := openRoot(t)
	live, err := r.CreateTemp("upload-")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	receiving, _, err := r.Receive("upload-", ReaderSource(bytes.NewReader([]byte("partial"))))
	if err != nil {
		t.Fatal(err)
	}
	defer receiving.Abort()
	crashed := filepath.Join(r.Dir(), TmpDir, "upload-crashed.part")
	if err := os.WriteFile(crashed, []byte("partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Hour)
	for _, name := range []string{live.TempName(), receiving.TempName(), filepath.Join(TmpDir, "upload-crashed.part")} {
		if err := os.Chtimes(filepath.Join(r.Dir(), name), old, old); err != nil {
			t.Fatal(err)
		}
	}
	n, err := r.RemoveStaleTemps(time.Now().Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RemoveStaleTemps = %d, %v; want 1 removed", n, err)
	}
	if _, err := os.Stat(crashed); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the crashed upload's file is still there: %v", err)
	}
	for _, tmp := range []*Temp{live, receiving} {
		if _, err := os.Stat(filepath.Join(r.Dir(), tmp.TempName())); err != nil {
			t.Errorf("a live temporary file was removed: %v", err)
		}
	}
	if err := live.Commit(NewVideoName(time.Now(), "mp4")); err != nil {
		t.Fatalf("commit after the sweep: %v", err)
	}
}

// panicking fails the way a bug in a Source would.
type panicking struct{ after int }

func (p *panicking) Fill(buf []byte) (int, error) {
	if p.after == 0 {
		panic("source bug")
	}
	p.after--
	return len(buf), nil
}

// A panic in the source comes through to the caller (the API's recover
// middleware answers 500) and leaves no temporary file behind.
func TestReceiveSurvivesAPanickingSource(t *testing.T) {
	t.Parallel()
	r := openRoot(t)
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("the panic did not come through")
			}
		}()
		r.Receive("t-", &panicking{after: 2 * receiveBuffers})
	}()
	if left := tmpEntries(t, r); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	if _, got, err := r.Receive("t-", ReaderSource(bytes.NewReader([]byte("after")))); err != nil || got.Size != 5 {
		t.Fatalf("Receive after the panic: %+v %v", got, err)
	}
}
