package config

import "testing"

func TestParseShare(t *testing.T) {
	good := map[string]Share{"20%": {0.2, true}, " 12.5 % ": {0.125, true}, "0.2": {0.2, true}, "0": {0, true},
		"100%": {1, true}, "1": {1, true}, "": {}}
	for in, want := range good {
		if got, err := ParseShare(in); err != nil || got != want {
			t.Errorf("ParseShare(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"101%", "-1%", "1.5", "a fifth", "NaN", "20%%"} {
		if got, err := ParseShare(in); err == nil {
			t.Errorf("ParseShare(%q) = %+v, want an error", in, got)
		}
	}
	if s := (Share{0.2, true}).String(); s != "20%" {
		t.Errorf("Share 0.2 writes %q, want 20%%", s)
	}
}
