package testredis

import "syscall"

// sysProcAttr makes the kernel kill the server if the test binary dies
// without running its cleanups (a panic, a timeout, a kill -9), so no
// redis-server outlives the test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
