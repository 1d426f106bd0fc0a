// Package imports is the import fleet: it loads National Address Register
// releases and generic CSV address lists into map_locations and map_units.
//
// An upload is planned first (map:import-plan): the release archive is
// opened, loose files sorted, and one part recorded per Address (or CSV)
// file, each loaded by its own map:import-file task so that several import
// workers share a release. A part streams its file in batches; each batch
// goes to Postgres by COPY into a staging table and one upsert keyed on the
// unit's source ID (NAR: ADDR_GUID), and moves the part's counters in the
// same transaction. A task that runs again (a crash, a retry) resumes after
// the last committed batch, so nothing is counted twice.
package imports

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"changemaker/storage"
	"changemaker/tasks"
	"changemaker/worker/fleet"
	"changemaker/worker/imports/nar"
)

// Handler handles the import fleet's tasks.
type Handler struct {
	Store     *storage.Store
	Queue     *asynq.Client
	Root      string // IMPORT_ROOT
	BatchSize int
	// Loaders is how many connections load one NAR file at once
	// (IMPORT_LOADERS); 0 is 1.
	Loaders int
	// JoinRadiusMeters: a new building joins a MANUAL location of the same
	// address within it (MAP_MATCH_RADIUS_METERS); 0 never joins.
	JoinRadiusMeters float64
	Log              *slog.Logger
	Metrics          *Metrics // nil: no metrics

	// afterBatch, when set (tests), runs after each committed batch.
	afterBatch func()
}

// Register routes the import fleet's task types to their handlers.
func Register(mux *asynq.ServeMux, d fleet.Deps) {
	h := &Handler{Store: d.Store, Queue: d.Queue, Root: d.Config.Imports.Root,
		BatchSize: d.Config.Imports.BatchSize, Loaders: d.Config.Imports.Loaders, JoinRadiusMeters: float64(d.Config.Map.MatchRadiusMeters), Log: d.Log}
	if d.Metrics != nil {
		h.Metrics = NewMetrics(d.Metrics)
	}
	mux.HandleFunc(tasks.TypeMapImportPlan, h.Plan)
	mux.HandleFunc(tasks.TypeMapImportFile, h.File)
	mux.HandleFunc(tasks.TypeMapImportSweep, h.Sweep)
}

// enqueueTimeout bounds each enqueue of a part's task.
const enqueueTimeout = 5 * time.Second

// Plan records an import's parts and enqueues a task for each. Running it
// twice adds no part and enqueues nothing new (task IDs are per part).
func (h *Handler) Plan(ctx context.Context, t *asynq.Task) error {
	var p tasks.MapImportPlan
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	imp, err := h.Store.MapImportByID(ctx, p.ImportID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("plan import %d: %w", p.ImportID, err)
	}
	if imp.Status != storage.ImportQueued && imp.Status != storage.ImportRunning {
		return nil
	}
	parts, reason, err := h.planParts(imp)
	if err != nil && !lastAttempt(ctx) {
		return fmt.Errorf("plan import %d: %w", imp.ID, err)
	}
	if err != nil {
		h.Log.Error("import plan given up", "import_id", imp.ID, "err", err)
		reason = "the uploaded files could not be read; import them again"
	}
	if reason != "" {
		if err := h.Store.FailMapImport(ctx, imp.ID, reason); err != nil {
			return fmt.Errorf("plan import %d: %w", imp.ID, err)
		}
		h.Metrics.finished(imp.Kind, storage.ImportFailed, imp.CreatedAt)
		return fmt.Errorf("import %d: %s: %w", imp.ID, reason, asynq.SkipRetry)
	}
	if err := h.Store.AddMapImportParts(ctx, imp.ID, parts); err != nil {
		return fmt.Errorf("plan import %d: %w", imp.ID, err)
	}
	for _, part := range parts {
		task, err := tasks.NewMapImportFile(tasks.MapImportFile{ImportID: imp.ID, Part: part.Name})
		if err != nil {
			return err
		}
		ectx, cancel := context.WithTimeout(ctx, enqueueTimeout)
		_, err = h.Queue.EnqueueContext(ectx, task)
		cancel()
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue part %s of import %d: %w", part.Name, imp.ID, err)
		}
	}
	return nil
}

// lastAttempt reports whether this run is the task's last try. A direct
// call (no asynq context) is not: its caller sees the error.
func lastAttempt(ctx context.Context) bool {
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && retried >= maxRetry
}

