package unsubscribe_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/unsubscribe"
)

// auditLog collects what the endpoints report for the audit trail.
type auditLog struct {
	mu  sync.Mutex
	got []string
}

func (a *auditLog) OptedOut(_ context.Context, addr string, source ledger.Source) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.got = append(a.got, addr+" "+string(source))
	return nil
}

func (a *auditLog) events() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.got)
}

// TestOptOutsAudited: a one-click POST is reported as one-click, the
// confirmation form behind the link as link, a mailto request as mailto;
// a GET or a refused POST reports nothing.
func TestOptOutsAudited(t *testing.T) {
	p := stores(t)[0]
	var web auditLog
	s := newSite(t, p, func(o *unsubscribe.Options) { o.Audit = &web })
	do(t, http.MethodGet, s.link("seen@example.fr"), "", nil).want(t, http.StatusOK)
	postForm(t, s.link("forged@example.fr"), url.Values{"csrf": {"AAAA"}}).want(t, http.StatusForbidden)
	postForm(t, s.link("one@example.fr"), url.Values{"List-Unsubscribe": {"One-Click"}}).wantDone(t)
	u := s.link("form@example.fr")
	m := csrfValue.FindStringSubmatch(do(t, http.MethodGet, u, "", nil).body)
	postForm(t, u, url.Values{"csrf": {m[1]}}).wantDone(t)
	want := []string{"one@example.fr one-click", "form@example.fr link"}
	if got := web.events(); !slices.Equal(got, want) {
		t.Errorf("web audit %q, want %q", got, want)
	}

	var mail auditLog
	clk := newClock(start)
	kr := testKeyring(t)
	m2, err := unsubscribe.NewMailto(unsubscribe.MailtoOptions{
		Addr: "127.0.0.1:0", Domain: mailtoDomain, Keyring: kr, Org: testOrg, MaxAge: 30 * 24 * time.Hour,
		OptOuts: listOptOuts{p.writer}, Now: clk.Now, Audit: &mail,
	})
	if err != nil {
		t.Fatal(err)
	}
	go m2.Serve()
	t.Cleanup(func() { m2.Shutdown(context.Background()) })
	c, err := smtp.Dial(m2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("unsubscribe+"+kr.Seal("mail@example.fr", testOrg, clk.Now())+"@"+mailtoDomain, nil); err != nil {
		t.Fatal(err)
	}
	sendBody(t, c, "Subject: unsubscribe\r\n\r\n")
	if got := mail.events(); !slices.Equal(got, []string{"mail@example.fr mailto"}) {
		t.Errorf("mailto audit %q", got)
	}
}
