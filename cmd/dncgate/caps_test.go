package main

import (
	"context"
	"fmt"
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testredis"
)

const capsKey = "6d792d766572792d7365637265742d686d61632d6b65792d6f662d33322d6279"

// capsConfig is a configuration with one cap of each kind the commands
// tell apart, on the store described by storeTOML.
func capsConfig(storeTOML string) string {
	return fmt.Sprintf(`%s

[privacy]
hmac_key = %q

[[caps]]
name   = "recipient-30d"
scope  = "recipient"
limit  = 2
window = "720h"

[[caps]]
name   = "domain-day"
scope  = "recipient-domain"
limit  = 20
window = "24h"

[[caps]]
name   = "rep-day"
scope  = "rep"
limit  = 300
window = "24h"
`, storeTOML, capsKey)
}

// sendAs records, through the gateway's own checker on the configured
// store, one message from rep to rcpt accepted upstream at now.
func sendAs(t *testing.T, cfgPath, rep, rcpt, msgID string, now time.Time) {
	t.Helper()
	ctx := context.Background()
	cfg, st, key := openTestStore(t, cfgPath)
	chk, err := newChecker(cfg, st, key)
	if err != nil {
		t.Fatal(err)
	}
	tk, ref, err := chk.Reserve(ctx, rep, rcpt, "", msgID, now)
	if err != nil || ref != nil {
		t.Fatalf("reserving %s: refusal %v, error %v", rcpt, ref, err)
	}
	if err := tk.Commit(ctx, now); err != nil {
		t.Fatal(err)
	}
}

// row returns the fields of the line of caps show's output for the named cap.
func row(t *testing.T, out, name string) []string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == name {
			return f
		}
	}
	t.Fatalf("no row for cap %s in:\n%s", name, out)
	return nil
}

// checkCapsCommands runs show and reset against the configuration at cfgPath.
func checkCapsCommands(t *testing.T, cfgPath string) {
	first := time.Now().UTC()
	sendAs(t, cfgPath, "rep@acme.test", "Ann@Sales.Prospect.fr", "m1", first)
	sendAs(t, cfgPath, "rep@acme.test", "ann@sales.prospect.fr", "m2", first.Add(time.Second))
	sendAs(t, cfgPath, "rep@acme.test", "bob@prospect.fr", "m3", first.Add(time.Second))

	r := dncgate(t, "", "caps", "show", "ANN@sales.prospect.fr", "--config", cfgPath)
	r.want(t, 0, "stdout", "CAP", "SCOPE", "COUNT", "LIMIT", "NEXT FREE (UTC)")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 { // header, recipient-30d, rep-day
		t.Fatalf("caps show of an address, want a header and 2 rows:\n%s", r.stdout)
	}
	if col := strings.Index(lines[0], "LIMIT"); !strings.HasPrefix(lines[1][col:], "2 ") {
		t.Errorf("columns not aligned:\n%s", r.stdout)
	}
	next := first.Add(720 * time.Hour).Format(time.DateTime)
	if got := strings.Join(row(t, r.stdout, "recipient-30d"), " "); got != "recipient-30d recipient ann@sales.prospect.fr 2 2 30d "+next {
		t.Errorf("recipient row %q, want the 2 sends, the limit and the next slot %s", got, next)
	}
	if got := row(t, r.stdout, "rep-day"); got[3] != "0" || got[len(got)-1] != "now" {
		t.Errorf("an address as a rep: row %v, want count 0 and a free slot now", got)
	}

	r = dncgate(t, "", "caps", "show", "Shop.Prospect.FR", "--config", cfgPath)
	if got := row(t, r.stdout, "domain-day"); got[2] != "prospect.fr" || got[3] != "3" || got[5] != "1d" || got[6] != "now" {
		t.Errorf("domain row %v, want the registrable domain with 3 sends and a free slot", got)
	}
	r = dncgate(t, "", "caps", "show", "rep@acme.test", "--config", cfgPath)
	if got := row(t, r.stdout, "rep-day"); got[3] != "3" {
		t.Errorf("rep row %v, want 3 sends", got)
	}

	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", "ops-on-call")
	r = dncgate(t, "", "caps", "reset", "ann@sales.prospect.fr", "--cap", "recipient-30d", "--config", cfgPath)
	r.want(t, 0, "stdout", "reset cap recipient-30d for ann@sales.prospect.fr (by ops-on-call)")
	r.want(t, 0, "stderr", "cap reset", "cap=recipient-30d", "by=ops-on-call")
	r = dncgate(t, "", "caps", "show", "ann@sales.prospect.fr", "--config", cfgPath)
	if got := row(t, r.stdout, "recipient-30d"); got[3] != "0" || got[len(got)-1] != "now" {
		t.Errorf("after reset: row %v, want count 0 and a free slot now", got)
	}
	dncgate(t, "", "caps", "reset", "prospect.fr", "--cap", "domain-day", "--by", "Dana", "--config", cfgPath).
		want(t, 0, "stdout", "reset cap domain-day for prospect.fr (by Dana)")
	if got := row(t, dncgate(t, "", "caps", "show", "prospect.fr", "--config", cfgPath).stdout, "domain-day"); got[3] != "0" {
		t.Errorf("domain after reset: row %v", got)
	}
	if got := row(t, dncgate(t, "", "caps", "show", "rep@acme.test", "--config", cfgPath).stdout, "rep-day"); got[3] != "3" {
		t.Errorf("resetting other caps changed the rep's: row %v", got)
	}
}

