package imports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"
	"sync/atomic"
	"testing"

	"changemaker/storage"
	"changemaker/tasks"
)

const synthAddressHeader = `LOC_GUID,ADDR_GUID,APT_NO_LABEL,CIVIC_NO,CIVIC_NO_SUFFIX,OFFICIAL_STREET_NAME,OFFICIAL_STREET_TYPE,OFFICIAL_STREET_DIR,PROV_CODE,CSD_ENG_NAME,CSD_FRE_NAME,CSD_TYPE_ENG_CODE,CSD_TYPE_FRE_CODE,MAIL_STREET_NAME,MAIL_STREET_TYPE,MAIL_STREET_DIR,MAIL_MUN_NAME,MAIL_PROV_ABVN,MAIL_POSTAL_CODE,BG_DLS_LSD,BG_DLS_QTR,BG_DLS_SCTN,BG_DLS_TWNSHP,BG_DLS_RNG,BG_DLS_MRD,BG_X,BG_Y,BF_UID,BF_SIDE,BU_N_CIVIC_ADD,BU_USE`

// synthRelease is an Address and a Location file of n addresses in the
// 2026 layout: one building in three has three apartments, one in seven
// has no Location row (its point comes from BG_X/BG_Y), and every
// seventeenth address is broken in one of three ways.
func synthRelease(n int) map[string][]byte {
	var addr, loc bytes.Buffer
	fmt.Fprintln(&addr, synthAddressHeader)
	fmt.Fprintln(&loc, "LOC_GUID,BG_LATITUDE,BG_LONGITUDE,CSD_CODE,CSD_ENG_NAME")
	for i, bld := 0, 0; i < n; bld++ {
		locID := fmt.Sprintf("5f1c2a9e-0b6e-4c61-9a0e-%012d", bld)
		if bld%7 != 0 {
			fmt.Fprintf(&loc, "%s,%.6f,%.6f,3506008,Ottawa\n", locID, 45.30+float64(bld)*0.0003, -75.80+float64(bld%50)*0.0003)
		}
		x, y := 7470897.6+float64(bld)*15, 1190799.4+float64(bld%50)*15
		units := 1
		if bld%3 == 0 {
			units = 3
		}
		for u := 0; u < units && i < n; u++ {
			apt := ""
			if units > 1 {
				apt = strconv.Itoa(101 + u)
			}
			addrID, xs := guid(i), fmt.Sprintf("%.4f", x)
			switch i % 17 {
			case 5:
				addrID = "" // empty ADDR_GUID
			case 11:
				xs = "east" // not a coordinate
			}
			if i%17 == 14 {
				fmt.Fprintf(&addr, "%s,%s,%s\n", locID, addrID, apt) // too few columns
			} else {
				fmt.Fprintf(&addr, "%s,%s,%s,%d,,Bank,St,,35,Ottawa,Ottawa,CY,V,Bank,St,,Ottawa,ON,K1S 3W%d,,,,,,,%s,%.4f,BF-%d,L,,1\n",
					locID, addrID, apt, 10+bld, bld%10, xs, y, bld)
			}
			i++
		}
	}
	return map[string][]byte{"Address_35.csv": addr.Bytes(), "Location_35.csv": loc.Bytes()}
}

func counters(imp storage.MapImport) [6]int64 {
	return [6]int64{imp.RowsRead, imp.Inserted, imp.Updated, imp.Skipped, imp.Filtered, int64(len(imp.SkippedLines))}
}

// TestSlotsLoadAsOne: a file loaded by three connections at once, in small
// batches, gives the same buildings, units, points and counts as one
// connection, and a second import of it updates every unit and adds none.
func TestSlotsLoadAsOne(t *testing.T) {
	t.Parallel()
	files := synthRelease(400)
	one := newFixture(t)
	one.h.Loaders = 1
	want := one.run(t, one.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{}))
	if want.Status != storage.ImportDone || want.Inserted == 0 || want.Skipped == 0 {
		t.Fatalf("one connection: %+v", counters(want))
	}

	three := newFixture(t)
	three.h.Loaders, three.h.BatchSize = 3, 7
	got := three.run(t, three.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{}))
	if got.Status != storage.ImportDone || counters(got) != counters(want) {
		t.Fatalf("three connections: %s %v, want DONE %v (read, inserted, updated, skipped, filtered, lines)",
			got.Status, counters(got), counters(want))
	}
	if !reflect.DeepEqual(got.SkippedLines, want.SkippedLines) {
		t.Fatalf("skipped lines with three connections:\n%v\nwith one:\n%v", got.SkippedLines, want.SkippedLines)
	}
	if a, b := one.units(t), three.units(t); !reflect.DeepEqual(a, b) {
		t.Fatalf("three connections loaded %d units unlike one connection's %d", len(b), len(a))
	}
	if a, b := one.count(t, "map_locations"), three.count(t, "map_locations"); a != b {
		t.Fatalf("buildings: %d with three connections, %d with one", b, a)
	}

	again := three.run(t, three.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{}))
	if again.Inserted != 0 || again.Updated != want.Inserted {
		t.Fatalf("re-import: inserted %d updated %d, want 0 and %d", again.Inserted, again.Updated, want.Inserted)
	}
	if n := three.count(t, "map_units"); n != int(want.Inserted) {
		t.Fatalf("after the re-import %d units, want %d", n, want.Inserted)
	}
}

