package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/store/embedded"
)

// binary is the dncgate built for these tests, with testVersion stamped in.
var binary string

const testVersion = "v0.0.0-cmdtest"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dncgate-cmd")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "dncgate")
	build := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building dncgate:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one run of the binary printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// dncgate runs the binary with stdin and returns its output and exit code.
func dncgate(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = t.TempDir() // a default ./dncgate-data lands there, not in the source tree
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("dncgate %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// want fails the test unless r exited with code and stream holds every part.
func (r result) want(t *testing.T, code int, stream string, parts ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	text := map[string]string{"stdout": r.stdout, "stderr": r.stderr}[stream]
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("%s lacks %q:\n%s", stream, p, text)
		}
	}
}

// initConfig writes a configuration file into dir and creates its store
// with `dncgate init`, as an operator does before any other command.
func initConfig(t *testing.T, dir, text string) string {
	t.Helper()
	p := writeFile(t, dir, "dncgate.toml", text)
	initStore(t, "--config", p)
	return p
}

// initStore runs `dncgate init` with args, which must succeed.
func initStore(t testing.TB, args ...string) {
	t.Helper()
	var out, errOut strings.Builder
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	if code := a.run(context.Background(), append([]string{"init"}, args...)); code != 0 || !strings.Contains(out.String(), "created store") {
		t.Fatalf("dncgate init %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersion(t *testing.T) {
	dncgate(t, "", "version").want(t, 0, "stdout", "dncgate "+testVersion, runtime.Version())
}

func TestHelpAndUsageErrors(t *testing.T) {
	dncgate(t, "", "help").want(t, 0, "stdout", "serve", "users", "config", "version")
	dncgate(t, "", "help", "users").want(t, 0, "stdout", "add", "passwd", "revoke")
	dncgate(t, "", "users", "add", "-h").want(t, 0, "stdout", "usage: dncgate users add EMAIL [flags]", "-password-stdin", "-send-as")
	dncgate(t, "", "serve", "-h").want(t, 0, "stdout", "-listen", "-upstream", "-redis", "-web-listen", "-config", "-data")
	dncgate(t, "").want(t, 2, "stderr", "missing command")
	dncgate(t, "", "frobnicate").want(t, 2, "stderr", `unknown command "frobnicate"`)
	dncgate(t, "", "users").want(t, 2, "stderr", "dncgate users: missing command")
	dncgate(t, "", "users", "add").want(t, 2, "stderr", "want EMAIL, got 0 argument(s)")
	dncgate(t, "", "config", "check", "--bogus").want(t, 2, "stderr", "flag provided but not defined: -bogus")
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.toml", `
[server]
hostname = "gw.test"
[upstream]
url = "smtp+starttls://rep%40acme.test:upstream-Pa55@mail.acme.test"
[store]
backend = "redis"
redis_url = "redis://:redis-Pa55@127.0.0.1:6379/0"
[privacy]
hmac_key = "6d792d766572792d7365637265742d686d61632d6b65792d6f662d33322d6279"
`)
	r := dncgate(t, "", "config", "check", "--config", good)
	r.want(t, 0, "stdout", `hostname = "gw.test"`, `url = "smtp+starttls://rep%40acme.test:***@mail.acme.test"`, `hmac_key = "***"`)
	for _, secret := range []string{"upstream-Pa55", "redis-Pa55", "6d792d76"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("config check printed the secret %q", secret)
		}
	}
	dncgate(t, "", "config", "check", "--config", good, "--data", "/srv/elsewhere").
		want(t, 0, "stdout", `data_dir = "/srv/elsewhere"`)
	ch := dncgate(t, "", "config", "check", "--config", good, "--changed")
	ch.want(t, 0, "stdout", `hostname = "gw.test"`, `backend = "redis"`, `hmac_key = "***"`)
	for _, unchanged := range []string{"idle_timeout", "max_message_size", "[auth]", "upstream-Pa55", "redis-Pa55"} {
		if strings.Contains(ch.stdout, unchanged) {
			t.Errorf("config check --changed printed %q:\n%s", unchanged, ch.stdout)
		}
	}

	bad := writeFile(t, dir, "bad.toml", "[limits]\nmax_recipients = \"ten\"\n\n[store]\nbackend = \"postgres\"\n")
	dncgate(t, "", "config", "check", "--config", bad).want(t, 1, "stderr",
		bad+`:2: limits.max_recipients: want an integer, got a string`,
		bad+`:5: store.backend: unknown backend "postgres"`)
	dncgate(t, "", "config", "check", "--config", filepath.Join(dir, "absent.toml")).
		want(t, 1, "stderr", "no such file or directory")
}

// Flags replace configured values before validation, and problems with
// them are not blamed on the file.
func TestServeValidatesFlags(t *testing.T) {
	data := t.TempDir()
	dncgate(t, "", "serve", "--data", data, "--listen", "nowhere").want(t, 1, "stderr",
		`listener[0].address: "nowhere" is not host:port (set on the command line)`)
	dncgate(t, "", "serve", "--data", data, "--listen", "127.0.0.1:0", "--upstream", "ftp://mail.test").want(t, 1, "stderr",
		`upstream.url: unknown scheme "ftp"`)
	dncgate(t, "", "serve", "--data", data, "--listen", "127.0.0.1:0", "--redis", "redis://127.0.0.1:1/0").want(t, 1, "stderr",
		`privacy.hmac_key: required with store.backend = "redis"`)
	cfg := writeFile(t, data, "dncgate.toml", "[[listener]]\naddress = \"bad\"\n")
	dncgate(t, "", "serve", "--config", cfg, "--data", data, "--upstream", "smtp://").want(t, 1, "stderr",
		cfg+`:2: listener[0].address: "bad" is not host:port`,
		`upstream.url: missing host; write smtp://host:port (set on the command line)`)
}

const password = "correct horse battery"

// storeUser reads a user straight from the embedded store file.
func storeUser(t *testing.T, data, email string) (hash []byte, sendAs []string, found bool) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(data, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.User(context.Background(), email)
	if err != nil {
		return nil, nil, false
	}
	return u.PasswordHash, u.SendAs, true
}

func TestUsersLifecycle(t *testing.T) {
	data := t.TempDir()
	initStore(t, "--data", data)
	dncgate(t, password+"\n", "users", "add", "Rep@Acme.Test", "--data", data, "--role", "manager",
		"--send-as", "rep@ACME.test", "--send-as", "@Sales.Acme.Test", "--password-stdin").
		want(t, 0, "stdout", "added rep@acme.test (role manager, send-as rep@acme.test, @sales.acme.test)")

	hash, sendAs, ok := storeUser(t, data, "rep@acme.test")
	if !ok || bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
		t.Fatalf("stored hash does not verify the password (user found: %v)", ok)
	}
	if cost, _ := bcrypt.Cost(hash); cost != auth.DefaultCost {
		t.Errorf("bcrypt cost %d, want %d", cost, auth.DefaultCost)
	}
	if strings.Join(sendAs, " ") != "rep@acme.test @sales.acme.test" {
		t.Errorf("send-as %v", sendAs)
	}

	dncgate(t, "other password\n", "users", "add", "ops@acme.test", "--data", data, "--password-stdin").
		want(t, 0, "stdout", "added ops@acme.test (role rep, send-as ops@acme.test)")
	r := dncgate(t, "", "users", "ls", "--data", data)
	r.want(t, 0, "stdout", "EMAIL", "ROLE", "SEND-AS", "CREATED")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "ops@acme.test ") || !strings.HasPrefix(lines[2], "rep@acme.test ") {
		t.Fatalf("users ls:\n%s", r.stdout)
	}
	if col := strings.Index(lines[0], "ROLE"); lines[2][col:col+7] != "manager" {
		t.Errorf("columns not aligned:\n%s", r.stdout)
	}

	dncgate(t, "a new password\n", "users", "passwd", "rep@acme.test", "--data", data, "--password-stdin").want(t, 0, "stderr")
	if hash, _, _ := storeUser(t, data, "rep@acme.test"); bcrypt.CompareHashAndPassword(hash, []byte("a new password")) != nil {
		t.Errorf("passwd did not change the hash")
	}

	dncgate(t, "", "users", "grant", "rep@acme.test", "--send-as", "@ACME.test", "--data", data).
		want(t, 0, "stdout", "rep@acme.test may send as: rep@acme.test, @sales.acme.test, @acme.test")
	dncgate(t, "", "users", "revoke", "rep@acme.test", "--send-as", "@sales.acme.test", "--data", data).
		want(t, 0, "stdout", "rep@acme.test may send as: rep@acme.test, @acme.test")
	dncgate(t, "", "users", "revoke", "rep@acme.test", "--send-as", "@sales.acme.test", "--data", data).
		want(t, 1, "stderr", "user rep@acme.test: has no send-as @sales.acme.test to revoke")

	dncgate(t, "", "users", "rm", "rep@acme.test", "--data", data).want(t, 0, "stdout", "removed rep@acme.test")
	if _, _, ok := storeUser(t, data, "rep@acme.test"); ok {
		t.Errorf("the user is still in the store after rm")
	}
	dncgate(t, "", "users", "rm", "rep@acme.test", "--data", data).want(t, 1, "stderr", "no user rep@acme.test")
}

