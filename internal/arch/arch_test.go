// Package arch holds tests that keep the package graph the way DESIGN.md
// draws it: domain packages never reach into the SMTP side or into a store
// implementation; only cmd wires concrete parts together.
package arch

import (
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/dncgate/dncgate/"

// forbidden maps a package (and everything below it) to imports it must
// never have, directly or through others.
var forbidden = map[string][]string{
	"relay":       {"store/embedded", "store/redisstore", "cmd/"},
	"suppression": {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"lists":       {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"config":      {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"caps":        {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"listdb":      {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"footer":      {"relay", "store", "cmd/"},
	"unsubscribe": {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"store":       {"relay", "config", "cmd/"},
	"contactdb":   {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"checkapi":    {"relay", "store/embedded", "store/redisstore", "cmd/"},
	"web":         {"relay", "store", "cmd/"},
	// The footer step serves the relay, which defines the Stamper it
	// needs; the wiring adapts. A ban ending in "$" is that package only,
	// so the step may still use its sibling relay/rewrite.
	"relay/stamp": {"relay$", "relay/upstream", "cmd/"},
	// One login check for every door: it knows neither SMTP nor HTTP.
	"auth": {"relay", "checkapi", "web", "unsubscribe", "store/embedded", "store/redisstore", "cmd/"},
}

// foreign maps a package to imports from outside the module it must never
// have, directly or through others.
var foreign = map[string][]string{
	"auth": {"net/http", "github.com/emersion/go-smtp"},
}

// leaves import nothing of the module but other leaves: the vocabulary
// every package may share (the reply codes and reasons).
var leaves = []string{"smtpreply"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Deps", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		for owner, bans := range forbidden {
			if !within(p.ImportPath, owner) || (owner == "store" && isStoreImpl(p.ImportPath)) {
				continue
			}
			checked++
			for _, d := range p.Deps {
				for _, ban := range bans {
					if banned(d, ban) {
						t.Errorf("%s imports %s; DESIGN.md keeps %s away from %s", p.ImportPath, d, owner, ban)
					}
				}
				for _, ban := range foreign[owner] {
					if d == ban {
						t.Errorf("%s imports %s; %s must stay free of it", p.ImportPath, d, owner)
					}
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package of the module was checked")
	}
}

// TestLeaves: a leaf package imports no other package of the module than
// leaves, so that any package, domain or SMTP side, may import it.
func TestLeaves(t *testing.T) {
	for _, leaf := range leaves {
		out, err := exec.Command("go", "list", "-f", `{{join .Deps "\n"}}`, module+leaf).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", leaf, err)
		}
		for _, d := range strings.Fields(string(out)) {
			if strings.HasPrefix(d, module) && !slices.ContainsFunc(leaves, func(l string) bool { return within(d, l) }) {
				t.Errorf("leaf %s imports %s, which is not a leaf", leaf, d)
			}
		}
	}
}

// banned reports whether dep falls under ban: a package and everything
// below it, or only the package itself when ban ends in "$".
func banned(dep, ban string) bool {
	if exact, ok := strings.CutSuffix(ban, "$"); ok {
		return dep == module+exact
	}
	return within(dep, ban)
}

// within reports whether path is the module package rel or below it.
func within(path, rel string) bool {
	full := module + strings.TrimSuffix(rel, "/")
	return path == full || strings.HasPrefix(path, full+"/")
}

// isStoreImpl: the store implementations may import what they need to talk
// to their backends; the rule for "store" is about the interface package.
func isStoreImpl(path string) bool {
	return within(path, "store/embedded") || within(path, "store/redisstore") || within(path, "store/storetest")
}