// TestSlotsResumeAfterCrash: a part loaded by three connections dies after
// a few batches; the task that runs again (with IMPORT_LOADERS changed
// meanwhile: the part keeps its three slots) and once more after that ends
// with the counts and rows of a run that never stopped.
func TestSlotsResumeAfterCrash(t *testing.T) {
	t.Parallel()
	files := synthRelease(300)
	ref := newFixture(t)
	want := ref.run(t, ref.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{}))

	f := newFixture(t)
	f.h.Loaders, f.h.BatchSize = 3, 5
	id := f.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{})
	ctx := context.Background()
	f.plan(t, id)
	file, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	crashCtx, crash := context.WithCancel(ctx)
	var batches atomic.Int32
	f.h.afterBatch = func() {
		if batches.Add(1) == 6 {
			crash()
		}
	}
	if err := f.h.File(crashCtx, file); err == nil {
		t.Fatal("the interrupted run returned nil")
	}
	mid := f.get(t, id)
	if mid.Status != storage.ImportRunning || mid.Inserted == 0 || mid.Inserted >= want.Inserted {
		t.Fatalf("after the crash: %s with %d inserted, want RUNNING with part of %d", mid.Status, mid.Inserted, want.Inserted)
	}
	f.h.afterBatch = nil
	f.h.Loaders = 2
	for run := 0; run < 2; run++ { // and once more, as asynq may deliver a finished task again
		if err := f.h.File(ctx, file); err != nil {
			t.Fatal(err)
		}
	}
	got := f.get(t, id)
	if got.Status != storage.ImportDone || counters(got) != counters(want) {
		t.Fatalf("after resuming: %s %v, want DONE %v (read, inserted, updated, skipped, filtered, lines)",
			got.Status, counters(got), counters(want))
	}
	if a, b := ref.units(t), f.units(t); !reflect.DeepEqual(a, b) {
		t.Fatalf("resumed import holds %d units unlike an uninterrupted one's %d", len(b), len(a))
	}
	var slots int
	if err := f.store.Pool.QueryRow(ctx, `SELECT cardinality(slot_rows_done) FROM map_import_parts WHERE import_id = $1`, id).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if slots != 3 {
		t.Fatalf("the part has %d slots, want the 3 of its first load", slots)
	}
}

// TestSlotsStopWhenCancelled: an import cancelled while three connections
// load it stops after the batches already under way, CANCELLED.
func TestSlotsStopWhenCancelled(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.h.Loaders, f.h.BatchSize = 3, 5
	id := f.upload(t, storage.ImportNAR, synthRelease(300), storage.ImportFilters{}, storage.CSVMapping{})
	f.h.afterBatch = func() {
		if _, err := f.store.CancelMapImport(context.Background(), id); err != nil && !errors.Is(err, storage.ErrConflict) {
			t.Error(err)
		}
	}
	imp := f.run(t, id)
	// At most one batch per connection got past the status check before
	// the cancel.
	if imp.Status != storage.ImportCancelled || imp.Parts[0].Status != storage.ImportCancelled || imp.Inserted > 3*5 {
		t.Fatalf("status %s part %s inserted %d, want CANCELLED after at most 3 batches of 5",
			imp.Status, imp.Parts[0].Status, imp.Inserted)
	}
}

func TestSlotOfIsStable(t *testing.T) {
	t.Parallel()
	counts := make([]int, 4)
	for i := 0; i < 4000; i++ {
		s := slotOf(guid(i), i, 4)
		if s != slotOf(guid(i), i+7, 4) {
			t.Fatal("a building's slot depends on the line")
		}
		counts[s]++
		// A slot's progress is stored: the hash must never change.
		h := fnv.New32a()
		h.Write([]byte(guid(i)))
		if want := int(h.Sum32() % 4); s != want {
			t.Fatalf("slotOf(%s) = %d, hash/fnv's FNV-1a says %d", guid(i), s, want)
		}
	}
	for s, n := range counts {
		if n < 800 || n > 1200 {
			t.Errorf("slot %d holds %d of 4,000 buildings: %v", s, n, counts)
		}
	}
	if slotOf(guid(1), 3, 1) != 0 || slotOf("", 5, 3) != 2 {
		t.Error("one slot, or a row without a building")
	}
}

// TestSlotsShareABusyPool: with the pool all but one connection taken,
// three slots load through the one left — the same result, no waiting for
// connections that will not come.
func TestSlotsShareABusyPool(t *testing.T) {
	t.Parallel()
	files := synthRelease(200)
	ref := newFixture(t)
	want := ref.run(t, ref.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{}))

	f := newFixture(t)
	f.h.Loaders, f.h.BatchSize = 3, 9
	id := f.upload(t, storage.ImportNAR, files, storage.ImportFilters{}, storage.CSVMapping{})
	f.plan(t, id)
	pool := f.store.Pool
	for i := int32(0); i < pool.Config().MaxConns-1; i++ {
		c, err := pool.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
	}
	file, _ := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: id, Part: "Address_35.csv"})
	if err := f.h.File(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	got := f.get(t, id)
	if got.Status != storage.ImportDone || counters(got) != counters(want) {
		t.Fatalf("through one connection: %s %v, want DONE %v", got.Status, counters(got), counters(want))
	}
	if a, b := ref.units(t), f.units(t); !reflect.DeepEqual(a, b) {
		t.Fatalf("through one connection %d units, want %d as with one slot", len(b), len(a))
	}
}
