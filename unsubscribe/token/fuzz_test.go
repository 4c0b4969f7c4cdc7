package token

import (
	"testing"
)

// validSeeds were sealed once with secret1 (id 1) and secret2 (id 2); they
// are the only inputs the fuzz keyring may ever accept, since forging
// another would mean breaking AES-GCM.
var validSeeds = map[string]Claims{
	"AQUcBu02vRumuBScYNmcgY1wWNsLxFC66zV5LTDeBgtZOPbt1XNd_h27xZpNu6f0Z-MOLgO7_Mc9ZrY": {
		Recipient: "jane.doe@example.com", Org: "acme", Issued: issued,
	},
	"AhP5apHulNPkfL4r2ERWVINdy4zDXlsLfjiEPRGDnD5L0YTT5wNHuiX-03tDk8w5E6u3w7IXLKiLzA": {
		Recipient: "jan@voorbeeld.nl", Org: "acme-nl", Issued: issued,
	},
}

// FuzzOpen checks that Open never panics and accepts nothing but the
// sealed seeds. The committed corpus is in testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	kr := mustRing(f, mustKey(f, 1, secret1), mustKey(f, 2, secret2))
	for tok := range validSeeds {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := kr.Open(tok)
		want, known := validSeeds[tok]
		switch {
		case err == nil && !known:
			t.Fatalf("Open accepted a token it never sealed: %q → %+v", tok, c)
		case err == nil && c != want:
			t.Fatalf("Open(%q) = %+v, want %+v", tok, c, want)
		case err != nil && err != ErrInvalid:
			t.Fatalf("Open(%q) error %v, want ErrInvalid", tok, err)
		case err != nil && known:
			t.Fatalf("Open rejected a sealed seed %q: %v", tok, err)
		}
	})
}

func BenchmarkSeal(b *testing.B) {
	kr := testRing(b)
	var n int
	for b.Loop() {
		n = len(kr.Seal("firstname.lastname@example-company.com", "acme-sales", issued))
	}
	b.ReportMetric(float64(n), "chars/token")
}

func BenchmarkOpen(b *testing.B) {
	kr := testRing(b)
	tok := kr.Seal("firstname.lastname@example-company.com", "acme-sales", issued)
	for b.Loop() {
		if _, err := kr.Open(tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenGarbage(b *testing.B) {
	kr := testRing(b)
	tok := kr.Seal("firstname.lastname@example-company.com", "acme-sales", issued)
	bad := tok[:len(tok)-2] + "AA"
	for b.Loop() {
		if _, err := kr.Open(bad); err == nil {
			b.Fatal("accepted a tampered token")
		}
	}
}