func TestUsersAddRefusals(t *testing.T) {
	data := t.TempDir()
	initStore(t, "--data", data)
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--data", data, "--password-stdin").want(t, 0, "stdout")
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"bad email", password + "\n", []string{"not-an-address"}, 2, `"not-an-address" is not an e-mail address`},
		{"display name", password + "\n", []string{"Rep <rep2@acme.test>"}, 2, "is not an e-mail address"},
		{"bad role", password + "\n", []string{"rep2@acme.test", "--role", "boss"}, 2, `user rep2@acme.test: unknown role "boss"`},
		{"bad send-as", password + "\n", []string{"rep2@acme.test", "--send-as", "@bad_domain"}, 2, `user rep2@acme.test: send-as "@bad_domain"`},
		{"short password", "short\n", []string{"rep2@acme.test"}, 1, "user rep2@acme.test: the password is too short: at least 10 characters"},
		{"long password", strings.Repeat("x", 73) + "\n", []string{"rep2@acme.test"}, 1, "at most 72 bytes"},
		{"no password", "", []string{"rep2@acme.test"}, 1, "user rep2@acme.test: reading the password from stdin"},
		{"exists", password + "\n", []string{"REP@acme.test"}, 1, "user rep@acme.test already exists"},
	}
	for _, c := range cases {
		args := append([]string{"users", "add", "--data", data, "--password-stdin"}, c.args...)
		r := dncgate(t, c.stdin, args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	if _, _, ok := storeUser(t, data, "rep2@acme.test"); ok {
		t.Errorf("a refused user was stored")
	}
}

// Without --password-stdin the password must come from a terminal.
func TestUsersAddNeedsTerminal(t *testing.T) {
	data := t.TempDir()
	initStore(t, "--data", data)
	dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--data", data).
		want(t, 1, "stderr", "stdin is not a terminal; pipe the password and use --password-stdin")
}

// With backend = "redis" the users commands work on Redis, a single node
// or a cluster.
func TestUsersOnRedis(t *testing.T) {
	const key = "6d792d766572792d7365637265742d686d61632d6b65792d6f662d33322d6279"
	node := fmt.Sprintf("redis_url = \"redis://%s/0\"", testredis.Start(t))
	cluster := fmt.Sprintf("redis_cluster = [%q]", testredis.StartCluster(t, 3)[0])
	for name, where := range map[string]string{"node": node, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := initConfig(t, dir, fmt.Sprintf("[store]\nbackend = \"redis\"\n%s\n\n[privacy]\nhmac_key = %q\n", where, key))
			dncgate(t, password+"\n", "users", "add", "rep@acme.test", "--config", cfg, "--password-stdin").want(t, 0, "stdout")
			dncgate(t, "", "users", "ls", "--config", cfg).want(t, 0, "stdout", "rep@acme.test  rep")
		})
	}
}

