//go:build unix

package connlimit

import "syscall"

// RaiseFileLimit lifts the soft limit on open files (RLIMIT_NOFILE) to the
// hard limit, as far as the system allows, and returns the soft limit in
// force afterwards.
func RaiseFileLimit() (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, err
	}
	if l.Cur >= l.Max {
		return uint64(l.Cur), nil
	}
	raised := l
	raised.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err != nil {
		return uint64(l.Cur), err
	}
	return uint64(raised.Cur), nil
}
