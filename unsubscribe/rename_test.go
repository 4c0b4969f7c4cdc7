package unsubscribe_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/unsubscribe"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

// serve builds the endpoint as the gateway does, from the key file and
// the configured organisation (the host name).
func serve(t *testing.T, p storePair, path, hostname string, tune func(*unsubscribe.Options)) (*httptest.Server, unsubscribe.Keys) {
	t.Helper()
	keys, err := unsubscribe.LoadKeys(path, true, hostname)
	if err != nil {
		t.Fatal(err)
	}
	o := unsubscribe.Options{Keyring: keys.Ring, Org: keys.Org, EarlierOrgs: keys.Earlier, Company: "ACME Corp",
		OptOuts: listOptOuts{p.writer}, RatePerMinute: 1000}
	if tune != nil {
		tune(&o)
	}
	h, err := unsubscribe.NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, keys
}

// TestLinksOutliveRename: the organisation is fixed in the key file when
// it is made, so a link sent before server.hostname changed still opts
// out after, on every store.
func TestLinksOutliveRename(t *testing.T) {
	for _, p := range stores(t) {
		t.Run(p.name, func(t *testing.T) {
			p = withOptOutList(t, p)
			path := filepath.Join(t.TempDir(), "unsubscribe.keys")
			before, keys := serve(t, p, path, "gw-old.acme.example", nil)
			if keys.Org != "gw-old.acme.example" || !keys.Pinned {
				t.Fatalf("new key file: %+v, want the org pinned", keys)
			}
			sent := keys.Ring.SealClaims(token.Claims{Recipient: "jean@acme.fr", Org: keys.Org, Issued: time.Now(), Lang: "fr"})
			before.Close()

			after, keys := serve(t, p, path, "gw-new.acme.example", nil)
			if keys.Org != "gw-old.acme.example" {
				t.Errorf("after the rename tokens are sealed to %q, want the file's gw-old.acme.example", keys.Org)
			}
			r := do(t, http.MethodPost, after.URL+unsubscribe.PathPrefix+sent, "application/x-www-form-urlencoded",
				strings.NewReader("List-Unsubscribe=One-Click"))
			r.want(t, http.StatusOK, `id="done"`, `<html lang="fr">`)
			if !optedOut(t, p.other, "jean@acme.fr") {
				t.Error("the link sent before the rename did not opt out")
			}
		})
	}
}

// TestEarlierOrgs: the first org line seals, later ones are still
// accepted; a file written before it named an organisation takes the
// configured one, unpinned.
func TestEarlierOrgs(t *testing.T) {
	p := withOptOutList(t, embeddedPair(t))
	dir := t.TempDir()
	path := filepath.Join(dir, "unsubscribe.keys")
	os.WriteFile(path, []byte("org acme-2027\norg acme-2026\n1 "+strings.Repeat("ab", 32)+"\n"), 0o600)
	srv, keys := serve(t, p, path, "ignored.example", nil)
	if keys.Org != "acme-2027" || len(keys.Earlier) != 1 || keys.Earlier[0] != "acme-2026" {
		t.Fatalf("keys %+v", keys)
	}
	for org, want := range map[string]int{"acme-2026": http.StatusOK, "acme-2027": http.StatusOK, "globex": http.StatusBadRequest} {
		tok := keys.Ring.Seal("a-"+org+"@acme.fr", org, time.Now())
		if r := do(t, http.MethodGet, srv.URL+unsubscribe.PathPrefix+tok, "", nil); r.code != want {
			t.Errorf("token of %s: %d, want %d", org, r.code, want)
		}
	}

	legacy := filepath.Join(dir, "legacy.keys")
	os.WriteFile(legacy, []byte("1 "+strings.Repeat("cd", 32)+"\n"), 0o600)
	if k, err := unsubscribe.LoadKeys(legacy, true, "gw.acme.example"); err != nil || k.Org != "gw.acme.example" || k.Pinned {
		t.Errorf("legacy file: %+v, %v; want the configured org, unpinned", k, err)
	}
	os.WriteFile(legacy, []byte("org \n1 "+strings.Repeat("cd", 32)+"\n"), 0o600)
	if _, err := unsubscribe.LoadKeys(legacy, false, "x"); err == nil || !strings.Contains(err.Error(), "legacy.keys:1:") {
		t.Errorf("an empty org line: %v, want an error naming the line", err)
	}
}

// TestInvalidLinkPage names the other ways to opt out: a reply, the
// mailto address of the message and the privacy contact.
func TestInvalidLinkPage(t *testing.T) {
	p := embeddedPair(t)
	srv, _ := serve(t, p, filepath.Join(t.TempDir(), "k"), "gw.acme.example", func(o *unsubscribe.Options) {
		o.Contact, o.MailtoDomain = "dpo@acme.example", "unsub.acme.example"
	})
	r := doLang(t, srv.URL+unsubscribe.PathPrefix+"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "fr-BE,fr;q=0.9,nl;q=0.5")
	r.want(t, http.StatusBadRequest, `<html lang="fr">`, "Ce lien est inutilisable", "unsubscribe+…@unsub.acme.example", "dpo@acme.example")
	r = doLang(t, srv.URL+unsubscribe.PathPrefix+"nope", "")
	r.want(t, http.StatusBadRequest, `<html lang="en">`, "This link cannot be used", "unsub.acme.example", "dpo@acme.example")
}
