package console

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
	"github.com/dncgate/dncgate/suppression"
)

func (r *review) withErasure() {
	r.t.Helper()
	if err := suppression.EnsureOptOut(context.Background(), r.st); err != nil {
		r.t.Fatal(err)
	}
	r.c.o.Erasure = &suppression.Erasure{OptOuts: suppression.NewOptOuts(r.st, r.key), Contacts: r.st.Contacts()}
}

func TestOptOutSearchAndAdd(t *testing.T) {
	r := newReview(t)
	r.withErasure()
	addr := "Jean.Dupont+news@Acme.fr"
	_, body := r.get(managerUser, OptOutsPath+"?address="+url.QueryEscape(addr))
	mustContain(t, body, "j***@acme.fr is not opted out.")
	mustNotContain(t, body, "Erasure request") // a manager may not erase
	if resp, _ := r.post(managerUser, OptOutsPath, url.Values{"address": {addr}, "reason": {"asked by phone"}}, false); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an opt-out without CSRF token: %d", resp.StatusCode)
	}
	if resp, body := r.post(managerUser, OptOutsPath, url.Values{"address": {addr}}, true); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an opt-out without reason: %d\n%s", resp.StatusCode, body)
	}
	resp, body := r.post(managerUser, OptOutsPath, url.Values{"address": {addr}, "reason": {`asked by phone <script>`}}, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("opt-out: %d\n%s", resp.StatusCode, body)
	}
	mustContain(t, body, "is opted out, from now on", "j***@acme.fr is opted out", "console", managerUser, "asked by phone &lt;script&gt;")
	// Another spelling of the same person.
	_, body = r.get(repUser, OptOutsPath+"?address=jean.dupont@acme.fr")
	if code, _ := r.get(repUser, OptOutsPath); code != http.StatusForbidden {
		t.Errorf("a rep opens the opt-outs page: %d, want 403", code)
	}
	_, body = r.get(managerUser, OptOutsPath+"?address=jean.dupont@acme.fr")
	mustContain(t, body, "j***@acme.fr is opted out")
	out, err := suppression.NewOptOuts(r.st, r.key).IsOptedOut(context.Background(), "jean.dupont@acme.fr")
	if err != nil || !out {
		t.Errorf("the store: opted out %v, %v", out, err)
	}
	mustNotContain(t, body, "jean.dupont@acme.fr is", "Jean.Dupont")
}

func TestErasureNeedsConfirmation(t *testing.T) {
	r := newReview(t)
	r.withErasure()
	ctx := context.Background()
	d := ledgertest.Decision("E1", 1, 0, ledger.Refused)
	d.RcptDigest = ledger.RcptDigest(r.key, "p@x.example")
	r.record(d)
	form := url.Values{"address": {"p@x.example"}, "reason": {"GDPR art. 17"}}
	if resp, _ := r.post(managerUser, ErasePath, form, true); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a manager's erasure: %d, want 403", resp.StatusCode)
	}
	resp, body := r.post(adminUser, ErasePath, form, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("erasure, first step: %d", resp.StatusCode)
	}
	mustContain(t, body, "Erase p***@x.example?", `name="confirm" value="yes"`, "GDPR art. 17")
	if out, _ := suppression.NewOptOuts(r.st, r.key).IsOptedOut(ctx, "p@x.example"); out {
		t.Fatal("the first step erased already")
	}
	form.Set("confirm", "yes")
	resp, body = r.post(adminUser, ErasePath, form, true)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("erasure: %d\n%s", resp.StatusCode, body)
	}
	mustContain(t, body, "p***@x.example is erased", "1 refusals deleted")
	if out, _ := suppression.NewOptOuts(r.st, r.key).IsOptedOut(ctx, "p@x.example"); !out {
		t.Error("the erased person is not opted out")
	}
	if tx, _ := r.led.Transaction(ctx, "E1"); len(tx) != 0 {
		t.Errorf("the refusal is still in the ledger: %+v", tx)
	}
	evs, _ := r.led.Audits(ctx, ledger.AuditQuery{Action: ledger.ActErase})
	if len(evs) != 1 || evs[0].Actor != adminUser || evs[0].Digest != nil {
		t.Errorf("erasure audit: %+v; want one by the admin, without the digest", evs)
	}
}
