package token

import (
	"strings"
	"testing"
	"time"
)

func testHandle() Handle {
	var d [DigestLen]byte
	for i := range d {
		d[i] = byte(i*13 + 1)
	}
	return HandleFor("K3QZ7M2A", d, issued)
}

func TestReturnPathRoundTripAnyCase(t *testing.T) {
	kr := testRing(t)
	h := testHandle()
	if h.Day != issued.UTC().Truncate(24*time.Hour) {
		t.Fatalf("HandleFor day %v", h.Day)
	}
	tok := kr.SealReturnPath(h)
	if tok == "" || tok != strings.ToLower(tok) {
		t.Fatalf("SealReturnPath = %q, want a lower-case token", tok)
	}
	for _, spelling := range []string{tok, strings.ToUpper(tok)} {
		got, err := kr.OpenReturnPath(spelling)
		if err != nil || got != h {
			t.Fatalf("OpenReturnPath(%q) = %+v, %v; want %+v", spelling, got, err, h)
		}
	}
	var d [DigestLen]byte
	for i := range d {
		d[i] = byte(i*13 + 1)
	}
	if !h.Matches(d) {
		t.Fatal("the handle does not match its own digest")
	}
	d[PrefixLen-1]++
	if h.Matches(d) {
		t.Fatal("the handle matches another digest")
	}
}

// TestReturnPathFits64: the local part bounces+TOKEN is at most the 64
// octets of RFC 5321 §4.5.3.1.1 for every reference, day and key; the rep
// and the recipient are not in it at all.
func TestReturnPathFits64(t *testing.T) {
	kr := testRing(t)
	refs := []string{"AAAAAAAA", "77777777", "K3QZ7M2A", "ZZZZZZZZ"}
	days := []time.Time{time.Unix(0, 0), issued, time.Date(2149, 6, 1, 23, 59, 59, 0, time.UTC)}
	for _, ref := range refs {
		for _, day := range days {
			h := testHandle()
			h.Ref, h.Day = ref, day.Truncate(24*time.Hour)
			tok := kr.SealReturnPath(h)
			if local := "bounces+" + tok; tok == "" || len(tok) != ReturnPathLen || len(local) > 64 {
				t.Fatalf("ref %s day %v: token %q, local part %d octets", ref, day, tok, len(local))
			}
		}
	}
	if ReturnPathLen != 39 {
		t.Fatalf("ReturnPathLen = %d; the README says 39", ReturnPathLen)
	}
}

func TestReturnPathForgedTruncatedForeignRejected(t *testing.T) {
	kr := testRing(t)
	tok := kr.SealReturnPath(testHandle())
	for i := range tok {
		b := []byte(tok)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		if _, err := kr.OpenReturnPath(string(b)); err != ErrInvalid {
			t.Fatalf("character %d changed: %v, want ErrInvalid", i, err)
		}
	}
	other := mustRing(t, mustKey(t, 1, secret2))
	if _, err := other.OpenReturnPath(tok); err != ErrInvalid {
		t.Fatalf("another key with the same id opened the token: %v", err)
	}
	unknownID := mustRing(t, mustKey(t, 9, secret2))
	if _, err := unknownID.OpenReturnPath(tok); err != ErrInvalid {
		t.Fatalf("a keyring without the token's key id opened it: %v", err)
	}
	for _, bad := range []string{"", "abc", tok[:len(tok)-1], tok + "a", tok[1:] + "a", strings.Repeat("a", ReturnPathLen), strings.Repeat("a", 2000)} {
		if _, err := kr.OpenReturnPath(bad); err != ErrInvalid {
			t.Fatalf("OpenReturnPath(%.20q…) = %v, want ErrInvalid", bad, err)
		}
	}
	// Neither older bounce tokens nor unsubscribe tokens open as one.
	if _, err := kr.OpenReturnPath(kr.sealBounce(bounceClaims())); err != ErrInvalid {
		t.Fatalf("an older bounce token opened as a return-path token: %v", err)
	}
	if _, err := kr.OpenBounce(tok); err != ErrInvalid {
		t.Fatalf("a return-path token opened as an older bounce token: %v", err)
	}
}

func TestReturnPathOlderKeyStillOpens(t *testing.T) {
	old := mustKey(t, 1, secret1)
	tok := mustRing(t, old).SealReturnPath(testHandle())
	rotated := mustRing(t, mustKey(t, 2, secret2), old)
	if h, err := rotated.OpenReturnPath(tok); err != nil || h != testHandle() {
		t.Fatalf("after rotation: %+v, %v", h, err)
	}
	if tok2 := rotated.SealReturnPath(testHandle()); tok2 == tok {
		t.Fatal("the rotated keyring sealed with the old key")
	}
}

func TestSealReturnPathRefusesBadHandles(t *testing.T) {
	kr := testRing(t)
	for _, h := range []Handle{
		{Ref: "short", Day: issued},
		{Ref: "k3qz7m2a", Day: issued},
		{Ref: "K3QZ7M2A", Day: time.Unix(-86400, 0)},
		{Ref: "K3QZ7M2A", Day: time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if tok := kr.SealReturnPath(h); tok != "" {
			t.Fatalf("SealReturnPath(%+v) = %q, want \"\"", h, tok)
		}
	}
}

// FuzzOpenReturnPath checks that OpenReturnPath never panics, answers
// only ErrInvalid, and accepts a token only in the spelling (up to case)
// that sealing its handle gives back.
func FuzzOpenReturnPath(f *testing.F) {
	kr := testRing(f)
	tok := kr.SealReturnPath(testHandle())
	f.Add(tok)
	f.Add(strings.ToUpper(tok))
	f.Add(tok[:len(tok)-1] + "b")
	f.Add(kr.sealBounce(bounceClaims()))
	f.Fuzz(func(t *testing.T, s string) {
		h, err := kr.OpenReturnPath(s)
		if err != nil {
			if err != ErrInvalid {
				t.Fatalf("OpenReturnPath(%q) error %v, want ErrInvalid", s, err)
			}
			return
		}
		if again := kr.SealReturnPath(h); again != strings.ToLower(s) {
			t.Fatalf("OpenReturnPath accepted %q, which seals back as %q", s, again)
		}
	})
}
