package lang

import "testing"

func TestNormAndValid(t *testing.T) {
	for _, tt := range []struct {
		in, norm string
		valid    bool
	}{
		{"en", "en", true},
		{" FR_be ", "fr-be", true},
		{"pt-BR", "pt-br", true},
		{"e", "e", false},
		{"english", "english", false},
		{"fr--be", "fr--be", false},
		{"", "", false},
	} {
		n := Norm(tt.in)
		if n != tt.norm || Valid(n) != tt.valid {
			t.Errorf("Norm(%q) = %q, Valid %v; want %q, %v", tt.in, n, Valid(n), tt.norm, tt.valid)
		}
	}
	if !Valid(Default) {
		t.Errorf("Default %q is not a valid tag", Default)
	}
}
