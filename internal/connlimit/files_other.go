//go:build !unix

package connlimit

import "errors"

// RaiseFileLimit is only known on Unix systems.
func RaiseFileLimit() (uint64, error) {
	return 0, errors.New("connlimit: open file limit unknown on this system")
}
