//go:build !linux

package testhaproxy

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