func TestCapsCommandsEmbedded(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, capsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data)))
	checkCapsCommands(t, cfg)
}

func TestCapsCommandsRedis(t *testing.T) {
	node := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"", testredis.Start(t))
	cluster := fmt.Sprintf("[store]\nbackend = \"redis\"\nredis_cluster = [%q]", testredis.StartCluster(t, 3)[0])
	for name, where := range map[string]string{"node": node, "cluster": cluster} {
		t.Run(name, func(t *testing.T) {
			checkCapsCommands(t, initConfig(t, t.TempDir(), capsConfig(where)))
		})
	}
}

func TestCapsCommandErrors(t *testing.T) {
	data := t.TempDir()
	cfg := initConfig(t, data, capsConfig(fmt.Sprintf("[server]\ndata_dir = %q", data)))
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key", []string{"show"}, 2, "want KEY, got 0 argument(s)"},
		{"no cap fits", []string{"show", "rep@acme.test|prospect.fr"}, 2, `no configured cap counts "rep@acme.test|prospect.fr"`},
		{"no --cap", []string{"reset", "ann@prospect.fr"}, 2, "give the cap to reset with --cap NAME"},
		{"unknown cap", []string{"reset", "ann@prospect.fr", "--cap", "weekly"}, 2,
			`no cap named "weekly"; the configured caps are recipient-30d, domain-day, rep-day`},
		{"wrong scope", []string{"reset", "ann@prospect.fr", "--cap", "domain-day"}, 2,
			`cap domain-day has scope recipient-domain, which does not count "ann@prospect.fr"`},
	}
	for _, c := range cases {
		r := dncgate(t, "", append(append([]string{"caps"}, c.args...), "--config", cfg)...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and %q", c.name, r.code, r.stderr, c.code, c.want)
		}
	}
	bare := t.TempDir()
	initStore(t, "--data", bare)
	dncgate(t, "", "caps", "show", "org", "--data", bare).want(t, 1, "stderr", "no [[caps]] are configured")
}

// With no --by and no $SUDO_USER or $USER (a root shell under a service
// manager), the operator is the account's name, never "unknown".
func TestOperatorWithoutEnvironment(t *testing.T) {
	t.Setenv("SUDO_USER", "")
	t.Setenv("USER", "")
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	if got := operator(""); got != u.Username || got == "" {
		t.Fatalf("operator() = %q, want the account name %q", got, u.Username)
	}
	t.Setenv("USER", "dana")
	if got := operator(""); got != "dana" {
		t.Fatalf("operator() with $USER = %q", got)
	}
	if got := operator("  Lee "); got != "Lee" {
		t.Fatalf("operator(--by) = %q", got)
	}
}
