package testhaproxy

import "syscall"

// sysProcAttr makes the kernel kill haproxy if the test binary dies without
// running its cleanups, so no balancer outlives the test run.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
