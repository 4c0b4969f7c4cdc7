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

func TestMaskEmails(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no address here", "no address here"},
		{"<jean@acme.be>: on the be-dncm list", "<j***@acme.be>: on the be-dncm list"},
		{"Refused for <a@x>, <bob@y.fr>: 550 5.1.1 bob@y.fr unknown", "Refused for <a***@x>, <b***@y.fr>: 550 5.1.1 b***@y.fr unknown"},
		{"a lone @ sign, and x@ and @y", "a lone @ sign, and x@ and @y"},
		{`<"john doe"@acme.fr>`, `<"***@acme.fr>`},
	}
	for _, tt := range tests {
		if got := MaskEmails(tt.in); got != tt.want {
			t.Errorf("MaskEmails(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
