package blob

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"unsafe"

	"github.com/google/uuid"
)

// ErrWrite marks a failure to store what Receive read: the server's fault,
// not the sender's. Errors from the source are returned as they are.
var ErrWrite = errors.New("blob: write")

// Receive tuning. A chunk is the unit of reading, hashing and writing; with
// direct I/O each full chunk goes to the disk in one aligned write.
// DirectAlign is the alignment direct I/O needs of sizes and offsets.
const (
	ReceiveChunk   = 1 << 20 // bytes
	receiveBuffers = 3       // chunks in flight: one being read, one hashed, one written
	DirectAlign    = 4096    // alignment of direct I/O buffers, offsets and sizes
	bufferedWrite  = 256 << 10
)

// Received is what Receive stored.
type Received struct {
	Size   int64
	SHA256 [sha256.Size]byte
}

// A Source hands out a file's bytes a buffer at a time. Fill puts the next
// bytes at the start of buf and returns how many; io.EOF, with the last
// bytes or after them, ends the file, and any other error fails it. A
// source that fills whole buffers, or at least multiples of 4096 bytes,
// lets Receive write them with direct I/O.
type Source interface {
	Fill(buf []byte) (int, error)
}

// ReaderSource is a Source that reads r.
func ReaderSource(r io.Reader) Source { return readerSource{r} }

type readerSource struct{ r io.Reader }

func (s readerSource) Fill(buf []byte) (int, error) { return fill(s.r, buf) }

// Receive copies src into a new temporary file under .tmp, computing its
// SHA-256 on the way, and syncs it to the disk before returning: a file
// handed to Commit afterwards survives a crash. On error the temporary file
// is already removed.
//
// It is built for large uploads arriving over the network. Reading from
// src, hashing and writing run on three goroutines joined by a few 1 MiB
// chunks, so the hash (the largest cost) runs beside the reading and the
// writing rather than after them; memory stays at receiveBuffers chunks
// whatever the size. Where the file system allows it (Linux, O_DIRECT) full
// chunks are written with direct I/O: the disk reads them from the chunk
// itself, without a copy into the page cache and without filling the cache
// with gigabytes nobody will read soon. The last, partial chunk (and every
// chunk where direct I/O is refused) goes through the page cache.
func (r *Root) Receive(prefix string, src Source) (*Temp, Received, error) {
	name := path.Join(TmpDir, prefix+uuid.NewString()+".part")
	f, direct, err := r.openDirect(name)
	if err != nil {
		return nil, Received{}, fmt.Errorf("%w: create temporary file: %w", ErrWrite, err)
	}
	lockTemp(f)
	t := &Temp{File: f, root: r, name: name}
	kept := false
	defer func() {
		if !kept { // an error, or a panic in src
			t.Abort()
		}
	}()
	got, err := pipeline(newChunkWriter(f, direct), src)
	if err != nil {
		return nil, Received{}, err
	}
	if err := f.Sync(); err != nil {
		return nil, Received{}, fmt.Errorf("%w: sync %s: %w", ErrWrite, name, err)
	}
	t.synced, kept = true, true
	return t, got, nil
}

// openDirect creates name for writing, with direct I/O when the file system
// accepts it.
func (r *Root) openDirect(name string) (*os.File, bool, error) {
	const flags = os.O_CREATE | os.O_EXCL | os.O_WRONLY
	if oDirect != 0 {
		f, err := r.root.OpenFile(name, flags|oDirect, 0o640)
		if err == nil {
			return f, true, nil
		}
		if !errors.Is(err, errDirectRefused) {
			return nil, false, err
		}
	}
	f, err := r.root.OpenFile(name, flags, 0o640)
	return f, false, err
}

type chunk struct {
	buf []byte // a whole ReceiveChunk buffer, aligned
	n   int    // bytes of it in use
}

