package config

import (
	"reflect"
	"testing"
	"time"

	"github.com/dncgate/dncgate/lists"
)

const goodLists = `
[[lists]]
name = "be-dncm"
kind = "phone"
model = "deny"
countries = ["be"]
max_age = "5d"
on_stale = "warn"
source = "Do Not Call Me"
keep_versions = 5

[[lists]]
name = "uk.tps"
kind = "email-sha256"
model = "clearance"
countries = ["UK", "IE"]
max_age = "36h"
keep_versions = 0

[[lists]]
name = "partners_deny"
kind = "domain"
model = "deny"
countries = ["ALL"]
`

func TestListsLoad(t *testing.T) {
	c, err := Load(writeConfig(t, goodLists))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Lists) != 3 {
		t.Fatalf("lists = %+v", c.Lists)
	}
	be, tps, partners := c.Lists[0], c.Lists[1], c.Lists[2]
	if be.MaxAge.Duration != 5*24*time.Hour || !be.WarnStale() || be.Source != "Do Not Call Me" {
		t.Errorf("be-dncm = %+v", be)
	}
	if got := be.CountryCodes(); !reflect.DeepEqual(got, []string{"BE"}) {
		t.Errorf("be-dncm countries = %v", got)
	}
	if got := tps.CountryCodes(); !reflect.DeepEqual(got, []string{"GB", "IE"}) || tps.WarnStale() {
		t.Errorf("uk.tps countries = %v, warn %v", got, tps.WarnStale())
	}
	if got := partners.CountryCodes(); got != nil || partners.MaxAge.Duration != 0 {
		t.Errorf("partners_deny countries = %v, max age %v", got, partners.MaxAge)
	}
	// keep_versions: as written, 0 included; unset is nil, the store's default.
	if k := be.Keep(); k == nil || *k != 5 {
		t.Errorf("be-dncm keep_versions = %v, want 5", k)
	}
	if k := tps.Keep(); k == nil || *k != 0 {
		t.Errorf("uk.tps keep_versions = %v, want 0", k)
	}
	if k := partners.Keep(); k != nil {
		t.Errorf("partners_deny keep_versions = %v, want unset", *k)
	}
}

func TestAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "0d": 0, "5d": 5 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute,
	} {
		var a Age
		if err := a.UnmarshalText([]byte(in)); err != nil || a.Duration != want {
			t.Errorf("age %q = %v, %v; want %v", in, a.Duration, err, want)
		}
	}
	for _, bad := range []string{"d", "5 d", "-1d", "-1h", "1.5d", "5days", "999999999999d"} {
		var a Age
		if err := a.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("age %q accepted as %v", bad, a.Duration)
		}
	}
	for d, want := range map[time.Duration]string{0: "", 28 * 24 * time.Hour: "28d", 36 * time.Hour: "36h", 90 * time.Minute: "1h30m"} {
		if got := (Age{d}).String(); got != want {
			t.Errorf("Age(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestListKindsMatchTheLists keeps the kinds a [[lists]] table accepts the
// ones package lists reads, without config importing it.
func TestListKindsMatchTheLists(t *testing.T) {
	for _, k := range listKinds {
		parsed, err := lists.ParseKind(k)
		if err != nil || parsed.String() != k {
			t.Errorf("kind %q: lists reads %v, %v", k, parsed, err)
		}
	}
	for k := lists.KindEmail; k <= lists.KindEmailMD5; k++ {
		if !isListKind(k.String()) {
			t.Errorf("[[lists]] refuses kind %q", k)
		}
	}
}
