package main

import (
	"time"

	"github.com/dncgate/dncgate/duration"
	"github.com/dncgate/dncgate/listdb"
)

// listJSON is a list as lists ls --json and lists show --json print it.
type listJSON struct {
	Name      string       `json:"name"`
	Kind      string       `json:"kind"`
	Model     string       `json:"model"`
	Countries []string     `json:"countries"` // empty: every country
	MaxAge    string       `json:"max_age,omitempty"`
	OnStale   string       `json:"on_stale"`
	Source    string       `json:"source,omitempty"`
	State     string       `json:"state"`
	Version   *versionJSON `json:"version"` // null: never imported
	AgeSecs   *int64       `json:"age_seconds,omitempty"`
	Manual    manualJSON   `json:"by_hand"`
	Keep      int          `json:"keep_versions"`
	Kept      []string     `json:"kept,omitempty"`
}

type manualJSON struct {
	Added   int64 `json:"added"`
	Removed int64 `json:"removed"`
}

// versionJSON is one imported version of a list.
type versionJSON struct {
	ID         string  `json:"id"`
	InForce    *bool   `json:"in_force,omitempty"`
	ImportedAt *string `json:"imported_at"`
	ImportedBy string  `json:"imported_by"`
	FileSHA256 string  `json:"file_sha256"`
	Rows       int64   `json:"rows"`
	Valid      int64   `json:"valid"`
	Invalid    int64   `json:"invalid"`
	Duplicates int64   `json:"duplicates"`
	Entries    int64   `json:"entries"`
	Added      *int64  `json:"added,omitempty"`   // against the version it replaced
	Removed    *int64  `json:"removed,omitempty"` // idem
	RestoredAt *string `json:"restored_at,omitempty"`
	RestoredBy string  `json:"restored_by,omitempty"`
}

func newVersionJSON(v listdb.Version) *versionJSON {
	if v.ID == "" {
		return nil
	}
	j := &versionJSON{ID: v.ID, ImportedAt: jsonTime(v.ImportedAt), ImportedBy: v.ImportedBy, FileSHA256: v.FileSHA256,
		Rows: v.Rows, Valid: v.Valid, Invalid: v.Invalid, Duplicates: v.Duplicates, Entries: v.Entries,
		RestoredAt: jsonTime(v.RestoredAt), RestoredBy: v.RestoredBy}
	if v.Compared {
		j.Added, j.Removed = &v.Added, &v.Removed
	}
	return j
}

func newListJSON(m listdb.Meta, v listdb.Version, man listdb.Manual, kept []string, now time.Time) listJSON {
	j := listJSON{Name: m.Name, Kind: m.Kind, Model: string(m.Model), Countries: m.Countries, OnStale: onStaleText(m),
		Source: m.Source, State: freshness(m, v, man, now), Version: newVersionJSON(v),
		Manual: manualJSON{Added: man.Added, Removed: man.Removed}, Keep: m.Keep(), Kept: kept}
	if j.Countries == nil {
		j.Countries = []string{}
	}
	if m.MaxAge > 0 {
		j.MaxAge = duration.Format(m.MaxAge)
	}
	if v.ID != "" {
		age := int64(now.Sub(v.ImportedAt) / time.Second)
		j.AgeSecs = &age
	}
	return j
}

// keptIDs are the versions kept for lists rollback.
func keptIDs(h []listdb.VersionInfo) []string {
	var ids []string
	for _, v := range h {
		if !v.InForce {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// manualChangeJSON is one decision by hand, value masked.
type manualChangeJSON struct {
	At     *string `json:"at"`
	By     string  `json:"by"`
	Change string  `json:"change"` // added or removed
	Value  string  `json:"value"`  // masked
	Reason string  `json:"reason"`
}
