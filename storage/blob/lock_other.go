//go:build !unix

package blob

import "os"

// Without flock, RemoveStaleTemps goes by age alone.
func lockTemp(*os.File)   {}
func inUse(*os.File) bool { return false }
