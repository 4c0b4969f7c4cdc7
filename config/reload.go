package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// restartOnly are the keys a running gateway cannot change: its sockets,
// its store and ledger, its upstream, its login throttle, its digest key, its HTTP
// side and the buffers go-smtp was built with. A whole table stands for
// every key in it.
var restartOnly = []string{
	"server", "upstream", "store", "ledger", "auth", "privacy", "web", "unsubscribe",
	"log.format", "limits.max_message_size", "limits.max_line_length", "limits.remember_delivered",
	"limits.max_conns", "limits.max_conns_per_ip", "limits.max_errors",
}

// listenerLive are the keys of a [[listener]] a reload takes: its
// certificate files, read again at each reload, so a renewed certificate
// is served without a restart.
var listenerLive = map[string]bool{"cert_file": true, "key_file": true}

// ForReload returns the configuration a running gateway started with
// running can take from next: next, with every key a reload cannot change
// kept as running has it; and the keys so kept that next changed (such
// as "listener[0].address" or "store.backend"), which need a restart.
func ForReload(running, next *Config) (*Config, []string) {
	out := *next
	var restart []string
	cur, nv, ov := reflect.ValueOf(running).Elem(), reflect.ValueOf(next).Elem(), reflect.ValueOf(&out).Elem()
	for _, path := range restartOnly {
		restart = append(restart, keep(path, fieldAt(cur, path), fieldAt(nv, path), fieldAt(ov, path))...)
	}
	out.Listeners, restart = reloadListeners(running.Listeners, next.Listeners, restart)
	sort.Strings(restart)
	return &out, restart
}

// reloadListeners keeps the running listeners but for their certificate
// files. A listener added or removed, or one gaining or losing its
// certificate, needs a restart.
func reloadListeners(running, next []Listener, restart []string) ([]Listener, []string) {
	if len(running) != len(next) {
		return running, append(restart, "listener")
	}
	out := make([]Listener, len(running))
	for i := range running {
		prefix := fmt.Sprintf("listener[%d]", i)
		cur, nv, ov := reflect.ValueOf(running[i]), reflect.ValueOf(next[i]), reflect.ValueOf(&out[i]).Elem()
		ov.Set(nv)
		for name, f := range tomlFields(nv.Type()) {
			if listenerLive[name] {
				continue
			}
			restart = append(restart, keep(prefix+"."+name, cur.Field(f), nv.Field(f), ov.Field(f))...)
		}
		if (running[i].CertFile == "") != (next[i].CertFile == "") {
			restart = append(restart, prefix+".cert_file")
			out[i].CertFile, out[i].KeyFile = running[i].CertFile, running[i].KeyFile
		}
	}
	return out, restart
}

// keep sets out to cur where next differs from cur, and names what
// differed: each key of a table, or the key itself.
func keep(path string, cur, next, out reflect.Value) []string {
	if reflect.DeepEqual(cur.Interface(), next.Interface()) {
		return nil
	}
	out.Set(cur)
	if cur.Kind() != reflect.Struct || isText(cur) {
		return []string{path}
	}
	var names []string
	for i := 0; i < cur.NumField(); i++ {
		name, _, _ := strings.Cut(cur.Type().Field(i).Tag.Get("toml"), ",")
		if name != "" && !reflect.DeepEqual(cur.Field(i).Interface(), next.Field(i).Interface()) {
			names = append(names, path+"."+name)
		}
	}
	return names
}

// isText reports whether v is a value the file writes as one string
// (a Duration, say), not a table.
func isText(v reflect.Value) bool {
	return reflect.PointerTo(v.Type()).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// fieldAt is the field of the Config struct v at a dotted path of toml keys.
func fieldAt(v reflect.Value, path string) reflect.Value {
	for _, key := range strings.Split(path, ".") {
		i, ok := tomlFields(v.Type())[key]
		if !ok {
			panic("config: no key " + path)
		}
		v = v.Field(i)
	}
	return v
}

// Changed names the keys whose values differ between running and next
// ("limits.max_recipients", "lists[1].max_age", "lists" when lists were
// added or removed): what a reload changed, for the audit trail, which
// records the keys and never their values, secrets among them.
func Changed(running, next *Config) []string {
	var out []string
	changedKeys("", reflect.ValueOf(*running), reflect.ValueOf(*next), &out)
	sort.Strings(out)
	return out
}

func changedKeys(path string, a, b reflect.Value, out *[]string) {
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return
	}
	switch {
	case a.Kind() == reflect.Struct && !isText(a):
		n := len(*out)
		for name, i := range tomlFields(a.Type()) {
			changedKeys(joinPath(path, name), a.Field(i), b.Field(i), out)
		}
		if len(*out) == n && path != "" {
			*out = append(*out, path) // a difference the file has no key for
		}
	case a.Kind() == reflect.Slice && a.Len() == b.Len() && a.Type().Elem().Kind() == reflect.Struct:
		for i := range a.Len() {
			changedKeys(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), out)
		}
	default:
		*out = append(*out, path)
	}
}

func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}