// openTestStore opens the store a configuration file names, with its
// digest key, as the commands do; the store is closed at the end of the test.
func openTestStore(t *testing.T, cfgPath string) (*config.Config, backend, []byte) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := cfg.HMACKey()
	if err != nil {
		t.Fatal(err)
	}
	return cfg, st, key
}

// TestConfigCheckWarnsWithoutDefaultCountry: config check names the
// fallback a recipient of unknown country gets when default_country is
// unset, and says nothing of it once it is set.
func TestConfigCheckWarnsWithoutDefaultCountry(t *testing.T) {
	dir := t.TempDir()
	unset := writeFile(t, dir, "unset.toml", "[server]\nhostname = \"gw.test\"\n")
	dncgate(t, "", "config", "check", "--config", unset).want(t, 0, "stderr",
		`dncgate: warning: policy.default_country is not set`, `falls under the "*" rule`)
	off := writeFile(t, dir, "off.toml", "[policy]\npresets = false\n")
	dncgate(t, "", "config", "check", "--config", off).want(t, 0, "stderr",
		`policy.default_country is not set and no "*" rule applies`, "is allowed")
	set := writeFile(t, dir, "set.toml", "[policy]\ndefault_country = \"uk\"\n")
	r := dncgate(t, "", "config", "check", "--config", set)
	r.want(t, 0, "stdout", `default_country = "uk"`)
	if strings.Contains(r.stderr, "default_country") {
		t.Errorf("config check warned with a default country set:\n%s", r.stderr)
	}
}

