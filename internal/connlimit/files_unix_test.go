//go:build unix

package connlimit

import (
	"syscall"
	"testing"
)

func TestRaiseFileLimit(t *testing.T) {
	var before syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &before); err != nil {
		t.Fatal(err)
	}
	got, err := RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	var after syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &after); err != nil {
		t.Fatal(err)
	}
	if after.Cur != after.Max || got != after.Cur {
		t.Errorf("after RaiseFileLimit: soft %d, hard %d, returned %d; want soft = hard = returned", after.Cur, after.Max, got)
	}
	if after.Cur < before.Cur {
		t.Errorf("soft limit lowered from %d to %d", before.Cur, after.Cur)
	}
}
