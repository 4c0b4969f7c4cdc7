package embedded

import "context"

// ServerWarnings is empty: the embedded store is one file that SQLite
// writes through (WAL), with no eviction and no server of its own whose
// settings could lose keys.
func (s *Store) ServerWarnings(context.Context) []string { return nil }
