package config

import (
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// ChangedText returns, as TOML in the form Masked writes, only the settings of
// c that differ from the built-in defaults: keys in force that a file (or
// a default worked out from one, such as a path under data_dir) changed.
// Arrays of tables ([[listener]], [[caps]], [[lists]]) are shown whole
// when they differ at all. Secrets are masked as in Masked.
func (c *Config) ChangedText() string {
	var now map[string]any
	// The text was written by Masked, which only writes what loads.
	if _, err := toml.Decode(c.Masked(), &now); err != nil {
		panic("config: reading the masked config: " + err.Error())
	}
	diff := map[string]any{}
	for _, path := range Changed(Default(), c) {
		if i := strings.IndexByte(path, '['); i >= 0 {
			path = path[:i] // an array of tables is shown whole
		}
		copyPath(diff, now, strings.Split(path, "."))
	}
	if len(diff) == 0 {
		return ""
	}
	var b bytes.Buffer
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(diff); err != nil {
		panic("config: encoding the changed settings: " + err.Error())
	}
	return b.String()
}

// copyPath copies the value at keys from src into dst, making the tables
// on the way; a key src does not hold (a default left empty) is skipped.
func copyPath(dst, src map[string]any, keys []string) {
	v, ok := src[keys[0]]
	if !ok {
		return
	}
	if len(keys) == 1 {
		dst[keys[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		dst[keys[0]] = v
		return
	}
	d, _ := dst[keys[0]].(map[string]any)
	if d == nil {
		d = map[string]any{}
		dst[keys[0]] = d
	}
	copyPath(d, sub, keys[1:])
}
