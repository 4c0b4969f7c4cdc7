package token

import (
	"strings"
	"testing"
)

func bounceClaims() BounceClaims {
	c := BounceClaims{Rep: "alice", Ref: "K3QZ7M2A", Issued: issued}
	for i := range c.Digest {
		c.Digest[i] = byte(i * 7)
	}
	return c
}

func TestBounceRoundTripAnyCase(t *testing.T) {
	kr := testRing(t)
	c := bounceClaims()
	tok := kr.sealBounce(c)
	if tok == "" || tok != strings.ToLower(tok) {
		t.Fatalf("sealBounce = %q, want a lower-case token", tok)
	}
	for _, spelling := range []string{tok, strings.ToUpper(tok)} {
		got, err := kr.OpenBounce(spelling)
		if err != nil || got != c {
			t.Fatalf("OpenBounce(%q) = %+v, %v; want %+v", spelling, got, err, c)
		}
	}
}

func TestBounceAndUnsubscribeTokensDoNotCross(t *testing.T) {
	kr := testRing(t)
	unsub := kr.Seal("jane.doe@example.com", "acme", issued)
	if _, err := kr.OpenBounce(unsub); err != ErrInvalid {
		t.Fatalf("an unsubscribe token opened as a bounce token: %v", err)
	}
	if _, err := kr.Open(kr.sealBounce(bounceClaims())); err != ErrInvalid {
		t.Fatalf("a bounce token opened as an unsubscribe token: %v", err)
	}
}

func TestBounceTamperedAndForeignRejected(t *testing.T) {
	kr := testRing(t)
	tok := kr.sealBounce(bounceClaims())
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if _, err := kr.OpenBounce(string(b)); err != ErrInvalid {
			t.Fatalf("character %d changed: %v, want ErrInvalid", i, err)
		}
	}
	other := mustRing(t, mustKey(t, 1, secret2))
	if _, err := other.OpenBounce(tok); err != ErrInvalid {
		t.Fatalf("another key opened the token: %v", err)
	}
	for _, bad := range []string{"", "abc", tok[:len(tok)-1], tok + "a", strings.Repeat("a", 2000)} {
		if _, err := kr.OpenBounce(bad); err != ErrInvalid {
			t.Fatalf("OpenBounce(%.20q…) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestSealBounceRefusesBadClaims(t *testing.T) {
	kr := testRing(t)
	for _, c := range []BounceClaims{
		{Rep: "alice", Ref: "short", Issued: issued},
		{Rep: "", Ref: "K3QZ7M2A", Issued: issued},
		{Rep: strings.Repeat("r", 256), Ref: "K3QZ7M2A", Issued: issued},
	} {
		if tok := kr.sealBounce(c); tok != "" {
			t.Fatalf("sealBounce(%+v) = %q, want \"\"", c, tok)
		}
	}
}
