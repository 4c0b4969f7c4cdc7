package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/dncgate/dncgate/suppression"
	"github.com/dncgate/dncgate/webhook"
)

// TestOptOutTellsTheCRM: an opt-out by hand queues the CRM's event with
// the manager as actor; when it cannot be queued the opt-out is not made.
func TestOptOutTellsTheCRM(t *testing.T) {
	r := newReview(t)
	r.withErasure()
	var got []string
	fail := true
	r.c.o.CRM = func(_ context.Context, typ webhook.Type, addr, actor string) error {
		if fail {
			return errors.New("queue down")
		}
		got = append(got, string(typ)+" "+addr+" "+actor)
		return nil
	}
	form := url.Values{"address": {"Jean.Dupont@Acme.fr"}, "reason": {"asked by phone"}}
	if resp, _ := r.post(managerUser, OptOutsPath, form, true); resp.StatusCode == http.StatusOK {
		t.Fatalf("opt-out with the queue down: %d, want a refusal", resp.StatusCode)
	}
	if out, _ := suppression.NewOptOuts(r.st, r.key).IsOptedOut(context.Background(), "jean.dupont@acme.fr"); out {
		t.Fatal("opted out though the CRM's event was not queued")
	}
	fail = false
	if resp, body := r.post(managerUser, OptOutsPath, form, true); resp.StatusCode != http.StatusOK {
		t.Fatalf("opt-out: %d\n%s", resp.StatusCode, body)
	}
	if len(got) != 1 || got[0] != "opt-out jean.dupont@acme.fr "+managerUser {
		t.Fatalf("CRM events %q", got)
	}
}
