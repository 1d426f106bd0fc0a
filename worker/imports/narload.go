package imports

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"
	"unicode/utf8"

	"changemaker/internal/address"
	"changemaker/storage"
	"changemaker/worker/imports/nar"
)

// opener opens one file of a part: a loose file or a release entry.
type opener func() (io.ReadCloser, error)

// partFiles finds a NAR part's Address file and its Location files.
// reason is set when the upload is not what it claims.
func (r *partRun) partFiles(root *os.Root) (addr opener, locs []namedOpener, closeFn func(), reason string, err error) {
	dir := r.imp.Dir
	closeFn = func() {}
	if r.part.Archive == "" {
		addr = func() (io.ReadCloser, error) { return root.Open(path.Join(dir, r.part.Name)) }
		for _, l := range r.part.LocationFiles {
			name := l
			locs = append(locs, namedOpener{name, func() (io.ReadCloser, error) { return root.Open(path.Join(dir, name)) }})
		}
		return addr, locs, closeFn, "", nil
	}
	f, err := root.Open(path.Join(dir, r.part.Archive))
	if err != nil {
		return nil, nil, closeFn, "", fmt.Errorf("open %s: %w", r.part.Archive, err)
	}
	closeFn = func() { f.Close() }
	st, err := f.Stat()
	if err != nil {
		closeFn()
		return nil, nil, func() {}, "", err
	}
	rel, err := nar.OpenRelease(f, st.Size())
	var fe *nar.FormatError
	if errors.As(err, &fe) {
		closeFn()
		return nil, nil, func() {}, fe.Reason, nil
	}
	if err != nil {
		closeFn()
		return nil, nil, func() {}, "", err
	}
	entry, ok := rel.File(strings.TrimPrefix(r.part.Name, r.part.Archive+"/"))
	if !ok {
		closeFn()
		return nil, nil, func() {}, "the file is no longer in the release archive", nil
	}
	addr = entry.Open
	for _, l := range r.part.LocationFiles {
		if lf, ok := rel.File(l); ok {
			locs = append(locs, namedOpener{l, lf.Open})
		}
	}
	return addr, locs, closeFn, "", nil
}

type namedOpener struct {
	name string
	open opener
}

// permanentReason tells a file that is not what it claims (a reason for
// people) from a failure worth retrying ("").
func permanentReason(err error) string {
	var fe *nar.FormatError
	var ce flate.CorruptInputError
	switch {
	case errors.As(err, &fe):
		return fe.Reason
	case errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrAlgorithm),
		errors.As(err, &ce), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("the release archive is damaged (%v)", err)
	}
	return ""
}

// textOnly fails a file whose first bytes are not text: a CSV file holds
// no NUL byte, and is UTF-8 (a cut at the end of the sample is allowed).
func textOnly(br *bufio.Reader, name string) string {
	head, _ := br.Peek(4096)
	if len(head) == 0 {
		return ""
	}
	cut := len(head)
	for i := 0; i < 3 && cut > 0 && !utf8.Valid(head[:cut]); i++ {
		cut--
	}
	if strings.IndexByte(string(head), 0) >= 0 || !utf8.Valid(head[:cut]) {
		return fmt.Sprintf("%s is not a CSV file: it holds binary data", name)
	}
	return ""
}

