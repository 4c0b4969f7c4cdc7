package lists

import (
	"errors"
	"fmt"
)

// ErrNoValidRow is why an import refuses a file none of whose rows is
// valid (errors.Is): likely a wrong column, delimiter or encoding, not a
// source that lost every entry, and taking it would empty a list or the
// contacts at once.
var ErrNoValidRow = errors.New("no valid row")

// NoValidRow is the error for file, which holds rows rows and no valid
// one.
func NoValidRow(file string, rows int64) error { return noValidRow{file, rows} }

type noValidRow struct {
	file string
	rows int64
}

func (e noValidRow) Error() string {
	if e.rows == 0 {
		return fmt.Sprintf("%s: the file holds no rows", e.file)
	}
	return fmt.Sprintf("%s: none of its %d rows is valid", e.file, e.rows)
}

func (e noValidRow) Is(target error) bool { return target == ErrNoValidRow }
