// Package arch holds tests that keep the package graph the way DESIGN.md
// draws it: domain packages never reach into the SMTP side or into a store
// implementation; only cmd wires concrete parts together.
package arch

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
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
	"ledger":      {"relay", "store/embedded", "store/redisstore", "cmd/", "config"},
	// What comes back reaches the lists through the interfaces it defines.
	"bounce": {"relay", "store", "cmd/"},
	// The families no SMTP part owns read the lists through listdb.
	"metrics": {"relay", "store", "cmd/"},
	// The footer step serves the relay, which defines the Stamper it
	// needs; the wiring adapts. A ban ending in "$" is that package only,
	// so the step may still use its sibling relay/rewrite.
	"relay/stamp": {"relay$", "relay/upstream", "cmd/"},
	// One login check for every door: it knows neither SMTP nor HTTP.
	"auth": {"relay", "checkapi", "web", "unsubscribe", "store/embedded", "store/redisstore", "cmd/"},
	// The imports get their store through listdb and contactdb.
	"listimport":    {"relay", "store", "web", "cmd/"},
	"contactimport": {"relay", "store", "web", "cmd/"},
	// The CRM's side: the queue is an interface the stores implement.
	"webhook":   {"relay", "store", "config", "cmd/"},
	"optoutapi": {"relay", "store/embedded", "store/redisstore", "cmd/"},
	// The account rules serve the command line and the console alike.
	"accounts": {"relay", "store/embedded", "store/redisstore", "web", "console", "cmd/"},
}

// foreign maps a package to imports from outside the module it must never
// have, directly or through others.
var foreign = map[string][]string{
	"auth": {"net/http", "github.com/emersion/go-smtp"},
}

// leaves are packages that import nothing of the module, so anything may
// ask them (the configuration's value parsers among others, the reply
// codes and reasons).
var leaves = []string{"country", "smtpreply", "smtpurl", "listmodel", "footer/lang", "duration"}

// leafOnly are packages that may import no package of the module but the
// leaves: the configuration reads values, it does not reach the packages
// that use them (they get their checks to it through config.Check).
var leafOnly = []string{"config"}

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
	checked, seen := 0, map[string]bool{}
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen[strings.TrimPrefix(p.ImportPath, module)] = true
		for _, leaf := range leaves {
			if p.ImportPath != module+leaf {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module) {
					t.Errorf("%s imports %s; it must stay a leaf", p.ImportPath, d)
				}
			}
		}
		for _, owner := range leafOnly {
			if p.ImportPath != module+owner {
				continue
			}
			checked++
			for _, d := range p.Deps {
				if strings.HasPrefix(d, module) && !slices.Contains(leaves, strings.TrimPrefix(d, module)) {
					t.Errorf("%s imports %s; it may import only the leaves %s", p.ImportPath, d, strings.Join(leaves, ", "))
				}
			}
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
	for _, name := range append(slices.Clone(leaves), leafOnly...) {
		if !seen[name] {
			t.Errorf("no package %s%s: update the rule that names it", module, name)
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

// pipelines are the packages that hold what a web upload needs as much as
// the CLI: the binary calls them.
var pipelines = []string{"listimport", "contactimport", "suppression"}

// pipelineCalls are the calls that make an import or a scrub: reading a
// file row by row, keying values, writing a version, forgetting a
// contact. None belongs in the binary, which is flags, wiring and
// printing (STYLE.md 28).
// Qualified ones are package functions ("lists.NewReader"), the others
// methods on whatever receiver.
var pipelineCalls = map[string]bool{
	"lists.NewReader": true, "listdb.NewDigester": true, "csv.NewWriter": true,
	"BeginVersion": true, "BeginImport": true, "Commit": true, "Abort": true,
	"Forget": true, "ForgetRecipient": true,
}

// TestBinaryHoldsNoPipeline fails when cmd/dncgate stops calling the
// pipeline packages or runs a pipeline step itself.
func TestBinaryHoldsNoPipeline(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=Dir,Imports,GoFiles", module+"cmd/dncgate").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var p struct {
		Dir     string
		Imports []string
		GoFiles []string
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	for _, want := range pipelines {
		if !slices.Contains(p.Imports, module+want) {
			t.Errorf("cmd/dncgate does not import %s: the pipeline it holds is back in the binary", want)
		}
	}
	fset, files := parseFiles(t, p.Dir, p.GoFiles)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			name := sel.Sel.Name
			if x, ok := sel.X.(*ast.Ident); ok && pipelineCalls[x.Name+"."+name] {
				name = x.Name + "." + name
			}
			if pipelineCalls[name] {
				t.Errorf("%s: cmd/dncgate calls %s: that step belongs in %s", fset.Position(call.Pos()), name, strings.Join(pipelines, ", "))
			}
			return true
		})
	}
}

// parseFiles parses the named files of dir.
func parseFiles(t *testing.T, dir string, names []string) (*token.FileSet, []*ast.File) {
	t.Helper()
	if len(names) == 0 {
		t.Fatalf("%s has no Go files", dir)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

// storeFaces are the packages whose interfaces a store implements.
var storeFaces = map[string]bool{"store": true, "listdb": true, "caps": true, "contactdb": true}

// TestBinaryAssertsNoStore fails when cmd/dncgate asks a store at run time
// what it keeps (st.(listdb.Store), st.(interface{ Contacts() ... })): the
// store it opens has a type that says so, which both implementations
// declare at compile time.
func TestBinaryAssertsNoStore(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=Dir,GoFiles", module+"cmd/dncgate").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var p struct {
		Dir     string
		GoFiles []string
	}
	if err := json.Unmarshal(out, &p); err != nil {
		t.Fatal(err)
	}
	fset, files := parseFiles(t, p.Dir, p.GoFiles)
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil {
				return true
			}
			switch typ := ta.Type.(type) {
			case *ast.SelectorExpr:
				if x, ok := typ.X.(*ast.Ident); ok && storeFaces[x.Name] {
					t.Errorf("%s: cmd/dncgate asserts %s.%s at run time: add it to the store's type", fset.Position(ta.Pos()), x.Name, typ.Sel.Name)
				}
			case *ast.Ident, *ast.InterfaceType:
				// A local interface: only the standard library's types
				// (*os.File) are asked about.
				t.Errorf("%s: cmd/dncgate asserts a local interface at run time: add it to the store's type", fset.Position(ta.Pos()))
			}
			return true
		})
	}
}
