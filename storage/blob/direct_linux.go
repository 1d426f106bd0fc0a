package blob

import (
	"os"
	"syscall"
)

// oDirect asks for direct I/O when a file is opened.
const oDirect = syscall.O_DIRECT

// errDirectRefused is how a file system says it does not do direct I/O
// (at open, or at the first write).
const errDirectRefused = syscall.EINVAL

// clearDirect turns direct I/O off for an open file.
func clearDirect(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	cerr := rc.Control(func(fd uintptr) {
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if errno != 0 {
			ferr = errno
			return
		}
		if _, _, errno := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags&^syscall.O_DIRECT); errno != 0 {
			ferr = errno
		}
	})
	if cerr != nil {
		return cerr
	}
	return ferr
}
