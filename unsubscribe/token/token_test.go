package token

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// Test secrets: fixed so the fuzz seed corpus stays valid.
const (
	secret1 = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	secret2 = "f0e1d2c3b4a5968778695a4b3c2d1e0ff0e1d2c3b4a5968778695a4b3c2d1e0f"
)

var issued = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func mustKey(t testing.TB, id byte, s string) Key {
	t.Helper()
	k, err := ParseKey(id, s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustRing(t testing.TB, current Key, older ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(current, older...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func testRing(t testing.TB) *Keyring { return mustRing(t, mustKey(t, 1, secret1)) }

func TestRoundTrip(t *testing.T) {
	kr := testRing(t)
	cases := []Claims{
		{Recipient: "jane.doe@example.com", Org: "acme", Issued: issued},
		{Recipient: "josé@exämple.de", Org: "", Issued: issued},
		{Recipient: "", Org: "org-with-a-rather-long-identifier-0123456789", Issued: time.Unix(0, 0).UTC()},
		{Recipient: "a@b", Org: "x", Issued: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, want := range cases {
		tok := kr.Seal(want.Recipient, want.Org, want.Issued)
		got, err := kr.Open(tok)
		if err != nil {
			t.Fatalf("Open(Seal(%+v)): %v", want, err)
		}
		if got != want {
			t.Errorf("Open(Seal(%+v)) = %+v", want, got)
		}
	}
}

func TestIssuedKeepsWholeSeconds(t *testing.T) {
	kr := testRing(t)
	now := issued.Add(987 * time.Millisecond).In(time.FixedZone("CET", 3600))
	c, err := kr.Open(kr.Seal("a@example.com", "acme", now))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Issued.Equal(issued) || c.Issued.Location() != time.UTC {
		t.Errorf("Issued = %v, want %v in UTC", c.Issued, issued)
	}
}

func TestTokenIsCompactAndURLSafe(t *testing.T) {
	kr := testRing(t)
	tok := kr.Seal("firstname.lastname@example-company.com", "acme-sales", issued)
	if len(tok) >= 120 {
		t.Errorf("token is %d chars, want < 120: %s", len(tok), tok)
	}
	if strings.ContainsAny(tok, "+/=%") {
		t.Errorf("token %q is not URL-safe unpadded base64", tok)
	}
	if strings.Contains(tok, "firstname") {
		t.Errorf("token %q shows the address", tok)
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	kr := testRing(t)
	a, b := kr.Seal("a@example.com", "acme", issued), kr.Seal("a@example.com", "acme", issued)
	if a == b {
		t.Errorf("two seals of the same claims are identical: %s", a)
	}
}

func TestEveryBitFlipRejected(t *testing.T) {
	kr := testRing(t)
	tok := kr.Seal("jane.doe@example.com", "acme", issued)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := range 8 {
			flipped := append([]byte(nil), raw...)
			flipped[i] ^= 1 << bit
			assertInvalid(t, kr, base64.RawURLEncoding.EncodeToString(flipped))
		}
	}
	// Flips in the text as well, which also hit the unused trailing bits of
	// the last character and characters outside the alphabet.
	for i := range len(tok) {
		for bit := range 8 {
			b := []byte(tok)
			b[i] ^= 1 << bit
			assertInvalid(t, kr, string(b))
		}
	}
}

func TestTruncatedAndExtendedRejected(t *testing.T) {
	kr := testRing(t)
	tok := kr.Seal("jane.doe@example.com", "acme", issued)
	for n := range len(tok) {
		assertInvalid(t, kr, tok[:n])
	}
	for _, extra := range []string{"A", "AA", "AAAA", "=", "==", "\n", " "} {
		assertInvalid(t, kr, tok+extra)
	}
}

func TestGarbageRejected(t *testing.T) {
	kr := testRing(t)
	for _, s := range []string{
		"", "x", "not a token", "%00%01", strings.Repeat("A", 60),
		strings.Repeat("_", 5000), "AQ", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	} {
		assertInvalid(t, kr, s)
	}
}

func TestUnknownKeyID(t *testing.T) {
	old := mustRing(t, mustKey(t, 7, secret2))
	tok := old.Seal("a@example.com", "acme", issued)
	assertInvalid(t, testRing(t), tok)
}

func TestSameIDOtherSecretRejected(t *testing.T) {
	other := mustRing(t, mustKey(t, 1, secret2))
	assertInvalid(t, testRing(t), other.Seal("a@example.com", "acme", issued))
}

func TestRotation(t *testing.T) {
	k1, k2 := mustKey(t, 1, secret1), mustKey(t, 2, secret2)
	before := mustRing(t, k1)
	after := mustRing(t, k2, k1)
	oldTok := before.Seal("a@example.com", "acme", issued)
	c, err := after.Open(oldTok)
	if err != nil || c.Recipient != "a@example.com" {
		t.Fatalf("rotated keyring: Open(old token) = %+v, %v", c, err)
	}
	newTok := after.Seal("b@example.com", "acme", issued)
	raw, _ := base64.RawURLEncoding.DecodeString(newTok)
	if raw[0] != 2 {
		t.Errorf("new token has key id %d, want the current key 2", raw[0])
	}
	assertInvalid(t, before, newTok)
	retired := mustRing(t, k2)
	assertInvalid(t, retired, oldTok)
}

func TestOpenFresh(t *testing.T) {
	kr := testRing(t)
	tok := kr.Seal("a@example.com", "acme", issued)
	const maxAge = 30 * 24 * time.Hour
	if _, err := kr.OpenFresh(tok, issued.Add(maxAge), maxAge); err != nil {
		t.Errorf("at exactly maxAge: %v", err)
	}
	if _, err := kr.OpenFresh(tok, issued.Add(maxAge+time.Second), maxAge); !errors.Is(err, ErrExpired) {
		t.Errorf("past maxAge: err = %v, want ErrExpired", err)
	}
	if _, err := kr.OpenFresh(tok[1:], issued, maxAge); err != ErrInvalid {
		t.Errorf("tampered: err = %v, want ErrInvalid", err)
	}
}

func TestParseKeyEncodings(t *testing.T) {
	want, _ := hex.DecodeString(secret1)
	for name, s := range map[string]string{
		"hex":          secret1,
		"hex upper":    strings.ToUpper(secret1),
		"base64":       base64.StdEncoding.EncodeToString(want),
		"base64 raw":   base64.RawStdEncoding.EncodeToString(want),
		"base64url":    base64.URLEncoding.EncodeToString(want),
		"spaces round": "  " + secret1 + "\n",
	} {
		k, err := ParseKey(3, s)
		if err != nil || string(k.Secret) != string(want) || k.ID != 3 {
			t.Errorf("%s: ParseKey = %x, %v", name, k.Secret, err)
		}
	}
}

func TestParseKeyRejects(t *testing.T) {
	for name, s := range map[string]string{
		"short hex":    secret1[:62],
		"short base64": base64.StdEncoding.EncodeToString(make([]byte, 31)),
		"garbage":      "this is no key at all!",
		"empty":        "",
	} {
		if _, err := ParseKey(4, s); err == nil || !strings.Contains(err.Error(), "key 4") {
			t.Errorf("%s: err = %v, want an error naming key 4", name, err)
		}
	}
}

func TestNewKeyringRejects(t *testing.T) {
	k1 := mustKey(t, 1, secret1)
	if _, err := NewKeyring(k1, mustKey(t, 1, secret2)); err == nil || !strings.Contains(err.Error(), "key id 1") {
		t.Errorf("duplicate id: err = %v", err)
	}
	if _, err := NewKeyring(Key{ID: 9, Secret: make([]byte, 16)}); err == nil || !strings.Contains(err.Error(), "key 9") {
		t.Errorf("short secret: err = %v", err)
	}
}

func assertInvalid(t *testing.T, kr *Keyring, tok string) {
	t.Helper()
	c, err := kr.Open(tok)
	if err != ErrInvalid {
		t.Fatalf("Open(%q) = %+v, %v; want ErrInvalid", tok, c, err)
	}
}

// TestLanguage: a language sealed into a token comes back; tokens sealed
// before there was one (the fuzz seeds) still open, with no language; a
// language that is no tag is left out, never sealed.
func TestLanguage(t *testing.T) {
	kr := mustRing(t, mustKey(t, 1, secret1), mustKey(t, 2, secret2))
	for _, lang := range []string{"fr", "nl", "pt-BR"} {
		want := Claims{Recipient: "jean@acme.be", Org: "acme", Issued: issued, Lang: lang}
		tok := kr.SealClaims(want)
		if got, err := kr.Open(tok); err != nil || got != want {
			t.Errorf("Open(SealClaims(%+v)) = %+v, %v", want, got, err)
		}
		if plain := kr.Seal("jean@acme.be", "acme", issued); len(tok)-len(plain) > (len(lang)+1)*4/3+2 {
			t.Errorf("the language %q makes the token %d characters longer", lang, len(tok)-len(plain))
		}
	}
	for tok, want := range validSeeds {
		if got, err := kr.Open(tok); err != nil || got != want || got.Lang != "" {
			t.Errorf("old token %q = %+v, %v; want %+v", tok, got, err, want)
		}
	}
	for _, bad := range []string{"f\x00r", "fr;", "a-very-long-language-tag", "fr\n"} {
		got, err := kr.Open(kr.SealClaims(Claims{Recipient: "a@b.fr", Org: "acme", Issued: issued, Lang: bad}))
		if err != nil || got.Lang != "" || got.Recipient != "a@b.fr" {
			t.Errorf("language %q: %+v, %v; want it left out", bad, got, err)
		}
	}
	// A payload whose language part is empty or no tag does not open.
	for _, payload := range [][]byte{
		append(marshal(Claims{Recipient: "a@b.fr", Org: "acme", Issued: issued}), langSep),
		append(append(marshal(Claims{Recipient: "a@b.fr", Org: "acme", Issued: issued}), langSep), "f;r"...),
	} {
		if c, ok := unmarshal(payload); ok {
			t.Errorf("unmarshal(%q) = %+v, want a refusal", payload, c)
		}
	}
}
