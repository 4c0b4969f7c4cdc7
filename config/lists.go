package config

import (
	"fmt"
	"github.com/dncgate/dncgate/duration"
	"strconv"
	"strings"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/listmodel"
)

// ListDecl is one [[lists]] table: a suppression list declared in the
// configuration, created or updated when the gateway starts. The strings
// are those the lists commands take, so the caller converts them to the
// store's description as they are.
type ListDecl struct {
	Name      string          `toml:"name"`
	Kind      string          `toml:"kind"` // email | domain | phone | email-sha256 | email-sha1 | email-md5
	Model     listmodel.Model `toml:"model"`
	Countries []string        `toml:"countries"` // ISO codes, or ["all"]
	MaxAge    Age             `toml:"max_age"`   // 0: never stale
	OnStale   string          `toml:"on_stale"`  // refuse | warn; "" is refuse
	Source    string          `toml:"source"`
	// MaxRemoval is the largest share of the entries in force an import
	// may remove; unset takes the import's default.
	MaxRemoval Share `toml:"max_removal"`
	// KeepVersions is how many replaced versions are kept for `lists
	// rollback`; unset takes the store's default (listdb.DefaultKeepVersions).
	KeepVersions Count `toml:"keep_versions"`
}

// Count is a whole number that may be left unset; Set says it was
// written at all.
type Count struct {
	N   int
	Set bool
}

// UnmarshalText reads a whole number; "" is not set.
func (c *Count) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	if t == "" {
		*c = Count{}
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil {
		return fmt.Errorf("invalid number %q (write a whole number such as 2)", b)
	}
	*c = Count{N: n, Set: true}
	return nil
}

// MarshalText writes the number; "" when not set.
func (c Count) MarshalText() ([]byte, error) {
	if !c.Set {
		return []byte{}, nil
	}
	return []byte(strconv.Itoa(c.N)), nil
}

// Keep is keep_versions as the store's description holds it: nil when
// unset, for the store's default.
func (d ListDecl) Keep() *int {
	if !d.KeepVersions.Set {
		return nil
	}
	n := d.KeepVersions.N
	return &n
}

// The values of the string keys of a [[lists]] table.
const (
	ListAll     = "all" // countries = ["all"]: the list governs every country
	StaleRefuse = "refuse"
	StaleWarn   = "warn"
	// MaxKeepVersions bounds keep_versions: each kept version of a
	// national list holds as many entries as the one in force.
	MaxKeepVersions = 10
	// maxListName is the longest list name a store keys safely.
	maxListName = 64
	// listNameChars are the characters a list name may hold.
	listNameChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."
)

// listKinds are the kinds of key a list may hold, as the lists commands
// name them.
var listKinds = []string{"email", "domain", "phone", "email-sha256", "email-sha1", "email-md5"}

const listKindText = `"email", "domain", "phone", "email-sha256", "email-sha1" or "email-md5"`

// Age is a list's maximum age, in the one duration syntax ("5d", "36h");
// "" or "0" is no maximum.
type Age struct{ time.Duration }

// UnmarshalText reads an age; negative ones are refused.
func (a *Age) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		a.Duration = 0
		return nil
	}
	d, err := duration.Parse(string(b))
	if err != nil {
		return err
	}
	a.Duration = d
	return nil
}

// Share is a proportion from 0 to 1, written "20%" or 0.2; Set says it
// was written at all.
type Share struct {
	Fraction float64
	Set      bool
}

// ParseShare reads a share: a percentage ("20%", "12.5%") or a fraction
// from 0 to 1 ("0.2"); "" is not set.
func ParseShare(s string) (Share, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Share{}, nil
	}
	pct, isPct := strings.CutSuffix(t, "%")
	f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if isPct {
		f /= 100
	}
	if err != nil || f < 0 || f > 1 || f != f {
		return Share{}, fmt.Errorf("invalid share %q (write a percentage such as \"20%%\", or a fraction from 0 to 1 such as 0.2)", s)
	}
	return Share{Fraction: f, Set: true}, nil
}

