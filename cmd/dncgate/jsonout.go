package main

import (
	"encoding/json"
	"time"
)

// jsonFlag registers --json on a command that prints a table or a
// verdict: the same facts, for scripts, with stable field names.
func jsonFlag(fs *flagSet) *bool {
	return fs.Bool("json", false, "print JSON instead of text: stable field names, times in RFC 3339 UTC")
}

// writeJSON prints v as indented JSON.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// jsonTime is a time for JSON output: RFC 3339 in UTC, null when zero.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// formatFlags registers --format table|csv|json and --json, its short
// form, on a command that prints records.
func formatFlags(fs *flagSet) (format *string, asJSON *bool) {
	return fs.String("format", "table", "output `FORMAT`: table, csv or json"), jsonFlag(fs)
}

// outputFormat is the format asked for; --json with another --format is
// a usage error.
func outputFormat(fs *flagSet, format string, asJSON bool) (string, error) {
	switch format {
	case "table", "csv", "json":
	default:
		return "", fs.usageError("--format: %q; use table, csv or json", format)
	}
	if asJSON {
		if format != "table" && format != "json" {
			return "", fs.usageError("--json and --format %s contradict each other", format)
		}
		return "json", nil
	}
	return format, nil
}
