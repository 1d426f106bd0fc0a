//go:build !linux

package blob

import (
	"errors"
	"os"
)

// Direct I/O is used on Linux only; elsewhere every write goes through the
// page cache.
const oDirect = 0

var errDirectRefused = errors.New("blob: direct I/O is not supported")

func clearDirect(*os.File) error { return nil }