// UnmarshalText reads a share as ParseShare does.
func (s *Share) UnmarshalText(b []byte) error {
	v, err := ParseShare(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes a share as a percentage; "" when not set.
func (s Share) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

func (s Share) String() string {
	if !s.Set {
		return ""
	}
	return strconv.FormatFloat(s.Fraction*100, 'g', -1, 64) + "%"
}

// MarshalText writes an age as duration.Format does ("5d", "1d12h") and
// no age as "".
func (a Age) MarshalText() ([]byte, error) {
	return []byte(a.String()), nil
}

func (a Age) String() string {
	if a.Duration == 0 {
		return ""
	}
	return duration.Format(a.Duration)
}

// CountryCodes returns the list's countries as package country reads
// them ("uk" is GB), or nil when it governs every country. Validate has
// refused any other value.
func (d ListDecl) CountryCodes() []string {
	var out []string
	for _, cc := range d.Countries {
		if strings.EqualFold(strings.TrimSpace(cc), ListAll) {
			return nil
		}
		c, err := country.Parse(cc)
		if err != nil {
			continue
		}
		out = append(out, c.String())
	}
	return out
}

// WarnStale reports whether a stale list only warns instead of refusing.
func (d ListDecl) WarnStale() bool {
	return d.OnStale == StaleWarn
}

func (c *Config) checkLists(col *collector) {
	seen := map[string]string{}
	for i, d := range c.Lists {
		key := "lists[" + strconv.Itoa(i) + "]"
		checkListDecl(col, key, d)
		if prev, ok := seen[d.Name]; ok && d.Name != "" {
			col.add(key+".name", "%s already declares list %q", prev, d.Name)
		}
		seen[d.Name] = key
	}
}

func checkListDecl(col *collector, key string, d ListDecl) {
	checkListName(col, key+".name", d.Name)
	switch {
	case d.Kind == "":
		col.add(key+".kind", "required: %s", listKindText)
	case !isListKind(d.Kind):
		col.add(key+".kind", "unknown kind %q; use %s", d.Kind, listKindText)
	}
	switch {
	case d.Model.Valid():
	case d.Model == "":
		col.add(key+".model", `required: "deny" (who must not be mailed) or "clearance" (who was checked and may be)`)
	default:
		col.add(key+".model", `unknown model %q; use "deny" or "clearance"`, d.Model)
	}
	checkListCountries(col, key+".countries", d.Countries)
	switch d.OnStale {
	case "", StaleRefuse, StaleWarn:
	default:
		col.add(key+".on_stale", `unknown value %q; use "refuse" (451 4.7.1 while the list is stale) or "warn"`, d.OnStale)
	}
	if k := d.KeepVersions; k.Set && (k.N < 0 || k.N > MaxKeepVersions) {
		col.add(key+".keep_versions", "%d: keep 0 to %d replaced versions (each holds as many entries as the version in force)", k.N, MaxKeepVersions)
	}
	if d.OnStale == StaleWarn && d.MaxAge.Duration == 0 {
		col.add(key+".on_stale", `"warn" needs a max_age: a list without one is never stale`)
	}
}

// checkListName applies the stores' rule for list names and keeps the
// opt-out list, which the gateway manages, out of the configuration.
func checkListName(col *collector, key, name string) {
	switch {
	case name == "":
		col.add(key, "required: the list's name in the lists commands and in decisions")
	case len(name) > maxListName:
		col.add(key, "longer than %d characters", maxListName)
	case strings.Trim(name, listNameChars) != "":
		col.add(key, "%q: use letters, digits, '-', '_' and '.' only", name)
	case name == listmodel.OptOut:
		col.add(key, "%q is the gateway's own opt-out list; it always exists and cannot be declared", name)
	case name == listmodel.Bounced:
		col.add(key, "%q is the gateway's own list of bounced recipients; it cannot be declared", name)
	}
}

func isListKind(k string) bool {
	for _, known := range listKinds {
		if k == known {
			return true
		}
	}
	return false
}

func checkListCountries(col *collector, key string, cs []string) {
	if len(cs) == 0 {
		col.add(key, `required: ISO 3166-1 alpha-2 codes (such as ["BE"]) or ["all"]`)
		return
	}
	for j, cc := range cs {
		k := fmt.Sprintf("%s[%d]", key, j)
		switch {
		case strings.EqualFold(strings.TrimSpace(cc), ListAll):
			if len(cs) > 1 {
				col.add(k, `"all" cannot be combined with country codes`)
			}
		default:
			if _, err := country.Parse(cc); err != nil {
				col.add(k, "%v", err)
			}
		}
	}
}
