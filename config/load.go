package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Load reads the file at path over the defaults, applies overrides (flags
// assigning fields) and validates the result. An empty path gives the
// defaults alone. The error is Problems listing every mistake found, in the
// file and in the values; a file that does not parse yields only the
// syntax error.
func Load(path string, overrides ...func(*Config)) (*Config, error) {
	return LoadChecked(path, nil, overrides...)
}

// Check validates settings whose rule another package owns, such as the
// footer templates, which only package footer can load. It reports each
// problem with the key of the setting at fault, and LoadChecked locates
// and sorts it with its own problems.
type Check func(c *Config, problem func(key string, err error))

// LoadChecked is Load that also runs checks on the validated values.
func LoadChecked(path string, checks []Check, overrides ...func(*Config)) (*Config, error) {
	c := Default()
	c.src = &source{file: path}
	var problems Problems
	if path != "" {
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if problems, err = c.decode(string(text)); err != nil {
			return nil, err
		}
	}
	for _, o := range overrides {
		o(c)
	}
	// A key that failed to decode kept its valid default, so validating
	// now adds only genuine problems.
	if err := c.validate(checks); err != nil {
		problems = append(problems, err.(Problems)...)
	}
	if len(problems) > 0 {
		return nil, problems.sorted()
	}
	return c, nil
}

// decode lays the TOML text over c. It decodes into a generic map and walks
// it against the struct rather than letting toml fill the struct: toml's
// struct decoding matches keys case-insensitively, stops at the first wrong
// type and reports the line of the last [[table]] for keys in any of them.
// Walking ourselves rejects every unknown key (what MetaData.Undecoded would
// list) and every wrong type in one pass, each with its own line.
//
// It returns the problems of keys it could not take, or an error when the
// text is not TOML at all.
func (c *Config) decode(text string) (Problems, error) {
	var raw map[string]any
	if _, err := toml.Decode(text, &raw); err != nil {
		return nil, syntaxProblem(c.src.file, err)
	}
	c.src.lines = scanLines(text)
	col := &collector{src: c.src}
	decodeTable(col, "", raw, reflect.ValueOf(c).Elem())
	return col.list, nil
}

func syntaxProblem(file string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return Problems{{File: file, Line: pe.Position.Line, Msg: pe.Message}}
	}
	return Problems{{File: file, Msg: err.Error()}}
}

// decodeTable sets the fields of the struct rv from table m, in file order.
func decodeTable(col *collector, prefix string, m map[string]any, rv reflect.Value) {
	fields := tomlFields(rv.Type())
	for _, key := range sortedKeys(col.src, prefix, m) {
		path := joinKey(prefix, []string{key})
		i, ok := fields[key]
		if !ok {
			col.add(path, "unknown %s%s", keyKind(m[key]), suggest(key, fields))
			continue
		}
		decodeValue(col, path, m[key], rv.Field(i))
	}
}

// decodeValue stores the TOML value v into field f, or records why not.
func decodeValue(col *collector, path string, v any, f reflect.Value) {
	if u, ok := f.Addr().Interface().(encoding.TextUnmarshaler); ok {
		decodeText(col, path, v, u)
		return
	}
	switch {
	case f.Kind() == reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			col.add(path, "want a table, got %s", typeName(v))
			return
		}
		decodeTable(col, path, m, f)
	case f.Kind() == reflect.Map && f.Type().Key().Kind() == reflect.String && f.Type().Elem().Kind() == reflect.Struct:
		decodeNamedTables(col, path, v, f)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct:
		decodeTables(col, path, v, f)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		decodeStrings(col, path, v, f)
	default:
		decodeScalar(col, path, v, f)
	}
}

// decodeText feeds strings (and numbers, for plain byte counts and
// shares) to u.
func decodeText(col *collector, path string, v any, u encoding.TextUnmarshaler) {
	var text string
	switch t := v.(type) {
	case string:
		text = t
	case int64:
		text = strconv.FormatInt(t, 10)
	case float64: // a share written as a fraction
		text = strconv.FormatFloat(t, 'g', -1, 64)
	default:
		col.add(path, "want a string, got %s", typeName(v))
		return
	}
	if err := u.UnmarshalText([]byte(text)); err != nil {
		col.add(path, "%v", err)
	}
}

