package unsubscribe_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/dncgate/dncgate/internal/testbrowser"
)

func newBrowser(t *testing.T) context.Context { return testbrowser.New(t) }

// TestBrowserFrenchRecipient opens a French recipient's link, checks the
// page is French and styled (the CSP lets exactly its inline style
// through), clicks the button and checks the opt-out reached the store.
func TestBrowserFrenchRecipient(t *testing.T) {
	s := newSite(t, embeddedPair(t), nil)
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(s.link("jeanne.martin@acme.fr"))); err != nil {
		t.Fatalf("opening the page: %v", err)
	}
	lang := run(t, ctx, chromedp.AttributeValue(chromedp.CSS("html"), "lang"))
	heading := run(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	button := run(t, ctx, chromedp.Text(chromedp.ID("unsubscribe")))
	if lang.Value != "fr" || heading != "Désabonnement" || button != "Me désabonner" {
		t.Errorf("page lang %q, heading %q, button %q; want French", lang.Value, heading, button)
	}
	if w := run(t, ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).maxWidth`)); w != "576px" {
		t.Errorf("body max-width %q, want 576px: the inline style was blocked", w)
	}
	if optedOut(t, s.stores.other, "jeanne.martin@acme.fr") {
		t.Fatal("opening the page opted out")
	}
	err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("unsubscribe")), chromedp.WaitVisible(chromedp.ID("done")))
	if err != nil {
		t.Fatalf("clicking the button: %v", err)
	}
	done := run(t, ctx, chromedp.Text(chromedp.ID("done")))
	if !strings.Contains(done, "C'est fait") || !strings.Contains(done, "j***@acme.fr") {
		t.Errorf("done page says %q", done)
	}
	if !optedOut(t, s.stores.other, "jeanne.martin@acme.fr") {
		t.Error("the button did not opt out")
	}
}

// run runs one browser action and fails the test on error.
func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	return testbrowser.Run(t, ctx, a)
}