// planParts lists the files of an upload and sorts them into parts. reason
// is set (and parts nil) when the upload cannot be imported at all.
func (h *Handler) planParts(imp storage.MapImport) (parts []storage.NewImportPart, reason string, err error) {
	root, err := os.OpenRoot(h.Root)
	if err != nil {
		return nil, "", fmt.Errorf("open IMPORT_ROOT: %w", err)
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), imp.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "the uploaded files are gone from the import directory", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", imp.Dir, err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if imp.Kind == storage.ImportCSV {
		for _, n := range names {
			parts = append(parts, storage.NewImportPart{Name: n})
		}
		if len(parts) == 0 {
			return nil, "the upload holds no file", nil
		}
		return parts, "", nil
	}
	// NAR: release archives and loose Address/Location files.
	looseLocations := map[string][]string{} // province → Location files
	var looseAddresses []string
	for _, n := range names {
		if strings.HasSuffix(strings.ToLower(n), ".zip") {
			zparts, reason, err := planRelease(root, imp.Dir, n)
			if err != nil || reason != "" {
				return nil, reason, err
			}
			parts = append(parts, zparts...)
			continue
		}
		kind, part, ok := nar.ClassifyName(n)
		if !ok {
			return nil, fmt.Sprintf("%s: not a release .zip nor an Address_*.csv or Location_*.csv file", n), nil
		}
		if kind == nar.LocationFile {
			prov := leadingDigits(part)
			looseLocations[prov] = append(looseLocations[prov], n)
		} else {
			looseAddresses = append(looseAddresses, n)
		}
	}
	for _, n := range looseAddresses {
		_, part, _ := nar.ClassifyName(n)
		parts = append(parts, storage.NewImportPart{Name: n, LocationFiles: looseLocations[leadingDigits(part)]})
	}
	if len(parts) == 0 {
		return nil, "not a National Address Register upload: it holds no Address_*.csv file", nil
	}
	return parts, "", nil
}

func planRelease(root *os.Root, dir, name string) ([]storage.NewImportPart, string, error) {
	f, err := root.Open(path.Join(dir, name))
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, "", fmt.Errorf("stat %s: %w", name, err)
	}
	rel, err := nar.OpenRelease(f, st.Size())
	var fe *nar.FormatError
	if errors.As(err, &fe) {
		return nil, name + ": " + fe.Reason, nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("open release %s: %w", name, err)
	}
	var parts []storage.NewImportPart
	for _, a := range rel.Addresses {
		var locs []string
		for _, l := range rel.LocationsFor(a) {
			locs = append(locs, l.Name)
		}
		parts = append(parts, storage.NewImportPart{Name: name + "/" + a.Name, Archive: name, LocationFiles: locs})
	}
	return parts, "", nil
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// File loads one part of an import.
func (h *Handler) File(ctx context.Context, t *asynq.Task) error {
	var p tasks.MapImportFile
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	imp, err := h.Store.MapImportByID(ctx, p.ImportID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("import %d: %w", p.ImportID, err)
	}
	part, ok, err := h.Store.StartMapImportPart(ctx, p.ImportID, p.Part)
	if err != nil {
		return fmt.Errorf("start import %d part %s: %w", p.ImportID, p.Part, err)
	}
	if !ok { // finished already, or the import was cancelled
		return nil
	}
	started := time.Now()
	run := &partRun{h: h, imp: imp, part: part, keptLines: len(part.SkippedLines)}
	var reason string
	if imp.Kind == storage.ImportCSV {
		reason, err = run.loadCSV(ctx)
	} else {
		reason, err = run.loadNAR(ctx)
	}
	if err != nil && !lastAttempt(ctx) {
		return fmt.Errorf("import %d part %s: %w", imp.ID, part.Name, err)
	}
	if err != nil {
		// The last try: the part ends FAILED rather than RUNNING for ever.
		h.Log.Error("import part given up", "import_id", imp.ID, "part", part.Name, "err", err)
		reason = "the file could not be loaded after several attempts; import it again"
	}
	status := storage.ImportDone
	switch {
	case run.cancelled:
		status = storage.ImportCancelled
	case reason != "":
		status = storage.ImportFailed
	}
	// A part's end does not depend on the task's context: the work is done.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	settled, err := h.Store.FinishMapImportPart(fctx, imp.ID, part.Name, status, reason)
	if err != nil {
		return fmt.Errorf("finish import %d part %s: %w", imp.ID, part.Name, err)
	}
	h.Metrics.part(imp.Kind, time.Since(started))
	if settled {
		if final, err := h.Store.MapImportStatus(fctx, imp.ID); err == nil {
			h.Metrics.finished(imp.Kind, final, imp.CreatedAt)
		}
	}
	if reason != "" {
		return fmt.Errorf("import %d part %s: %s: %w", imp.ID, part.Name, reason, asynq.SkipRetry)
	}
	return nil
}

