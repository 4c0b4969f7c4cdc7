package stamp

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/footer"
	"github.com/dncgate/dncgate/relay/rewrite"
	"github.com/dncgate/dncgate/unsubscribe/token"
)

const (
	testBase   = "https://u.acme.example"
	testMailto = "acme.example"
	testOrg    = "acme"
)

var (
	testNow    = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	testKey    = bytes.Repeat([]byte{7}, 32)
	testSecret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
)

func testKeyring(t testing.TB) *token.Keyring {
	t.Helper()
	k, err := token.ParseKey(1, testSecret)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := token.NewKeyring(k)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func testOptions(t testing.TB) Options {
	t.Helper()
	tpl, err := footer.New(nil, "en")
	if err != nil {
		t.Fatal(err)
	}
	return Options{
		Templates: tpl,
		Details: footer.Vars{
			Company: footer.NewText("Acme SAS"), PostalAddress: footer.NewText("1 rue X, Paris"),
			PrivacyURL: footer.NewText("https://acme.example/privacy"), Source: footer.NewText("websites"),
			Purpose: footer.NewText("offers"), LegalBasis: footer.NewText("legitimate interest"),
		},
		Keyring: testKeyring(t), Org: testOrg, BaseURL: testBase, MailtoDomain: testMailto,
		Key: testKey, Now: func() time.Time { return testNow },
	}
}

func newStamper(t testing.TB, edit ...func(*Options)) *Stamper {
	t.Helper()
	o := testOptions(t)
	for _, e := range edit {
		e(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// stampFor prepares msg and returns rcpt's copy.
func stampFor(t *testing.T, s *Stamper, msg, rcpt string, cc country.Code) []byte {
	t.Helper()
	p, err := s.Prepare([]byte(msg), "rep@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	return forRcpt(t, p, rcpt, cc)
}

func forRcpt(t *testing.T, p *Prepared, rcpt string, cc country.Code) []byte {
	t.Helper()
	out, err := p.For(rcpt, cc, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readMsg(t *testing.T, b []byte) *mail.Message {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("output is not a message: %v\n%s", err, b)
	}
	return m
}

// bodies returns every text part of a message, decoded, by media type.
func bodies(t *testing.T, b []byte) map[string]string {
	t.Helper()
	m := readMsg(t, b)
	out := map[string]string{}
	collect(t, m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Body, out)
	return out
}

func collect(t *testing.T, ctype, cte string, r io.Reader, out map[string]string) {
	t.Helper()
	media, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		media = "text/plain"
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			collect(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, out)
		}
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	out[media] += string(b)
}

var listUnsub = regexp.MustCompile(`^<(https://u\.acme\.example/u/([A-Za-z0-9_-]+))>, <mailto:unsubscribe\+([A-Za-z0-9_-]+)@acme\.example>$`)

// unsubURL checks List-Unsubscribe and List-Unsubscribe-Post and returns
// the URL and token, both URIs naming the same token.
func unsubURL(t *testing.T, m *mail.Message) (url, tok string) {
	t.Helper()
	if n := len(m.Header["List-Unsubscribe"]); n != 1 {
		t.Fatalf("%d List-Unsubscribe fields, want 1", n)
	}
	g := listUnsub.FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if g == nil || g[2] != g[3] {
		t.Fatalf("List-Unsubscribe = %q", m.Header.Get("List-Unsubscribe"))
	}
	if got := m.Header["List-Unsubscribe-Post"]; len(got) != 1 || got[0] != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	return g[1], g[2]
}

const plainMsg = "From: Sam Rep <rep@acme.example>\r\nTo: <jean@acme.fr>\r\nSubject: hello\r\n" +
	"Date: Sun, 29 Nov 2026 12:00:00 +0000\r\nMessage-ID: <m1@acme.example>\r\n" +
	"List-Unsubscribe: <mailto:client-own@acme.example>\r\n\r\nBonjour Jean,\r\n"

const altMsg = "From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: alt\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n\r\n" +
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\r\n" +
	"--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello</p></body></html>\r\n" +
	"--b1--\r\n"

// pgpSignature is a real detached OpenPGP signature (of another text: only
// its form is checked), armoured.
const pgpSignature = "-----BEGIN PGP SIGNATURE-----\r\n" +
	"\r\n" +
	"iHUEABYIAB0WIQRS/C2twjmmp2zGjgTa19cYzZJ0DAUCaxFuRwAKCRDa19cYzZJ0\r\n" +
	"DN+pAQDeI/+0xMm1W/x17/bhtR7/g+8TreqfwJi7E2rq+4bW6AD/dsFmv8n8kxDk\r\n" +
	"+cfVs8TNJSDD4FJpGHSXQkiXm0MUxwI=\r\n" +
	"=m5sw\r\n" +
	"-----END PGP SIGNATURE-----"

const signedMsg = "From: rep@acme.example\r\nTo: jean@acme.fr\r\nSubject: signed\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; micalg=pgp-sha256; boundary=\"s1\"\r\n\r\n" +
	"--s1\r\nContent-Type: text/plain\r\n\r\nSigned text\r\n" +
	"--s1\r\nContent-Type: application/pgp-signature\r\n\r\n" + pgpSignature + "\r\n" +
	"--s1--\r\n"

// markerCount counts the marker fields of a copy.
func markerCount(t *testing.T, b []byte) int {
	return len(readMsg(t, b).Header[textproto.CanonicalMIMEHeaderKey(rewrite.MarkerHeader)])
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
