package console_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/internal/testbrowser"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
)

// TestBrowserReview is a manager's review in headless Chromium, without
// any script of ours: log in with the password and the code, filter by
// reason, open a transaction from its reference, download the CSV and
// read its rows. Screenshots of the log and the transaction, wide and
// 390 px narrow, are left in the test's artifact directory (go test
// -artifacts keeps them).
func TestBrowserReview(t *testing.T) {
	e := newEnv(t, func(o *console.Options) { o.Insecure = true })
	corpus(e)
	o1 := e.decision("OPT2", rep, "zoe@orange.fr", 30*time.Minute)
	o1.Reason, o1.Match = "opt-out", ledger.Match{List: "optout", Version: "v9", KeyKind: "email"}
	e.record(o1)
	ctx := testbrowser.New(t)
	shots := t.ArtifactDir()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("login", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(e.srv.URL+console.HomePath),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), mgr),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), e.code(0)),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("log")),
	)
	if n := len(rowRefs(t, ctx)); n != 5 {
		t.Fatalf("log page after login: %d rows, want 5", n)
	}
	screenshots(t, ctx, shots, "log")

	run("filter by reason", chromedp.SendKeys(chromedp.ID("f-reason"), "opt-out"),
		chromedp.Submit(chromedp.ID("f-reason")),
		chromedp.WaitVisible(chromedp.CSS(`a[href^="/console/log.csv?reason=opt-out"]`)))
	if got := rowRefs(t, ctx); !slices.Equal(got, []string{"OPT2", "B1"}) {
		t.Fatalf("rows filtered by opt-out = %v, want [OPT2 B1]", got)
	}

	dir := t.TempDir()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	run("export", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
		return err
	}), chromedp.Click(chromedp.CSS(`a[href^="/console/log.csv"]`)))
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "OPT2" || rows[2][1] != "B1" || rows[1][12] != "opt-out" {
		t.Fatalf("downloaded CSV = %v", rows)
	}

	run("open a reference", chromedp.SendKeys(chromedp.ID("f-ref"), "A1"),
		chromedp.Submit(chromedp.ID("f-ref")),
		chromedp.WaitVisible(chromedp.ID("rcpt-0")))
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil || h1 != "Transaction A1" {
		t.Fatalf("transaction heading %q, %v", h1, err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"j***@example.fr", "fr-bloctel", "v3", "optout", "v9"} {
		if !strings.Contains(body, want) {
			t.Errorf("transaction page lacks %q", want)
		}
	}
	screenshots(t, ctx, shots, "transaction")

	run("the audit trail", chromedp.Click(chromedp.CSS(`nav a[href="/console/audit"]`)),
		chromedp.WaitVisible(chromedp.ID("a-action")),
		chromedp.SetValue(chromedp.ID("a-action"), "export"),
		chromedp.Submit(chromedp.ID("a-action")),
		chromedp.WaitVisible(chromedp.ID("audit")))
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#audit tbody td')].map(td => td.textContent)`))
	if err != nil || len(cells) != 7 || cells[1] != "export" || cells[2] != mgr || cells[3] != "log" || !strings.Contains(cells[6], "rows=2") {
		t.Fatalf("audit trail filtered by export = %q (%v), want the CSV export", cells, err)
	}
	screenshots(t, ctx, shots, "audit")
}

// rowRefs are the references in the log table.
func rowRefs(t *testing.T, ctx context.Context) []string {
	t.Helper()
	refs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log tbody td:nth-child(2) a')].map(a => a.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

// screenshots saves the page wide and 390 px narrow, and checks that the
// narrow page does not scroll sideways and is styled (the stylesheet got
// through the CSP).
func screenshots(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, v := range []struct {
		suffix string
		w, h   int64
	}{{"wide", 1280, 900}, {"narrow", 390, 844}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(v.w, v.h), chromedp.Sleep(100*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+v.suffix+".png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
		if v.w == 390 {
			sw, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
			if err != nil || sw > 390 {
				t.Errorf("%s at 390 px: scrolls to %d px wide (%v)", name, sw, err)
			}
		}
		bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('.top')).backgroundColor`))
		if err != nil || bg != "rgb(31, 58, 95)" {
			t.Errorf("%s: header background %q (%v): the stylesheet did not apply", name, bg, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserUsers is an admin on the users pages in headless Chromium:
// add a user with a generated password, open their page and disable
// them. Both pages are checked at 390 px (no sideways scroll) and left as
// screenshots.
func TestBrowserUsers(t *testing.T) {
	e := newEnv(t, withAccounts(), func(o *console.Options) { o.Insecure = true })
	ctx := testbrowser.New(t)
	shots := t.ArtifactDir()
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("login", chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(e.srv.URL+console.UsersPath),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), admin),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Submit(chromedp.ID("password")),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), e.code(0)),
		chromedp.Submit(chromedp.ID("code")),
		chromedp.WaitVisible(chromedp.ID("users")),
	)
	run("add a user", chromedp.SendKeys(chromedp.ID("u-email"), "new@acme.example"),
		chromedp.Submit(chromedp.ID("u-email")),
		chromedp.WaitVisible(chromedp.ID("generated-password")))
	pw, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("generated-password")))
	if err != nil || len(pw) != 20 {
		t.Fatalf("generated password %q, %v", pw, err)
	}
	if u := e.user("new@acme.example"); u.Role != store.RoleRep || u.Disabled {
		t.Fatalf("added user %+v", u)
	}
	screenshots(t, ctx, shots, "users")
	run("disable", chromedp.Navigate(e.srv.URL+console.UserPath+"?email=new%40acme.example"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/console/users/disable"] button`)),
		chromedp.Click(chromedp.CSS(`form[action="/console/users/disable"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.banner-info`)))
	notice, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".banner-info")))
	if !strings.Contains(notice, "new@acme.example is disabled") || !e.user("new@acme.example").Disabled {
		t.Fatalf("after disabling: notice %q, user %+v", notice, e.user("new@acme.example"))
	}
	screenshots(t, ctx, shots, "user")
}
