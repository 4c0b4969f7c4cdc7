package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestParseKind(t *testing.T) {
	for k, name := range kindNames {
		got, err := ParseKind(" " + strings.ToUpper(name) + " ")
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %v, %v; want %v", name, got, err, k)
		}
		text, err := k.MarshalText()
		var back Kind
		if err != nil || back.UnmarshalText(text) != nil || back != k {
			t.Errorf("%v does not round-trip through text: %q, %v", k, text, err)
		}
	}
	if _, err := ParseKind("sha256"); err == nil || !strings.Contains(err.Error(), `"sha256"`) {
		t.Errorf("ParseKind(sha256) error = %v; want one naming the value", err)
	}
	if _, err := Kind(0).MarshalText(); err == nil {
		t.Error("the zero Kind marshals")
	}
}

func TestNormaliserByKind(t *testing.T) {
	sha := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	tests := []struct {
		kind          Kind
		region, in    string
		want, wantErr string
	}{
		{KindEmail, "", "Jean+x@ACME.fr", "jean@acme.fr", ""},
		{KindDomain, "", "Sales.ACME.fr", "sales.acme.fr", ""},
		{KindPhone, "BE", "0470 12 34 56", "+32470123456", ""},
		{KindEmailSHA256, "", strings.ToUpper(sha), sha, ""},
		{KindEmailSHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709", "da39a3ee5e6b4b0d3255bfef95601890afd80709", ""},
		{KindEmailMD5, "", " D41D8CD98F00B204E9800998ECF8427E ", "d41d8cd98f00b204e9800998ecf8427e", ""},
		{KindEmailMD5, "", sha, "", "invalid email-md5: 64 characters; want 32 hex digits"},
		{KindEmailSHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd8070g", "", "invalid email-sha1: character 40 is not a hex digit"},
		{KindPhone, "FR", "12", "", "invalid phone: too short for FR (+33)"},
	}
	for _, tt := range tests {
		n, err := NewNormaliser(tt.kind, tt.region)
		if err != nil {
			t.Fatalf("NewNormaliser(%v, %q): %v", tt.kind, tt.region, err)
		}
		got, err := n.Normalise(tt.in)
		if tt.wantErr != "" {
			var ve *ValueError
			if !errors.As(err, &ve) || err.Error() != tt.wantErr {
				t.Errorf("%v %q: error %v; want %q", tt.kind, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v %q = %q, %v; want %q", tt.kind, tt.in, got, err, tt.want)
		}
	}
	if _, err := NewNormaliser(KindPhone, "ZZZ"); err == nil {
		t.Error("a phone normaliser for region ZZZ was made")
	}
}

func TestHashEmail(t *testing.T) {
	// Digests of "jean@acme.fr" (from sha256sum, sha1sum, md5sum), the
	// key of every spelling below.
	want := map[Kind]string{
		KindEmailSHA256: "56a6918268e575560a9d8168baec586e75d7bf80875c1e903ac20c552ad9a834",
		KindEmailSHA1:   "ea84e08e30df20c22a6e1b03f0817402a03db083",
		KindEmailMD5:    "3c7e18ce0c6ab10f6d2f8377c4859ce1",
	}
	for k, digest := range want {
		for _, addr := range []string{"jean@acme.fr", " Jean+news@ACME.FR "} {
			if h, err := HashEmail(k, addr); err != nil || h != digest {
				t.Errorf("HashEmail(%v, %q) = %q, %v; want %q", k, addr, h, err, digest)
			}
		}
		if h, err := HashNormalised(k, "jean@acme.fr"); err != nil || h != digest {
			t.Errorf("HashNormalised(%v) = %q, %v; want %q", k, h, err, digest)
		}
		if _, err := NormaliseHash(k, digest); err != nil {
			t.Errorf("%v: digest %q is not a valid entry: %v", k, digest, err)
		}
	}
	if _, err := HashEmail(KindEmailSHA256, "not an address"); err == nil {
		t.Error("HashEmail accepted an invalid address")
	}
	if _, err := HashEmail(KindPhone, "jean@acme.fr"); err == nil {
		t.Error("HashEmail accepted a kind that holds no digests")
	}
}