// pipeline reads src in chunks on the calling goroutine, hashes them on a
// second and writes them on a third, in order. (Measured on a 2-core VM,
// docs/benchmarks.md: hashing on its own goroutine beat hashing each chunk
// right after reading it by 5–10% of the wall time.)
func pipeline(w *chunkWriter, src Source) (Received, error) {
	free := make(chan []byte, receiveBuffers)
	for range receiveBuffers {
		free <- alignedBuffer(ReceiveChunk)
	}
	toHash := make(chan chunk, receiveBuffers)
	toWrite := make(chan chunk, receiveBuffers)
	written := make(chan error, 1)
	h := sha256.New()
	go hashChunks(h, toHash, toWrite)
	go func() { written <- w.writeAll(toWrite, free) }()

	// However the reading ends, a panic in src included, the hasher and the
	// writer are told and waited for: no goroutine or buffer outlives it.
	stopped := false
	stop := func() error {
		stopped = true
		close(toHash)
		// The writer answers once it has written (or dropped) every chunk,
		// which is after the hasher has hashed them all.
		return <-written
	}
	defer func() {
		if !stopped {
			stop()
		}
	}()

	var size int64
	var rerr error
	for !w.failed() {
		buf := <-free
		n, err := src.Fill(buf)
		if n > 0 {
			size += int64(n)
			toHash <- chunk{buf: buf, n: n}
		} else {
			free <- buf
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
			break
		}
	}
	if werr := stop(); werr != nil {
		return Received{}, werr
	}
	if rerr != nil {
		return Received{}, rerr
	}
	got := Received{Size: size}
	h.Sum(got.SHA256[:0])
	return got, nil
}

func hashChunks(h hash.Hash, in <-chan chunk, out chan<- chunk) {
	for c := range in {
		h.Write(c.buf[:c.n])
		out <- c
	}
	close(out)
}

// fill reads from r until buf is full or r ends. Unlike io.ReadFull it
// returns io.EOF for a clean end even after a partial fill, and passes any
// other error (a body cut short) through.
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// chunkWriter writes chunks to the file in order, with direct I/O while
// the chunks allow it.
type chunkWriter struct {
	f      *os.File
	direct bool
	stop   chan struct{} // closed on the first write error
}

func newChunkWriter(f *os.File, direct bool) *chunkWriter {
	return &chunkWriter{f: f, direct: direct, stop: make(chan struct{})}
}

// failed tells the reader to stop reading: a write has failed.
func (w *chunkWriter) failed() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// writeAll writes every chunk from in and hands its buffer back to free. After
// a failure it keeps handing buffers back, so the reader never blocks, and
// returns the first error once in is closed.
func (w *chunkWriter) writeAll(in <-chan chunk, free chan<- []byte) error {
	var first error
	for c := range in {
		if first == nil {
			if err := w.write(c.buf[:c.n]); err != nil {
				first = fmt.Errorf("%w: %w", ErrWrite, err)
				close(w.stop)
			}
		}
		free <- c.buf
	}
	return first
}

func (w *chunkWriter) write(b []byte) error {
	if w.direct && len(b)%DirectAlign != 0 {
		// The last chunk: direct I/O needs whole blocks.
		if err := clearDirect(w.f); err != nil {
			return err
		}
		w.direct = false
	}
	if w.direct {
		n, err := w.f.Write(b)
		if err == nil || !errors.Is(err, errDirectRefused) {
			return err
		}
		// The file system took the open but refuses the write (after
		// taking n bytes of it, if any): the rest goes through the cache.
		if err := clearDirect(w.f); err != nil {
			return err
		}
		w.direct = false
		b = b[n:]
	}
	for len(b) > 0 {
		n := min(len(b), bufferedWrite)
		if _, err := w.f.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// alignedBuffer returns size bytes starting at a DirectAlign boundary.
func alignedBuffer(size int) []byte {
	b := make([]byte, size+DirectAlign)
	off := 0
	if rem := int(uintptr(unsafe.Pointer(&b[0])) & (DirectAlign - 1)); rem != 0 {
		off = DirectAlign - rem
	}
	return b[off : off+size : off+size]
}
