package config

import (
	"reflect"
	"testing"
	"time"
)

func mustLoad(t *testing.T, text string) *Config {
	t.Helper()
	c, err := Load(writeConfig(t, text))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// What a reload may change is taken; what needs a restart is named and
// kept as running.
func TestForReload(t *testing.T) {
	dir := t.TempDir()
	cert, key := testKeyPair(t, dir)
	cert2, key2 := testKeyPair(t, t.TempDir())
	running := mustLoad(t, `
[[listener]]
address = "127.0.0.1:2525"
tls = "starttls"
cert_file = "`+cert+`"
key_file = "`+key+`"
[store]
prefix = "a:"
[limits]
max_recipients = 10
max_message_size = "10MB"
[log]
level = "info"
[policy]
default_country = "FR"
`)
	next := mustLoad(t, `
[[listener]]
address = "127.0.0.1:2526"
tls = "starttls"
cert_file = "`+cert2+`"
key_file = "`+key2+`"
[store]
prefix = "b:"
[limits]
max_recipients = 5
max_message_size = "20MB"
idle_timeout = "1m"
[log]
level = "debug"
format = "json"
[policy]
default_country = "BE"
`)
	got, restart := ForReload(running, next)
	want := []string{"limits.max_message_size", "listener[0].address", "log.format", "store.prefix"}
	if !reflect.DeepEqual(restart, want) {
		t.Errorf("needs a restart: %q, want %q", restart, want)
	}
	if got.Listeners[0].Address != "127.0.0.1:2525" || got.Listeners[0].CertFile != cert2 || got.Listeners[0].KeyFile != key2 {
		t.Errorf("listener = %+v: want the running address and the new certificate", got.Listeners[0])
	}
	if got.Store.Prefix != "a:" || got.Limits.MaxMessageSize != running.Limits.MaxMessageSize || got.Log.Format != LogText {
		t.Errorf("kept store %q, max size %d, format %q", got.Store.Prefix, got.Limits.MaxMessageSize, got.Log.Format)
	}
	if got.Limits.MaxRecipients != 5 || got.Limits.IdleTimeout.Duration != time.Minute || got.Log.Level != LevelDebug || got.Policy.DefaultCountry != "BE" {
		t.Errorf("not taken: %+v %+v %+v", got.Limits, got.Log, got.Policy.DefaultCountry)
	}
	if running.Policy.DefaultCountry != "FR" || next.Listeners[0].Address != "127.0.0.1:2526" {
		t.Error("ForReload changed its arguments")
	}
}

func TestForReloadListeners(t *testing.T) {
	cert, key := testKeyPair(t, t.TempDir())
	one := mustLoad(t, `
[[listener]]
address = "127.0.0.1:2525"
`)
	two := mustLoad(t, `
[[listener]]
address = "127.0.0.1:2525"
[[listener]]
address = "127.0.0.1:2526"
`)
	withCert := mustLoad(t, `
[[listener]]
address = "127.0.0.1:2525"
cert_file = "`+cert+`"
key_file = "`+key+`"
`)
	for name, tc := range map[string]struct {
		running, next *Config
		want          []string
	}{
		"added":       {one, two, []string{"listener"}},
		"removed":     {two, one, []string{"listener"}},
		"cert gained": {one, withCert, []string{"listener[0].cert_file"}},
		"cert lost":   {withCert, one, []string{"listener[0].cert_file"}},
		"same":        {one, one, nil},
	} {
		got, restart := ForReload(tc.running, tc.next)
		if !reflect.DeepEqual(restart, tc.want) {
			t.Errorf("%s: needs a restart %q, want %q", name, restart, tc.want)
		}
		if !reflect.DeepEqual(got.Listeners, tc.running.Listeners) {
			t.Errorf("%s: listeners %+v, want the running ones", name, got.Listeners)
		}
	}
}

// Every restart-only key names a field of the configuration.
func TestRestartOnlyKeysExist(t *testing.T) {
	v := reflect.ValueOf(Default()).Elem()
	for _, p := range restartOnly {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s: %v", p, r)
				}
			}()
			fieldAt(v, p)
		}()
	}
}

// Changed names every key whose value differs, an element of a list of
// tables by its index, and a list whose length changed as a whole.
func TestChanged(t *testing.T) {
	running := mustLoad(t, `
[upstream]
url = "smtps://u:secret1@mail.example:465"
[limits]
max_recipients = 10
[log]
level = "info"
[[caps]]
name = "rep-daily"
scope = "rep"
limit = 50
window = "24h"
`)
	next := mustLoad(t, `
[upstream]
url = "smtps://u:secret2@mail.example:465"
[limits]
max_recipients = 5
[log]
level = "info"
[[caps]]
name = "rep-daily"
scope = "rep"
limit = 40
window = "24h"
`)
	want := []string{"caps[0].limit", "limits.max_recipients", "upstream.url"}
	if got := Changed(running, next); !reflect.DeepEqual(got, want) {
		t.Errorf("Changed = %q, want %q", got, want)
	}
	if got := Changed(running, running); len(got) != 0 {
		t.Errorf("Changed of a configuration and itself = %q, want none", got)
	}
}
