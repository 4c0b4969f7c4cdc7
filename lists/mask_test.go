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
