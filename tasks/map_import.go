package tasks

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Import task types (the import fleet, queue "import").
const (
	TypeMapImportPlan = "map:import-plan"
	TypeMapImportFile = "map:import-file"
	// TypeMapImportSweep plans again the imports whose tasks were lost.
	TypeMapImportSweep = "map:import-sweep"
)

// MapImportPlan asks an import worker to look at an upload (open a release
// archive, sort loose files), record one part per Address or CSV file and
// enqueue a MapImportFile for each.
type MapImportPlan struct {
	ImportID int64 `json:"importId"`
}

// MapImportFile asks an import worker to load one file of an import. Part
// is the part's name (map_import_parts.name).
type MapImportFile struct {
	ImportID int64  `json:"importId"`
	Part     string `json:"part"`
}

// NewMapImportPlan builds the planning task, one per import.
func NewMapImportPlan(p MapImportPlan) (*asynq.Task, error) {
	return newTask(TypeMapImportPlan, p,
		asynq.Queue(QueueImport),
		asynq.MaxRetry(5),
		asynq.Timeout(10*time.Minute),
		asynq.TaskID(MapImportPlanTaskID(p.ImportID)),
	)
}

// MapImportPlanTaskID is the task ID of an import's planning task.
func MapImportPlanTaskID(importID int64) string {
	return "map:import-plan:" + strconv.FormatInt(importID, 10)
}

// NewMapImportFile builds the task loading one file. A province file holds
// millions of rows: the timeout is long, and a retry resumes after the last
// committed batch.
func NewMapImportFile(p MapImportFile) (*asynq.Task, error) {
	return newTask(TypeMapImportFile, p,
		asynq.Queue(QueueImport),
		asynq.MaxRetry(5),
		asynq.Timeout(6*time.Hour),
		asynq.TaskID(MapImportFileTaskID(p.ImportID, p.Part)),
	)
}

// MapImportFileTaskID is the task ID of one file's load.
func MapImportFileTaskID(importID int64, part string) string {
	sum := sha256.Sum256([]byte(part))
	return "map:import-file:" + strconv.FormatInt(importID, 10) + ":" + hex.EncodeToString(sum[:8])
}

// MapImportSweep plans again the imports still QUEUED or RUNNING that have
// not changed for OlderThanSeconds (their tasks may have been lost).
type MapImportSweep struct {
	OlderThanSeconds int `json:"olderThanSeconds"`
	Limit            int `json:"limit"`
}

// NewMapImportSweep builds the periodic sweep.
func NewMapImportSweep(p MapImportSweep) (*asynq.Task, error) {
	return newTask(TypeMapImportSweep, p,
		asynq.Queue(QueueImport),
		asynq.MaxRetry(1),
		asynq.Timeout(time.Minute),
		asynq.Unique(4*time.Minute),
	)
}