// decodeTables replaces the slice f with one element per [[table]], each
// starting from that element type's defaults.
func decodeTables(col *collector, path string, v any, f reflect.Value) {
	tables, ok := asTables(v)
	if !ok {
		col.add(path, "want an array of tables, got %s", typeName(v))
		return
	}
	out := reflect.MakeSlice(f.Type(), len(tables), len(tables))
	for i, m := range tables {
		el := out.Index(i)
		el.Set(newElement(el.Type()))
		decodeTable(col, path+"["+strconv.Itoa(i)+"]", m, el)
	}
	f.Set(out)
}

// decodeNamedTables fills the map f from a table of tables
// ([footer.lang.fr], [footer.lang.nl]): one entry per sub-table, each a
// struct decoded like any other table.
func decodeNamedTables(col *collector, path string, v any, f reflect.Value) {
	m, ok := v.(map[string]any)
	if !ok {
		col.add(path, "want a table, got %s", typeName(v))
		return
	}
	out := reflect.MakeMapWithSize(f.Type(), len(m))
	for _, name := range sortedKeys(col.src, path, m) {
		sub, ok := m[name].(map[string]any)
		if !ok {
			col.add(joinKey(path, []string{name}), "want a table, got %s", typeName(m[name]))
			continue
		}
		el := reflect.New(f.Type().Elem()).Elem()
		decodeTable(col, joinKey(path, []string{name}), sub, el)
		out.SetMapIndex(reflect.ValueOf(name), el)
	}
	f.Set(out)
}

func decodeStrings(col *collector, path string, v any, f reflect.Value) {
	arr, ok := v.([]any)
	if !ok {
		col.add(path, "want an array of strings, got %s", typeName(v))
		return
	}
	out := reflect.MakeSlice(f.Type(), len(arr), len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			col.add(fmt.Sprintf("%s[%d]", path, i), "want a string, got %s", typeName(e))
			return
		}
		out.Index(i).SetString(s)
	}
	f.Set(out)
}

func decodeScalar(col *collector, path string, v any, f reflect.Value) {
	switch f.Kind() {
	case reflect.String:
		if s, ok := v.(string); ok {
			f.SetString(s)
			return
		}
		col.add(path, "want a string, got %s", typeName(v))
	case reflect.Int:
		n, ok := v.(int64)
		switch {
		case !ok:
			col.add(path, "want an integer, got %s", typeName(v))
		case f.OverflowInt(n):
			col.add(path, "%d is out of range", n)
		default:
			f.SetInt(n)
		}
	case reflect.Bool:
		if b, ok := v.(bool); ok {
			f.SetBool(b)
			return
		}
		col.add(path, "want true or false, got %s", typeName(v))
	default:
		panic("config: no decoder for field kind " + f.Kind().String())
	}
}

// newElement is the starting value of one [[table]] entry.
func newElement(t reflect.Type) reflect.Value {
	if t == reflect.TypeOf(Listener{}) {
		return reflect.ValueOf(defaultListener())
	}
	if t == reflect.TypeOf(Webhook{}) {
		return reflect.ValueOf(defaultWebhook())
	}
	return reflect.New(t).Elem()
}

// asTables accepts both [[a]] tables and an inline array of inline tables.
func asTables(v any) ([]map[string]any, bool) {
	switch t := v.(type) {
	case []map[string]any:
		return t, true
	case []any:
		out := make([]map[string]any, len(t))
		for i, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// tomlFields maps each toml tag name of struct type t to its field index.
func tomlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
		if name != "" && name != "-" {
			fields[name] = i
		}
	}
	return fields
}

// sortedKeys orders a table's keys as the file wrote them, so problems read
// top to bottom.
func sortedKeys(src *source, prefix string, m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		li, lj := src.line(joinKey(prefix, keys[i:i+1])), src.line(joinKey(prefix, keys[j:j+1]))
		if li != lj {
			return li < lj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// suggest names a known key the unknown one was probably meant to be.
func suggest(key string, fields map[string]int) string {
	norm := func(s string) string {
		s = strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(s))
		return strings.TrimSuffix(s, "s")
	}
	for name := range fields {
		if norm(name) == norm(key) {
			return fmt.Sprintf(" (did you mean %q?)", name)
		}
	}
	return ""
}

// keyKind says whether an unknown key is a table or a plain key.
func keyKind(v any) string {
	if _, ok := asTables(v); ok {
		return "table"
	}
	if _, ok := v.(map[string]any); ok {
		return "table"
	}
	return "key"
}

// typeName describes a decoded TOML value for messages; never the value
// itself, which may be a secret written under the wrong key.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date-time"
	case map[string]any:
		return "a table"
	case []map[string]any:
		return "an array of tables"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
