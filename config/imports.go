package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ImportConfig configures the address import routes and the import fleet.
type ImportConfig struct {
	// Root is the directory uploads are stored under (IMPORT_ROOT), one
	// folder per import. The main API writes it and the import workers read
	// it: both must see the same directory.
	Root string
	// MaxUpload bounds one upload's request body in bytes (IMPORT_MAX_UPLOAD).
	MaxUpload int64
	// UploadIdleTimeout is how long an upload may stall between two reads.
	UploadIdleTimeout time.Duration
	// BatchSize is how many rows go to Postgres in one COPY and upsert
	// (IMPORT_BATCH_SIZE); progress and cancellation move batch by batch.
	BatchSize int
	// Loaders is how many database connections load one NAR Address file
	// at once (IMPORT_LOADERS), each taking its own buildings.
	Loaders int
}

func loadImports(r *reader) ImportConfig {
	root := "./data/imports"
	if r.str("APP_ENV", "development") == "test" {
		root = filepath.Join(os.TempDir(), "changemaker-test-imports")
	}
	c := ImportConfig{
		Root:              r.str("IMPORT_ROOT", root),
		MaxUpload:         r.size("IMPORT_MAX_UPLOAD", 8<<30),
		UploadIdleTimeout: r.duration("IMPORT_UPLOAD_IDLE_TIMEOUT", 2*time.Minute),
		BatchSize:         r.int("IMPORT_BATCH_SIZE", 10000),
		Loaders:           r.int("IMPORT_LOADERS", 2),
	}
	if (c.BatchSize < 100 || c.BatchSize > 1000000) && r.err == nil {
		r.err = fmt.Errorf("IMPORT_BATCH_SIZE: want 100 to 1000000, got %d", c.BatchSize)
	}
	if (c.Loaders < 1 || c.Loaders > 16) && r.err == nil {
		r.err = fmt.Errorf("IMPORT_LOADERS: want 1 to 16, got %d", c.Loaders)
	}
	return c
}
