// Package multipart streams a multipart/form-data body: its values are read
// whole, its file part straight from the connection into the chunks that
// are hashed and written, never buffered.
package multipart

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"net/textproto"
	"strings"

	"changemaker/storage/blob"
)

// Reader reads a multipart/form-data body (RFC 7578) as it arrives,
// part by part. It exists for the upload's file part: mime/multipart hands
// a part's bytes out through a 4 KiB buffer and copies them twice on the
// way, which on a multi-GB upload costs more CPU than writing the file. Here
// the file's bytes are read from the connection straight into the chunk
// that is then hashed and written (fileSource), and the boundary is found
// with one bytes.Index over each chunk.
//
// Lines end in CRLF, as every browser and HTTP client sends them; a body
// that does not follow the format is ErrMalformed.
type Reader struct {
	src   io.Reader
	dash  []byte // "--" + boundary: the first delimiter
	delim []byte // "\r\n--" + boundary: every other delimiter
	pend  []byte // read from src, not yet consumed
	err   error  // src's error, once it has returned one (io.EOF at the end)

	started bool // the first delimiter is consumed
	inPart  bool // NextPart returned a part whose body is not yet consumed
	done    bool // the closing delimiter is consumed
}

// Limits on what surrounds the parts.
const (
	maxBoundary    = 70 // RFC 2046
	maxPreamble    = 64 << 10
	maxPartHeaders = 16 << 10
	maxPadding     = 256      // blanks after a delimiter
	readSize       = 64 << 10 // read size for everything but the file's body
)

// ErrMalformed is a body that does not follow the format.
var ErrMalformed = errors.New("malformed multipart body")

// NewReader reads the body src, whose parts boundary separates.
func NewReader(src io.Reader, boundary string) (*Reader, error) {
	if boundary == "" || len(boundary) > maxBoundary {
		return nil, ErrMalformed
	}
	return &Reader{
		src:   src,
		dash:  []byte("--" + boundary),
		delim: []byte("\r\n--" + boundary),
		pend:  make([]byte, 0, readSize),
	}, nil
}

// Part is a part's name and, for a file, its file name.
type Part struct {
	Name     string
	FileName string
}

// more reads once from src, appending to pend. It returns src's error, if
// any, and an error when src has already ended.
func (fr *Reader) more() error {
	if fr.err != nil {
		return fr.err
	}
	if len(fr.pend) == cap(fr.pend) {
		grown := make([]byte, len(fr.pend), max(2*cap(fr.pend), readSize))
		copy(grown, fr.pend)
		fr.pend = grown
	}
	n, err := fr.read(fr.pend[len(fr.pend):cap(fr.pend)])
	fr.pend = fr.pend[:len(fr.pend)+n]
	if err != nil {
		fr.err = err
		if n > 0 {
			return nil
		}
		return err
	}
	return nil
}

// read reads from src into p. A source that keeps returning nothing, and
// no error, fails the body with io.ErrNoProgress, as bufio does.
func (fr *Reader) read(p []byte) (int, error) {
	for range 100 {
		if n, err := fr.src.Read(p); n > 0 || err != nil {
			return n, err
		}
	}
	return 0, io.ErrNoProgress
}

// consume drops the first n bytes of pend, moving the rest to the front.
func (fr *Reader) consume(n int) {
	fr.pend = fr.pend[:copy(fr.pend, fr.pend[n:])]
}

// need reads until pend holds at least n bytes; a body that ends first is
// malformed.
func (fr *Reader) need(n int) error {
	for len(fr.pend) < n {
		if err := fr.more(); err != nil {
			return truncated(err)
		}
	}
	return nil
}

// truncated turns the end of the body into ErrMalformed and passes any
// other read error through.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return ErrMalformed
	}
	return err
}

// NextPart skips what is left of the current part and returns the next
// one's name and file name; io.EOF after the last part.
func (fr *Reader) NextPart() (Part, error) {
	if fr.done {
		return Part{}, io.EOF
	}
	if !fr.started {
		if err := fr.skipPreamble(); err != nil {
			return Part{}, err
		}
		fr.started = true
	} else if fr.inPart {
		if err := fr.skipPart(); err != nil {
			return Part{}, err
		}
	}
	fr.inPart = false
	// After a delimiter: "--" closes the body; otherwise optional blanks
	// and CRLF, then the part's headers.
	if err := fr.need(2); err != nil {
		return Part{}, err
	}
	if fr.pend[0] == '-' && fr.pend[1] == '-' {
		fr.done = true
		return Part{}, io.EOF
	}
	// The blanks (transport padding) are counted in one pass and consumed
	// at once, and there may be only a few: consuming them one by one would
	// move what is pending once per byte.
	blanks := 0
	for {
		for blanks < len(fr.pend) && (fr.pend[blanks] == ' ' || fr.pend[blanks] == '\t') {
			blanks++
		}
		if blanks > maxPadding {
			return Part{}, ErrMalformed
		}
		if blanks+2 <= len(fr.pend) {
			break
		}
		if err := fr.more(); err != nil {
			return Part{}, truncated(err)
		}
	}
	if fr.pend[blanks] != '\r' || fr.pend[blanks+1] != '\n' {
		return Part{}, ErrMalformed
	}
	fr.consume(blanks + 2)
	p, err := fr.readHeaders()
	if err != nil {
		return Part{}, err
	}
	fr.inPart = true
	return p, nil
}

// skipPreamble consumes everything up to and including the first delimiter.
func (fr *Reader) skipPreamble() error {
	for {
		if len(fr.pend) >= len(fr.dash) && bytes.Equal(fr.pend[:len(fr.dash)], fr.dash) {
			fr.consume(len(fr.dash))
			return nil
		}
		if i := bytes.Index(fr.pend, fr.delim); i >= 0 {
			fr.consume(i + len(fr.delim))
			return nil
		}
		if len(fr.pend) > maxPreamble {
			return ErrMalformed
		}
		if err := fr.more(); err != nil {
			return truncated(err)
		}
	}
}

