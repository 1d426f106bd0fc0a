package imports

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"strconv"
	"strings"

	"changemaker/internal/address"
	"changemaker/storage"
)

// maxCSVRecord bounds one CSV record: a quote never closed would otherwise
// make encoding/csv take the rest of the file as one field.
const maxCSVRecord = 1 << 20

// csvColumns is the mapping resolved against a file's header: the index of
// each mapped column, -1 for a field the mapping leaves out.
type csvColumns struct {
	address, city, province, postal, lat, lng, unit, name, phone, email, sourceID int
}

func resolveColumns(header []string, m storage.CSVMapping) (csvColumns, string) {
	idx := map[string]int{}
	for i := len(header) - 1; i >= 0; i-- {
		idx[strings.ToUpper(strings.TrimSpace(header[i]))] = i
	}
	var missing []string
	find := func(field, col string) int {
		col = strings.TrimSpace(col)
		if col == "" {
			return -1
		}
		i, ok := idx[strings.ToUpper(col)]
		if !ok {
			missing = append(missing, fmt.Sprintf("%q (mapped to %s)", col, field))
			return -1
		}
		return i
	}
	c := csvColumns{
		address: find("address", m.Address), city: find("city", m.City), province: find("province", m.Province),
		postal: find("postalCode", m.PostalCode), lat: find("latitude", m.Latitude), lng: find("longitude", m.Longitude),
		unit: find("unit", m.Unit), name: find("residentName", m.ResidentName), phone: find("phone", m.Phone),
		email: find("email", m.Email), sourceID: find("sourceId", m.SourceID),
	}
	if len(missing) > 0 {
		return c, "the CSV file has no column " + strings.Join(missing, ", ")
	}
	return c, ""
}

func (r *partRun) loadCSV(ctx context.Context) (reason string, err error) {
	root, err := os.OpenRoot(r.h.Root)
	if err != nil {
		return "", fmt.Errorf("open IMPORT_ROOT: %w", err)
	}
	defer root.Close()
	f, err := root.Open(path.Join(r.imp.Dir, r.part.Name))
	if err != nil {
		return "", fmt.Errorf("open %s: %w", r.part.Name, err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	if reason := textOnly(br, r.part.Name); reason != "" {
		return reason, nil
	}
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	guard := &recordGuard{r: br, limit: maxCSVRecord}
	cr := csv.NewReader(guard)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return "the CSV file is empty", nil
	case errors.Is(err, errRecordTooLong):
		return "not a CSV file: no header row", nil
	case err != nil:
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Sprintf("not a CSV file: the header row is not CSV (%v)", pe.Err), nil
		}
		return "", err
	}
	header = append([]string(nil), header...)
	cols, reason := resolveColumns(header, r.imp.Mapping)
	if reason != "" {
		return reason, nil
	}
	if err := r.openLoader(ctx, storage.ImportCSV, nil); err != nil {
		return "", err
	}
	defer r.loader.Close()

	var rows int64 // data rows read, bad ones included
	last := 1
	for {
		guard.n = 0
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			rows++
			last = pe.StartLine
			if rows > r.part.RowsDone {
				r.skip(pe.StartLine, describeParseError(pe))
			}
			continue
		case errors.Is(err, errRecordTooLong):
			return fmt.Sprintf("damaged CSV after line %d: a row longer than %d bytes (a quote that is never closed?)", last, maxCSVRecord), nil
		case err != nil:
			return "", err
		}
		rows++
		line, _ := cr.FieldPos(0)
		last = line
		if rows <= r.part.RowsDone { // counted by an earlier run
			continue
		}
		if len(rec) != len(header) {
			r.skip(line, fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		row, problem := csvRow(rec, cols, line)
		if problem != "" {
			r.skip(line, problem)
			continue
		}
		more, err := r.add(ctx, row, rows)
		if err != nil || !more {
			return "", err
		}
	}
	_, err = r.flush(ctx, rows)
	return "", err
}

func describeParseError(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Sprintf(`a " inside an unquoted field (line %d, column %d)`, pe.Line, pe.Column)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Sprintf(`a quoted field is not closed properly (line %d, column %d)`, pe.Line, pe.Column)
	}
	return pe.Err.Error()
}

func col(rec []string, i int) string {
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// csvRow builds the row to load. A building is identified by its address
// key (civic number, street, type, direction), postal code and city, so the
// units of one building join it; a unit by the mapped source ID, else by
// its building and label.
func csvRow(rec []string, c csvColumns, line int) (storage.ImportRow, string) {
	row := storage.ImportRow{
		Line: line, Address: col(rec, c.address), City: col(rec, c.city), Province: col(rec, c.province),
		PostalCode: formatPostal(col(rec, c.postal)), Unit: col(rec, c.unit),
		ResidentName: col(rec, c.name), Phone: col(rec, c.phone), Email: col(rec, c.email),
	}
	if row.Address == "" {
		return row, "the address is empty"
	}
	parsed := address.Parse(row.Address)
	if row.Unit == "" {
		row.Unit = parsed.Unit
	}
	if row.PostalCode == "" && parsed.PostalCode != "" {
		row.PostalCode = parsed.PostalCode[:3] + " " + parsed.PostalCode[3:]
	}
	building := parsed.Key.Building()
	row.AddressKey = building.String()
	ident := row.AddressKey
	if building.Civic == "" || building.Street == "" {
		ident = strings.ToUpper(strings.Join(strings.Fields(row.Address), " "))
	}
	row.LocationID = "csv:" + shortHash(ident+"|"+strings.ReplaceAll(row.PostalCode, " ", "")+"|"+strings.ToUpper(row.City))
	if id := col(rec, c.sourceID); id != "" {
		row.UnitID = id
	} else {
		row.UnitID = "csv:" + shortHash(row.LocationID+"|"+strings.ToUpper(row.Unit))
	}
	las, lngs := col(rec, c.lat), col(rec, c.lng)
	switch {
	case las == "" && lngs == "":
	case las == "" || lngs == "":
		return row, "latitude and longitude must be given together"
	default:
		lat, err1 := strconv.ParseFloat(las, 64)
		lng, err2 := strconv.ParseFloat(lngs, 64)
		if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng) || math.IsInf(lat, 0) || math.IsInf(lng, 0) {
			return row, fmt.Sprintf("latitude/longitude is not a number: %q, %q", clip(las), clip(lngs))
		}
		if lat < -90 || lat > 90 || lng < -180 || lng > 180 {
			return row, fmt.Sprintf("the point (%g, %g) is outside -90..90, -180..180", lat, lng)
		}
		row.Lat, row.Lng, row.HasPoint = lat, lng, true
	}
	return row, ""
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:12])
}

func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return strings.ToValidUTF8(s[:40], "") + "…"
}

var errRecordTooLong = errors.New("csv record too long")

// recordGuard fails a read once more than limit bytes have gone through it
// since n was last reset (before every record).
type recordGuard struct {
	r     io.Reader
	n     int
	limit int
}

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
