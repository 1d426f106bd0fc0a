package nar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
)

// rowSource produces an Address file in the 2026 layout, row by row, without
// holding it in memory: a file as large as a province's.
type rowSource struct {
	rows, next int
	buf        bytes.Buffer
}

const benchHeader = "LOC_GUID,ADDR_GUID,APT_NO_LABEL,CIVIC_NO,CIVIC_NO_SUFFIX,OFFICIAL_STREET_NAME," +
	"OFFICIAL_STREET_TYPE,OFFICIAL_STREET_DIR,PROV_CODE,CSD_ENG_NAME,CSD_FRE_NAME,CSD_TYPE_ENG_CODE," +
	"CSD_TYPE_FRE_CODE,MAIL_STREET_NAME,MAIL_STREET_TYPE,MAIL_STREET_DIR,MAIL_MUN_NAME,MAIL_PROV_ABVN," +
	"MAIL_POSTAL_CODE,BG_DLS_LSD,BG_DLS_QTR,BG_DLS_SCTN,BG_DLS_TWNSHP,BG_DLS_RNG,BG_DLS_MRD,BG_X,BG_Y," +
	"BF_UID,BF_SIDE,BU_N_CIVIC_ADD,BU_USE\r\n"

func newRowSource(rows int) *rowSource {
	s := &rowSource{rows: rows}
	s.buf.WriteString("\ufeff" + benchHeader)
	return s
}

func (s *rowSource) Read(p []byte) (int, error) {
	for s.buf.Len() < len(p) && s.next < s.rows {
		i := s.next
		s.next++
		unit := ""
		if i%4 != 0 {
			unit = fmt.Sprint(100 + i%4)
		}
		// Real rows: a quarter of them units of a building, every 50th without a point.
		x, y := fmt.Sprintf("%.4f", 7470897.6003+float64(i%5000)), fmt.Sprintf("%.4f", 1190799.4469+float64(i%3000))
		if i%50 == 0 {
			x, y = "", ""
		}
		fmt.Fprintf(&s.buf, "\"%08x-0b6e-4c61-9a0e-%012d\",\"a7d3e4b2-8c1f-4e2a-b5d6-%012d\",\"%s\",\"%d\",\"\","+
			"\"Main\",\"St\",\"NW\",\"35\",\"Ottawa\",\"Ottawa\",\"CY\",\"V\",\"Main\",\"St\",\"NW\",\"Ottawa\",\"ON\","+
			"\"K1A 0A6\",\"\",\"\",\"\",\"\",\"\",\"\",\"%s\",\"%s\",\"BF%d\",\"L\",\"\",\"1\"\r\n",
			i/4, i/4, i, unit, 1+i%999, x, y, i%977)
	}
	if s.buf.Len() == 0 {
		return 0, io.EOF
	}
	return s.buf.Read(p)
}

// BenchmarkAddressReader measures rows parsed per second (no database): CSV,
// header lookup, coordinates, Lambert to latitude/longitude, address line.
func BenchmarkAddressReader(b *testing.B) {
	const rows = 100_000
	data, err := io.ReadAll(newRowSource(rows))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		ar, err := NewAddressReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := ar.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			total++
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
}

// Reading a file must not hold on to what it has read: the memory a reader
// keeps after 100,000 rows is what it kept after the first thousand.
func TestAddressReaderConstantMemory(t *testing.T) {
	// Not parallel: it measures the whole heap.
	ar, err := NewAddressReader(newRowSource(100_000))
	if err != nil {
		t.Fatal(err)
	}
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	read := func(n int) {
		for i := 0; i < n; i++ {
			if _, err := ar.Next(); err != nil {
				t.Fatalf("row %d: %v", i, err)
			}
		}
	}
	read(1000) // buffers at their working size
	before := heap()
	read(99_000)
	after := heap()
	if _, err := ar.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last row: %v", err)
	}
	if after > before+1<<20 {
		t.Errorf("heap grew from %d to %d bytes over 99,000 rows", before, after)
	}
	runtime.KeepAlive(ar)
}
