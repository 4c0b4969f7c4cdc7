package listmodel

import "testing"

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Model
		ok   bool
	}{
		{"deny", Deny, true},
		{"clearance", Clearance, true},
		{"Deny", "", false},
		{"", "", false},
		{OptOut, "", false},
	} {
		got, err := Parse(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	if _, err := Parse("allow"); err == nil || err.Error() != `model "allow": want deny or clearance` {
		t.Errorf("Parse(allow) error = %v", err)
	}
}