func (r *partRun) loadNAR(ctx context.Context) (reason string, err error) {
	root, err := os.OpenRoot(r.h.Root)
	if err != nil {
		return "", fmt.Errorf("open IMPORT_ROOT: %w", err)
	}
	defer root.Close()
	openAddr, locs, closeArchive, reason, err := r.partFiles(root)
	if err != nil || reason != "" {
		return reason, err
	}
	defer closeArchive()

	f := r.imp.Filters
	s, err := r.openSlots(ctx, storage.ImportNAR, f.BBox)
	if err != nil {
		return "", err
	}
	defer s.close()
	// The province's buildings and their published points, before the
	// addresses that join them: each slot gets its own buildings' points.
	for _, l := range locs {
		if reason, err := r.loadLocationFile(ctx, s, l); err != nil || reason != "" {
			return reason, err
		}
	}

	rc, err := openAddr()
	if err != nil {
		if reason := permanentReason(err); reason != "" {
			return reason, nil
		}
		return "", err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	if reason := textOnly(br, path.Base(r.part.Name)); reason != "" {
		return reason, nil
	}
	ar, err := nar.NewAddressReader(br)
	if err != nil {
		if reason := permanentReason(err); reason != "" {
			return reason, nil
		}
		return "", err
	}
	// Resume after the rows every slot has committed: those are counted.
	for from := s.minDone(); int64(ar.Stats().Rows) < from; {
		_, err := ar.Next()
		var re *nar.RowError
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.As(err, &re) {
			if reason := permanentReason(err); reason != "" {
				return reason, nil
			}
			return "", err
		}
	}
	s.run(func(sl *slot, b slotBatch) (bool, error) { return r.loadBatch(s.ctx, sl, b) })
	reason, err = r.readAddresses(ctx, s, ar)
	s.wait()
	cancelled, serr := s.result()
	switch {
	case serr != nil:
		return "", serr
	case cancelled:
		r.cancelled = true
		return "", nil
	}
	return reason, err
}

// readAddresses reads the Address file and hands each row to its slot,
// every slot's batch as it fills, and at the end every slot's last one.
// Rows a slot had committed before (a task that runs again) are passed by.
func (r *partRun) readAddresses(ctx context.Context, s *slots, ar *nar.AddressReader) (string, error) {
	f := r.imp.Filters
	prov, muni, postal := strings.ToUpper(strings.TrimSpace(f.Province)), strings.TrimSpace(f.Municipality),
		strings.ToUpper(strings.ReplaceAll(f.PostalPrefix, " ", ""))
	n := len(s.list)
	for {
		a, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		row := int64(ar.Stats().Rows)
		var re *nar.RowError
		if errors.As(err, &re) {
			if sl := s.list[slotOf("", re.Line, n)]; row > sl.done {
				sl.batch.progress.Read++
				r.skipIn(&sl.batch.progress, re.Line, re.Reason)
			}
			continue
		}
		if err != nil {
			if reason := permanentReason(err); reason != "" {
				return reason, nil
			}
			return "", err
		}
		sl := s.list[slotOf(a.LocGUID, a.SourceLine, n)]
		if row <= sl.done { // counted by an earlier run
			continue
		}
		p := &sl.batch.progress
		p.Read++
		if (prov != "" && prov != a.ProvCode && prov != strings.ToUpper(a.MailProvince)) ||
			(muni != "" && !strings.EqualFold(muni, a.Municipality)) ||
			(postal != "" && !strings.HasPrefix(strings.ToUpper(strings.ReplaceAll(a.PostalCode, " ", "")), postal)) {
			p.Filtered++
			continue
		}
		ir := narRow(a)
		if problem := ir.Problem(); problem != "" {
			r.skipIn(p, ir.Line, problem)
			continue
		}
		sl.batch.rows = append(sl.batch.rows, ir)
		if len(sl.batch.rows) >= r.h.BatchSize {
			p.RowsDone = row
			if !s.hand(sl) {
				return "", ctx.Err()
			}
		}
	}
	// The whole file is read: each slot's last batch says so.
	total := int64(ar.Stats().Rows)
	for _, sl := range s.list {
		if total <= sl.done {
			continue
		}
		sl.batch.progress.RowsDone = total
		if !s.hand(sl) {
			return "", ctx.Err()
		}
	}
	return "", nil
}

// loadBatch loads one of a slot's batches, unless the import has been
// cancelled meanwhile (then it returns false).
func (r *partRun) loadBatch(ctx context.Context, sl *slot, b slotBatch) (bool, error) {
	sl.conn.mu.Lock()
	defer sl.conn.mu.Unlock()
	st, err := sl.conn.loader.ImportStatus(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if st != storage.ImportRunning && st != storage.ImportQueued {
		return false, nil
	}
	b.progress.Slot = sl.n
	res, err := sl.conn.loader.Load(ctx, b.rows, b.progress)
	if err != nil {
		return false, err
	}
	r.h.Metrics.rows(r.imp.Kind, res, b.progress)
	if r.h.afterBatch != nil {
		r.h.afterBatch()
	}
	return true, nil
}

// locationChunk is how many Location rows go to a slot at once.
const locationChunk = 1024

// loadLocationFile reads a Location file once and copies each building's
// point into the temporary table of its slot's connection, all slots at
// once.
func (r *partRun) loadLocationFile(ctx context.Context, s *slots, l namedOpener) (string, error) {
	rc, err := l.open()
	if err != nil {
		if reason := permanentReason(err); reason != "" {
			return path.Base(l.name) + ": " + reason, nil
		}
		return "", err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	if reason := textOnly(br, path.Base(l.name)); reason != "" {
		return reason, nil
	}
	lr, err := nar.NewLocationReader(br)
	if err != nil {
		if reason := permanentReason(err); reason != "" {
			return path.Base(l.name) + ": " + reason, nil
		}
		return "", err
	}
	// One COPY per connection, each of the buildings of the slots loading
	// through it.
	n, k := len(s.list), len(s.conns)
	chans := make([]chan []storage.LocationPoint, k)
	var wg sync.WaitGroup
	for i, c := range s.conns {
		ch := make(chan []storage.LocationPoint, 2)
		chans[i] = ch
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cur []storage.LocationPoint
			_, err := c.loader.LoadLocations(s.ctx, func() (storage.LocationPoint, bool, error) {
				for len(cur) == 0 {
					next, ok := <-ch
					if !ok {
						return storage.LocationPoint{}, false, nil
					}
					cur = next
				}
				p := cur[0]
				cur = cur[1:]
				return p, true, nil
			})
			if err != nil {
				s.fail(err)
			}
		}()
	}
	bufs := make([][]storage.LocationPoint, k)
	send := func(i int) bool {
		select {
		case chans[i] <- bufs[i]:
			bufs[i] = make([]storage.LocationPoint, 0, locationChunk)
			return true
		case <-s.ctx.Done():
			return false
		}
	}
	var readErr error
	for {
		loc, err := lr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *nar.RowError
		if errors.As(err, &re) || (err == nil && loc.LocGUID == "") {
			continue // a bad Location row: its addresses fall back on BG_X/BG_Y
		}
		if err != nil {
			readErr = err
			break
		}
		i := slotOf(loc.LocGUID, 0, n) % k
		bufs[i] = append(bufs[i], storage.LocationPoint{LocationID: loc.LocGUID, Lat: loc.Lat, Lng: loc.Lng, HasPoint: loc.HasPoint})
		if len(bufs[i]) == locationChunk && !send(i) {
			break
		}
	}
	for i := range bufs {
		if readErr == nil && len(bufs[i]) > 0 {
			send(i)
		}
		close(chans[i])
	}
	wg.Wait()
	if _, err := s.result(); err != nil {
		return "", err
	}
	if readErr != nil {
		if reason := permanentReason(readErr); reason != "" {
			return path.Base(l.name) + ": " + reason, nil
		}
		return "", readErr
	}
	return "", ctx.Err()
}

// narRow turns a register row into a row to load: the building's line is
// the address without its unit; the unit goes on the unit.
func narRow(a nar.Address) storage.ImportRow {
	b := a
	b.Unit = ""
	line := nar.BuildAddressLine(b)
	if line == "" {
		line = a.NonCivic
	}
	city := a.MailCity
	if city == "" {
		city = a.Municipality
	}
	prov := a.MailProvince
	if prov == "" {
		prov = provinceAbbrev(a.ProvCode)
	}
	row := storage.ImportRow{
		Line: a.SourceLine, LocationID: a.LocGUID, UnitID: a.AddrGUID, Unit: a.Unit,
		Address: line, City: city, Province: prov, PostalCode: formatPostal(a.PostalCode),
		BuildingType: buildingUse(a.BuildingUse),
		AddressKey:   address.FromParts(a.CivicNo, a.CivicSuffix, a.StreetName, a.StreetType, a.StreetDir, "").String(),
	}
	if a.HasXY {
		row.Lat, row.Lng, row.HasPoint = a.Lat, a.Lng, true
	}
	return row
}

// formatPostal gives "K1A 0B1", or "" for anything that is not a postal code.
func formatPostal(s string) string {
	p := address.PostalCode(s)
	if len(p) != 6 {
		return ""
	}
	return p[:3] + " " + p[3:]
}

// provinceAbbrev maps the register's PROV_CODE (SGC) to the postal abbreviation.
func provinceAbbrev(code string) string {
	switch code {
	case "10":
		return "NL"
	case "11":
		return "PE"
	case "12":
		return "NS"
	case "13":
		return "NB"
	case "24":
		return "QC"
	case "35":
		return "ON"
	case "46":
		return "MB"
	case "47":
		return "SK"
	case "48":
		return "AB"
	case "59":
		return "BC"
	case "60":
		return "YT"
	case "61":
		return "NT"
	case "62":
		return "NU"
	}
	return ""
}

// buildingUse names the register's BU_USE codes; others are kept as published.
func buildingUse(code string) string {
	switch code {
	case "1":
		return "RESIDENTIAL"
	case "2":
		return "PARTLY_RESIDENTIAL"
	case "3":
		return "NON_RESIDENTIAL"
	case "4":
		return "UNKNOWN"
	}
	return code
}
