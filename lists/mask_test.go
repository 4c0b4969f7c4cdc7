package lists

import "testing"

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jeanne@acme.fr": "j***@acme.fr",
		"élodie@acme.fr": "é***@acme.fr",
		"\xffx@acme.fr":  "\xff***@acme.fr",
		"@acme.fr":       "***",
		"nobody":         "***",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMask(t *testing.T) {
	for _, c := range []struct {
		kind     Kind
		in, want string
	}{
		{KindEmail, "jeanne@acme.fr", "j***@acme.fr"},
		{KindPhone, "+32471234567", "+32471******"},
		{KindPhone, "+3312", "+33**"},
		{KindPhone, "", ""},
		{KindDomain, "acme.fr", "acme.fr"},
		{KindEmailSHA256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "9f86d081…"},
		{KindEmailMD5, "abc", "abc…"},
	} {
		if got := Mask(c.kind, c.in); got != c.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", c.kind, c.in, got, c.want)
		}
	}
}
