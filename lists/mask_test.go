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