// readHeaders consumes a part's header block and its blank line.
func (fr *Reader) readHeaders() (Part, error) {
	end := 0
	for {
		if len(fr.pend) >= 2 && fr.pend[0] == '\r' && fr.pend[1] == '\n' {
			end = 2 // no headers at all
			break
		}
		if i := bytes.Index(fr.pend, []byte("\r\n\r\n")); i >= 0 {
			end = i + 4
			break
		}
		if len(fr.pend) > maxPartHeaders {
			return Part{}, ErrMalformed
		}
		if err := fr.more(); err != nil {
			return Part{}, truncated(err)
		}
	}
	block := fr.pend[:end]
	if end == 2 {
		block = []byte("\r\n")
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(block))).ReadMIMEHeader()
	fr.consume(end)
	if err != nil {
		return Part{}, ErrMalformed
	}
	var p Part
	if d, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil && strings.EqualFold(d, "form-data") {
		p.Name, p.FileName = params["name"], params["filename"]
	}
	return p, nil
}

// skipPart consumes the rest of the current part and its closing delimiter.
func (fr *Reader) skipPart() error {
	keep := len(fr.delim) - 1
	for {
		if i := bytes.Index(fr.pend, fr.delim); i >= 0 {
			fr.consume(i + len(fr.delim))
			fr.inPart = false
			return nil
		}
		if len(fr.pend) > keep {
			fr.consume(len(fr.pend) - keep)
		}
		if err := fr.more(); err != nil {
			return truncated(err)
		}
	}
}

// ReadValue reads the current part's body whole when it is at most limit
// bytes. A longer one is skipped and reported by tooLong.
func (fr *Reader) ReadValue(limit int) (value []byte, tooLong bool, err error) {
	for {
		if i := bytes.Index(fr.pend, fr.delim); i >= 0 {
			if i > limit {
				fr.consume(i + len(fr.delim))
				fr.inPart = false
				return nil, true, nil
			}
			value = bytes.Clone(fr.pend[:i])
			fr.consume(i + len(fr.delim))
			fr.inPart = false
			return value, false, nil
		}
		if len(fr.pend) > limit+len(fr.delim) {
			return nil, true, fr.skipPart()
		}
		if err := fr.more(); err != nil {
			return nil, false, truncated(err)
		}
	}
}

// Head returns up to n of the current part's first bytes without
// consuming them (fewer when the part is shorter).
func (fr *Reader) Head(n int) ([]byte, error) {
	for {
		if i := bytes.Index(fr.pend, fr.delim); i >= 0 {
			return bytes.Clone(fr.pend[:min(i, n)]), nil
		}
		if len(fr.pend) >= n+len(fr.delim) {
			return bytes.Clone(fr.pend[:n]), nil
		}
		if err := fr.more(); err != nil {
			return nil, truncated(err)
		}
	}
}

// File returns the current part's body as a blob.Source. Each Fill reads
// from the connection straight into the chunk it is given; when the
// delimiter is not in it, it keeps back the chunk's last bytes (they could
// begin the delimiter) and enough more to hand out a multiple of the
// direct-I/O block size, and puts them at the front of the next chunk.
func (fr *Reader) File() blob.Source { return (*fileSource)(fr) }

type fileSource Reader

func (fs *fileSource) Fill(buf []byte) (int, error) {
	fr := (*Reader)(fs)
	if !fr.inPart {
		return 0, io.EOF
	}
	if len(buf) <= len(fr.delim) {
		// Too small to hold a delimiter and a byte more: no progress.
		return 0, io.ErrShortBuffer
	}
	keep := len(fr.delim) - 1
	if len(fr.pend) > len(buf) { // only with a buf smaller than what was read ahead
		return fs.fillFromPending(buf)
	}
	n := copy(buf, fr.pend)
	fr.pend = fr.pend[:0]
	searched := 0 // buf[:searched] holds no delimiter start
	for {
		if i := bytes.Index(buf[searched:n], fr.delim); i >= 0 {
			i += searched
			fr.pend = append(fr.pend, buf[i+len(fr.delim):n]...)
			fr.inPart = false
			return i, io.EOF
		}
		searched = max(0, n-keep)
		if n == len(buf) {
			break
		}
		if fr.err != nil {
			return 0, truncated(fr.err)
		}
		m, err := fr.read(buf[n:])
		n += m
		if err != nil {
			fr.err = err
		}
	}
	out := searched
	if aligned := out &^ (blob.DirectAlign - 1); aligned > 0 {
		out = aligned
	}
	fr.pend = append(fr.pend, buf[out:n]...)
	return out, nil
}

// fillFromPending fills buf from what was read ahead, which is more than
// buf holds.
func (fs *fileSource) fillFromPending(buf []byte) (int, error) {
	fr := (*Reader)(fs)
	for {
		if i := bytes.Index(fr.pend, fr.delim); i >= 0 {
			if i <= len(buf) {
				n := copy(buf, fr.pend[:i])
				fr.consume(i + len(fr.delim))
				fr.inPart = false
				return n, io.EOF
			}
			n := copy(buf, fr.pend[:i])
			fr.consume(n)
			return n, nil
		}
		// The last bytes could begin a delimiter; those before cannot.
		if safe := len(fr.pend) - (len(fr.delim) - 1); safe > 0 {
			n := copy(buf, fr.pend[:safe])
			fr.consume(n)
			return n, nil
		}
		if err := fr.more(); err != nil {
			return 0, truncated(err)
		}
	}
}
