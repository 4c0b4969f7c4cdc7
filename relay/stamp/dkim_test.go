package stamp

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimRecord is the TXT record publishing signer's public key (RFC 6376
// §3.6.1, RFC 8463 §4.2).
func dkimRecord(t *testing.T, signer crypto.Signer) string {
	t.Helper()
	switch pub := signer.Public().(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	t.Fatalf("no record for %T", signer.Public())
	return ""
}

// The signature verifies against the published key and covers both
// List-Unsubscribe fields.
func TestDKIMSignatureVerifies(t *testing.T) {
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]crypto.Signer{"ed25519": edKey, "rsa": rsaKey} {
		d := &DKIM{Domain: "acme.example", Selector: "s1", Signer: key}
		s := newStamper(t, func(o *Options) { o.DKIM = d })
		out := stampFor(t, s, altMsg, "jean@acme.fr", "")
		lookup := func(domain string) ([]string, error) {
			if domain != "s1._domainkey.acme.example" {
				t.Errorf("%s: looked up %s", name, domain)
			}
			return []string{dkimRecord(t, key)}, nil
		}
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(out), &dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Fatalf("%s: verification %v, %+v", name, err, vs)
		}
		for _, h := range []string{"list-unsubscribe", "list-unsubscribe-post", "from", "message-id"} {
			if !slices.ContainsFunc(vs[0].HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
				t.Errorf("%s: signature does not cover %s: %v", name, h, vs[0].HeaderKeys)
			}
		}
		// Changing the unsubscribe link breaks the signature.
		forged := bytes.Replace(out, []byte("https://u.acme.example/u/"), []byte("https://u.acme.example/x/"), 1)
		vs, _ = dkim.VerifyWithOptions(bytes.NewReader(forged), &dkim.VerifyOptions{LookupTXT: lookup})
		if len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("%s: a changed List-Unsubscribe still verifies", name)
		}
	}
}