// partRun is one run of one part's load: the batch being built and what it
// adds to the part's counters.
type partRun struct {
	h         *Handler
	imp       storage.MapImport
	part      storage.MapImportPart
	loader    *storage.ImportLoader
	batch     []storage.ImportRow
	progress  storage.BatchProgress
	keptLines int // skipped lines the part holds already
	cancelled bool
}

// openLoader takes the connection this run loads through.
func (r *partRun) openLoader(ctx context.Context, source string, bbox *[4]float64) error {
	l, err := r.newLoader(ctx, 0, source, bbox)
	if err != nil {
		return err
	}
	r.loader = l
	return nil
}

// newLoader takes a connection to load through (waiting at most wait for
// it when wait > 0: nil, nil when none came), set to join buildings to
// hand-made locations of the same address within MAP_MATCH_RADIUS_METERS.
func (r *partRun) newLoader(ctx context.Context, wait time.Duration, source string, bbox *[4]float64) (*storage.ImportLoader, error) {
	l, err := r.h.Store.NewImportLoader(ctx, wait, r.imp.ID, r.part.Name, source, bbox, r.imp.CreatedBy)
	if err != nil || l == nil {
		return nil, err
	}
	if err := l.JoinManualWithin(ctx, r.h.JoinRadiusMeters); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// skip counts a row that cannot be loaded and keeps its line while the
// part holds fewer than storage.MaxSkippedLines.
func (r *partRun) skip(line int, reason string) { r.skipIn(&r.progress, line, reason) }

// skipIn counts a skipped row in the batch progress p (a slot's, for a NAR
// part). Only the goroutine that reads the file calls it.
func (r *partRun) skipIn(p *storage.BatchProgress, line int, reason string) {
	p.Skipped++
	if r.keptLines < storage.MaxSkippedLines {
		p.SkippedLines = append(p.SkippedLines, storage.SkippedLine{Line: line, Reason: reason})
		r.keptLines++
	}
}

// add queues a row, flushing when the batch is full. It returns false when
// the import was cancelled.
func (r *partRun) add(ctx context.Context, row storage.ImportRow, rowsDone int64) (bool, error) {
	if p := row.Problem(); p != "" {
		r.skip(row.Line, p)
		return true, nil
	}
	r.batch = append(r.batch, row)
	if len(r.batch) < r.h.BatchSize {
		return true, nil
	}
	return r.flush(ctx, rowsDone)
}

// flush loads the batch and the counters, unless the import has been
// cancelled meanwhile.
func (r *partRun) flush(ctx context.Context, rowsDone int64) (bool, error) {
	st, err := r.h.Store.MapImportStatus(ctx, r.imp.ID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if st != storage.ImportRunning && st != storage.ImportQueued {
		r.cancelled = true
		return false, nil
	}
	r.progress.RowsDone = rowsDone
	r.progress.Read = rowsDone - r.part.RowsDone
	res, err := r.loader.Load(ctx, r.batch, r.progress)
	if err != nil {
		return false, err
	}
	r.h.Metrics.rows(r.imp.Kind, res, r.progress)
	if r.h.afterBatch != nil {
		r.h.afterBatch()
	}
	r.part.RowsDone = rowsDone
	r.batch = r.batch[:0]
	r.progress = storage.BatchProgress{}
	return true, nil
}

// Sweep plans again the imports still going that have not changed for a
// while: an import whose planning or file tasks were lost from Redis would
// otherwise stay RUNNING for ever. Planning is idempotent (part task IDs
// come from the import and the part; a finished part is not loaded again;
// a part whose file was half loaded resumes after its last batch), so an
// import whose tasks are all still there gets nothing new. Each import
// swept is touched, so it is looked at again only after another
// OlderThanSeconds.
func (h *Handler) Sweep(ctx context.Context, t *asynq.Task) error {
	var p tasks.MapImportSweep
	if err := tasks.Decode(t, &p); err != nil {
		return err
	}
	if p.OlderThanSeconds < 0 || p.Limit < 0 {
		return fmt.Errorf("import sweep: negative olderThanSeconds or limit: %w", asynq.SkipRetry)
	}
	if p.Limit == 0 {
		p.Limit = 50
	}
	ids, err := h.Store.StaleMapImports(ctx, time.Now().Add(-time.Duration(p.OlderThanSeconds)*time.Second), p.Limit)
	if err != nil {
		return fmt.Errorf("import sweep: %w", err)
	}
	requeued, err := fleet.Replan(ctx, h.Queue, ids, func(id int64) (*asynq.Task, error) {
		return tasks.NewMapImportPlan(tasks.MapImportPlan{ImportID: id})
	}, h.Store.TouchMapImport)
	if err != nil {
		return fmt.Errorf("import sweep: %w", err)
	}
	if requeued > 0 {
		h.Log.Info("import sweep planned stalled imports again", "planned", requeued, "stalled", len(ids))
	}
	return nil
}
