package config

import (
	"bytes"
	"reflect"

	"github.com/BurntSushi/toml"
)

// ChangedText returns, as TOML in the form Masked writes, only the settings of
// c that differ from the built-in defaults: keys in force that a file (or
// a default worked out from one, such as a path under data_dir) changed.
// Arrays of tables ([[listener]], [[caps]], [[lists]]) are shown whole
// when they differ at all. Secrets are masked as in Masked.
func (c *Config) ChangedText() string {
	var now, def map[string]any
	// Both texts were written by Masked, which only writes what loads.
	if _, err := toml.Decode(c.Masked(), &now); err != nil {
		panic("config: reading the masked config: " + err.Error())
	}
	if _, err := toml.Decode(Default().Masked(), &def); err != nil {
		panic("config: reading the masked defaults: " + err.Error())
	}
	diff := differingKeys(now, def)
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

// differingKeys keeps the keys of now whose values differ from def's,
// descending into tables.
func differingKeys(now, def map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range now {
		dv, ok := def[k]
		if sub, isTable := v.(map[string]any); isTable {
			dsub, _ := dv.(map[string]any)
			if d := differingKeys(sub, dsub); len(d) > 0 {
				out[k] = d
			}
			continue
		}
		if !ok || !reflect.DeepEqual(v, dv) {
			out[k] = v
		}
	}
	return out
}
