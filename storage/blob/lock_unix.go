//go:build unix

package blob

import (
	"errors"
	"os"
	"syscall"
)

// lockTemp marks a temporary file as being written: an exclusive flock the
// writer holds until it closes the file, so that RemoveStaleTemps, in this
// process or another on the same machine, never removes a live one however
// long it goes unwritten. Best effort: a file system without locks leaves
// only the age rule.
func lockTemp(f *os.File) {
	_ = flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
}

// inUse reports whether another open file holds f's lock.
func inUse(f *os.File) bool {
	return errors.Is(flock(f, syscall.LOCK_EX|syscall.LOCK_NB), syscall.EWOULDBLOCK)
}

func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = syscall.Flock(int(fd), how) }); err != nil {
		return err
	}
	return ferr
}
