package suppression

import (
	"testing"

	"github.com/dncgate/dncgate/smtpreply"
)

// TestVerdictReasons: every code a verdict carries is one of the closed
// set of reasons once a list's name is taken off.
func TestVerdictReasons(t *testing.T) {
	tests := []struct {
		code string
		want smtpreply.Reason
	}{
		{CodeAllowed, smtpreply.Allowed},
		{CodeOptOut, smtpreply.OptOut},
		{CodeAddress, smtpreply.Address},
		{CodeConsentRequired, smtpreply.ConsentRequired},
		{CodePolicyRefused, smtpreply.PolicyRefused},
		{codeListPrefix + "be-dncm", smtpreply.List},
		{codeStalePrefix + "fr-bloctel", smtpreply.StaleList},
	}
	for _, tt := range tests {
		got := Verdict{Code: tt.code}.Reason()
		if got != tt.want || !got.Known() {
			t.Errorf("Reason(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
	if ListOf(codeListPrefix+"be-dncm") != "be-dncm" || ListOf(codeStalePrefix+"x") != "x" {
		t.Error("ListOf lost the list's name")
	}
}
