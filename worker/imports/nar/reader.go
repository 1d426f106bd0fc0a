// Package nar reads Statistics Canada's National Address Register (NAR):
// the Address_*.csv and Location_*.csv files of a release, loose or in the
// release .zip.
//
// Files hold millions of rows, so they are streamed one row at a time and
// nothing grows with the file. Columns are found by their header name, never
// by position, because releases add and move columns between years. A row
// that cannot be read (wrong number of fields, a coordinate that is not a
// number, a broken quote) is reported as a *RowError with its line number and
// reading goes on; only a file that is not what it claims to be stops
// reading, with a *FormatError a person can act on.
package nar

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxRecordBytes bounds one CSV record. A quote that is opened and never
// closed makes encoding/csv read the rest of the file as one field; without a
// bound a damaged file of several gigabytes would be buffered whole. Real NAR
// rows are a few hundred bytes.
const maxRecordBytes = 1 << 20

// FormatError says that a file is not what it claims to be (not CSV, not a
// NAR file, a broken zip). Reading cannot go on; Reason is meant for people.
type FormatError struct {
	Reason string
}

func (e *FormatError) Error() string { return e.Reason }

// RowError is one row that was skipped. Reading goes on after it.
type RowError struct {
	Line   int // line of the file where the row starts (the header is line 1)
	Reason string
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// Stats counts the data rows seen so far.
type Stats struct {
	Rows    int // data rows read, skipped ones included
	Skipped int // rows returned as *RowError
}

// table is the part both readers share: the header, the column lookup and
// one record at a time with its line number.
type table struct {
	what   string // "address file", for errors
	cr     *csv.Reader
	guard  *recordGuard
	header []string // upper-cased, trimmed names
	stats  Stats
	last   int   // line where the last record read started
	err    error // sticky: once a file is unreadable it stays so
}

// openTable reads the header row. what names the file kind in errors.
func openTable(r io.Reader, what string) (*table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// A BOM left in place would glue itself to the first column's name, and
	// make a quoted first name a CSV error.
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		if _, err := br.Discard(3); err != nil {
			return nil, fmt.Errorf("read %s: %w", what, err)
		}
	}
	guard := &recordGuard{r: br, limit: maxRecordBytes}
	cr := csv.NewReader(guard)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // counted against the header by next, per row
	t := &table{what: what, cr: cr, guard: guard, last: 1}

	rec, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register %s: the file is empty", what)}
	case errors.Is(err, errRecordTooLong):
		return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register %s: no header row (the first line is longer than %d bytes)", what, maxRecordBytes)}
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register %s: the header row is not CSV (%v)", what, pe.Err)}
		}
		return nil, fmt.Errorf("read %s header: %w", what, err)
	}
	t.header = make([]string, len(rec))
	for i, name := range rec {
		t.header[i] = strings.ToUpper(strings.TrimSpace(name))
	}
	return t, nil
}

// columns finds each name in the header; a missing name is -1, or an error
// when required.
func (t *table) columns(what string, required, optional []string) (map[string]int, error) {
	idx := make(map[string]int, len(required)+len(optional))
	for i := len(t.header) - 1; i >= 0; i-- { // the first of duplicate names wins
		idx[t.header[i]] = i
	}
	cols := make(map[string]int, len(required)+len(optional))
	var missing []string
	for _, name := range required {
		i, ok := idx[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		cols[name] = i
	}
	if len(missing) == 1 {
		return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register %s: no %s column", what, missing[0])}
	}
	if len(missing) > 1 {
		return nil, &FormatError{Reason: fmt.Sprintf("not a National Address Register %s: no %s columns", what, strings.Join(missing, ", "))}
	}
	for _, name := range optional {
		i, ok := idx[name]
		if !ok {
			i = -1
		}
		cols[name] = i
	}
	return cols, nil
}

// next returns the next record with the same number of fields as the header,
// and its line. A record that cannot be used is a *RowError; the record
// slice is reused by the following call.
func (t *table) next() ([]string, int, error) {
	if t.err != nil {
		return nil, 0, t.err
	}
	t.guard.reset()
	rec, err := t.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			t.err = io.EOF
		case errors.As(err, &pe):
			t.stats.Rows++
			t.stats.Skipped++
			t.last = pe.StartLine
			return nil, pe.StartLine, &RowError{Line: pe.StartLine, Reason: describeParseError(pe)}
		case errors.Is(err, errRecordTooLong):
			t.err = &FormatError{Reason: fmt.Sprintf("damaged CSV after line %d: a row longer than %d bytes (a quote that is never closed?)", t.last, maxRecordBytes)}
		default:
			t.err = fmt.Errorf("read %s after line %d: %w", t.what, t.last, err)
		}
		return nil, 0, t.err
	}
	line, _ := t.cr.FieldPos(0)
	t.last = line
	t.stats.Rows++
	if len(rec) != len(t.header) {
		t.stats.Skipped++
		return nil, line, &RowError{Line: line, Reason: fmt.Sprintf("%d fields, the header has %d", len(rec), len(t.header))}
	}
	return rec, line, nil
}

// skip counts a row the caller rejected.
func (t *table) skip(line int, reason string) *RowError {
	t.stats.Skipped++
	return &RowError{Line: line, Reason: reason}
}

func describeParseError(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`a " inside an unquoted field (line %d, column %d)`, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`a quoted field is not closed properly (line %d, column %d)`, pe.Line, pe.Column)
	default:
		return pe.Err.Error()
	}
}

var errRecordTooLong = errors.New("csv record too long")

// recordGuard fails a read once more than limit bytes have gone through it
// since the last reset; the reader resets it before every record. What the
// CSV reader buffers ahead counts too, so the bound is approximate.
type recordGuard struct {
	r     io.Reader
	n     int
	limit int
}

func (g *recordGuard) reset() { g.n = 0 }

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.n >= g.limit {
		return 0, errRecordTooLong
	}
	if rest := g.limit - g.n; len(p) > rest {
		p = p[:rest]
	}
	n, err := g.r.Read(p)
	g.n += n
	return n, err
}