// The footer templates are checked with the rest of the configuration,
// each problem at its key's line.
func TestConfigCheckLoadsFooterTemplates(t *testing.T) {
	dir := t.TempDir()
	const details = `[footer]
company = "Acme SAS"
postal_address = "1 rue de l'Exemple, Paris"
privacy_url = "https://acme.example/privacy"
source = "public websites"
purpose = "offers"
legal_basis = "legitimate interest"
`
	fallback := writeFile(t, dir, "fallback.toml", "[limits]\nmax_recipients = \"ten\"\n"+details+"fallback_language = \"pt\"\n")
	r := dncgate(t, "", "config", "check", "--config", fallback)
	r.want(t, 1, "stderr",
		fallback+`:2: limits.max_recipients: want an integer, got a string`,
		fallback+`:10: footer.fallback_language: footer: fallback language "pt" has no templates`)

	tpl := filepath.Join(dir, "templates")
	if err := os.Mkdir(tpl, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, tpl, "fr.txt.tmpl", "{{.Company")
	broken := writeFile(t, dir, "broken.toml", details+"templates_dir = "+strconv.Quote(tpl)+"\n")
	dncgate(t, "", "config", "check", "--config", broken).want(t, 1, "stderr",
		broken+`:8: footer.templates_dir: footer: override template fr.txt.tmpl: `)

	absent := writeFile(t, dir, "absent.toml", details+"templates_dir = \"/nonexistent/dncgate-templates\"\n")
	r = dncgate(t, "", "config", "check", "--config", absent)
	r.want(t, 1, "stderr", absent+`:8: footer.templates_dir: "/nonexistent/dncgate-templates" is not a folder`)
	if n := strings.Count(r.stderr, "footer.templates_dir"); n != 1 {
		t.Errorf("%d problems with footer.templates_dir, want 1:\n%s", n, r.stderr)
	}

	shipped, err := os.ReadFile("../../footer/templates/fr.txt.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, tpl, "fr.txt.tmpl", string(shipped))
	ok := writeFile(t, dir, "ok.toml", details+"templates_dir = "+strconv.Quote(tpl)+"\n")
	dncgate(t, "", "config", "check", "--config", ok).want(t, 0, "stdout", `fallback_language = "en"`)
}
