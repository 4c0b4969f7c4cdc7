package console

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dncgate/dncgate/internal/testbrowser"
)

// screensEnv names a folder to keep the screenshots in; without it they
// go to the test's temporary folder.
const screensEnv = "DNCGATE_SCREENSHOTS"

// TestBrowserUploadAndRollback: an admin, in a real browser, uploads a
// list, watches the import to its report (the page reloads itself, no
// script), rolls the list back, and the trends and lists pages are
// photographed wide and at 390 px, where nothing may overflow sideways.
func TestBrowserUploadAndRollback(t *testing.T) {
	r := newReview(t)
	r.fourLists()
	r.trendDecisions()
	ctx := testbrowser.New(t)
	secret := r.sessionSecret(adminUser)
	do(t, ctx, chromedp.Navigate(r.srv.URL+LoginPath))
	testbrowser.Run(t, ctx, chromedp.Evaluate[string](`document.cookie = "`+r.c.cookieName()+`=`+secret+`; path=/"`))

	file := filepath.Join(t.TempDir(), "fresh.csv")
	if err := os.WriteFile(file, []byte("a@x.example\nb@x.example\ng@x.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(r.srv.URL+UploadPath), chromedp.SetValue(chromedp.ID("u-list"), "fresh-list"), chromedp.SetUploadFiles(chromedp.ID("u-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`form[action="/console/upload"] button[type=submit]`)), chromedp.WaitVisible(chromedp.ID("job-state")))
	waitText(t, ctx, "#job-state", "done: the new version is in force")
	_, v, _ := r.st.List(context.Background(), "fresh-list")
	if v.Entries != 3 || v.ImportedBy != adminUser {
		t.Fatalf("after the upload: %+v", v)
	}

	do(t, ctx, chromedp.Navigate(r.srv.URL+ListPath+"fresh-list"),
		chromedp.Click(chromedp.CSS(`form[action="/console/lists/fresh-list/rollback"] button`)))
	waitText(t, ctx, "main", "is now in force")
	if _, back, _ := r.st.List(context.Background(), "fresh-list"); back.ID == v.ID {
		t.Error("the rollback did not change the version in force")
	}

	dir := os.Getenv(screensEnv)
	if dir == "" {
		dir = t.TempDir()
	}
	for _, page := range []struct{ name, path string }{{"trends", TrendsPath}, {"lists", ListsPath}} {
		for _, w := range []int64{1280, 390} {
			do(t, ctx, chromedp.EmulateViewport(w, 900), chromedp.Navigate(r.srv.URL+page.path), chromedp.WaitVisible(chromedp.CSS("main")))
			if over := testbrowser.Run(t, ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)); over {
				t.Errorf("%s at %d px scrolls sideways", page.name, w)
			}
			png := testbrowser.Run(t, ctx, chromedp.FullScreenshot(100))
			name := filepath.Join(dir, page.name+"-"+strconv.FormatInt(w, 10)+".png")
			if err := os.WriteFile(name, png, 0o644); err != nil {
				t.Fatal(err)
			}
			if len(png) < 5000 {
				t.Errorf("%s: a screenshot of %d bytes", name, len(png))
			}
		}
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// waitText waits until the element's text holds want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(12 * time.Second)
	for {
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err == nil && strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s says %q, want %q (%v)", sel, got, want, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
