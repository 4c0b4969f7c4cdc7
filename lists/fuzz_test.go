package lists

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

func FuzzNormaliseEmail(f *testing.F) {
	f.Add("Jean.Dupont+news@GoogleMail.com")
	f.Fuzz(func(t *testing.T, s string) {
		key, err := NormaliseEmail(s)
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Fatalf("NormaliseEmail(%q): error %v is no ValueError with a reason", s, err)
			}
			return
		}
		again, err := NormaliseEmail(key)
		if err != nil || again != key {
			t.Fatalf("NormaliseEmail(%q) = %q, but that normalises to %q, %v", s, key, again, err)
		}
		if _, err := HashEmail(KindEmailSHA256, s); err != nil {
			t.Fatalf("HashEmail(%q): %v", s, err)
		}
	})
}

// fuzzRegions are the list countries phone fuzzing picks from.
var fuzzRegions = []string{"", "FR", "BE", "GB", "DE", "ES", "IT", "NL", "US", "CH"}

func FuzzNormalisePhone(f *testing.F) {
	f.Add("06 12 34 56 78", uint8(1))
	normalisers := make([]*PhoneNormaliser, len(fuzzRegions))
	for i, region := range fuzzRegions {
		p, err := NewPhoneNormaliser(region)
		if err != nil {
			f.Fatal(err)
		}
		normalisers[i] = p
	}
	f.Fuzz(func(t *testing.T, s string, r uint8) {
		region := fuzzRegions[int(r)%len(fuzzRegions)]
		p := normalisers[int(r)%len(fuzzRegions)]
		got, err := p.Normalise(s)
		ref, refErr := NormalisePhone(s, region)
		if got != ref || (err == nil) != (refErr == nil) || (err != nil && err.Error() != refErr.Error()) {
			t.Fatalf("%s %q: fast path %q, %v; libphonenumber %q, %v", region, s, got, err, ref, refErr)
		}
		if err != nil {
			return
		}
		if again, err := p.Normalise(got); err != nil || again != got {
			t.Fatalf("%s %q = %q, but that normalises to %q, %v", region, s, got, again, err)
		}
	})
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("email;name\na@b.fr;\"x;y\"\n"), true, uint8(0))
	tmp := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, header bool, d uint8) {
		o := ReadOptions{Header: header, MaxLineLength: 256, TempDir: tmp}
		if int(d) < len(delimiterCandidates) {
			o.Delimiter = rune(delimiterCandidates[d])
		}
		rd, err := NewReader(bytes.NewReader(data), o)
		if err != nil {
			return
		}
		defer rd.Close()
		last := 0
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.Line < 1 {
					t.Fatalf("error %v names no line", err)
				}
				return
			}
			if row.Line <= last || len(row.Fields) == 0 {
				t.Fatalf("row %q on line %d after line %d", row.Fields, row.Line, last)
			}
			last = row.Line
			for _, field := range row.Fields {
				if !utf8.ValidString(field) {
					t.Fatalf("line %d: field %q is not UTF-8", row.Line, field)
				}
			}
		}
	})
}
