package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Every command of the tables is described, with the flags its own flag
// set defines: the man page and completions come from this walk.
func TestDescribeCoversEveryCommand(t *testing.T) {
	root := describe(t.Context())
	var top []string
	for _, s := range root.Subs {
		top = append(top, s.words())
	}
	for _, c := range topCommands() {
		if c.run != nil && !slices.Contains(top, c.name) {
			t.Errorf("command %s is not described", c.name)
		}
	}
	byPath := map[string]*cmdDoc{}
	for _, l := range root.leaves() {
		byPath[l.words()] = l
		if l.Help == "" {
			t.Errorf("%s has no description", l.Path)
		}
	}
	for path, flags := range map[string][]string{
		"lists import": {"column", "header", "no-header", "max-removal", "force", "config", "data"},
		"log":          {"since", "address", "format"},
		"log ref":      {"config"},
		"serve":        {"listen", "web-listen"},
		"config check": {"changed"},
		"users add":    {"role", "password-stdin"},
	} {
		l, ok := byPath[path]
		if !ok {
			t.Errorf("no leaf %q in %v", path, keys(byPath))
			continue
		}
		for _, f := range flags {
			if !slices.ContainsFunc(l.Flags, func(d flagDoc) bool { return d.Name == f }) {
				t.Errorf("%s lacks --%s", path, f)
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestManPage(t *testing.T) {
	r := dncgate(t, "", "man")
	r.want(t, 0, "stdout", ".TH DNCGATE 1", ".SS dncgate lists import NAME FILE", `\fB\-\-max\-removal\fR \fISHARE\fR`,
		".SS dncgate log ref REF", ".SH EXIT STATUS")
	for _, l := range describe(t.Context()).leaves() {
		if !strings.Contains(r.stdout, ".SS "+roff(l.Path)) {
			t.Errorf("the man page lacks %s", l.Path)
		}
	}
	// No line may start with a dot roff does not know: every text line is escaped.
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, ".") && !slices.Contains([]string{".TH", ".SH", ".SS", ".TP", ".PP", ".B", ".I"}, strings.Fields(line)[0]) {
			t.Errorf("unescaped request line %q", line)
		}
	}
}

// The bash script, sourced by a real bash, completes commands,
// subcommands and each leaf's own flags.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is needed for this test")
	}
	script := filepath.Join(t.TempDir(), "dncgate.bash")
	os.WriteFile(script, []byte(dncgate(t, "", "completion", "bash").stdout), 0o600)
	cases := map[string]string{
		"dncgate li":                "lists",
		"dncgate lists ":            "import ls show history rollback add remove manual drop",
		"dncgate lists import --co": "--column --config --country",
		"dncgate log r":             "ref",
		"dncgate config check --ch": "--changed",
		"dncgate users add x --ro":  "--role",
	}
	for line, want := range cases {
		prog := `source "$1"; read -ra COMP_WORDS <<< "$2"; [[ $2 == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); _dncgate; echo "${COMPREPLY[*]}"`
		out, err := exec.Command(bash, "-c", prog, "bash", script, line).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%q completes to %q (%v), want %q", line, strings.TrimSpace(string(out)), err, want)
		}
	}
	dncgate(t, "", "completion", "tcsh").want(t, 2, "stderr", `unknown shell "tcsh"`)
	fish := dncgate(t, "", "completion", "fish")
	fish.want(t, 0, "stdout", "complete -c dncgate -n '__fish_seen_subcommand_from lists; and not __fish_seen_subcommand_from import ls show history rollback add remove manual drop' -a import")
	if strings.Contains(fish.stdout, `"$DNCGATE_CONFIG`) {
		t.Error("fish script leaves $DNCGATE_CONFIG in double quotes, where fish expands it")
	}
}
