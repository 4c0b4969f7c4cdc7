package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) (Report, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f)
}

// TestCorpus reads each saved bounce and complaint. The providers' shapes
// hold decoys in the returned copy (a status code, a known phrase) that
// must not be read.
func TestCorpus(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Report
	}{
		{"dsn-standard.eml", Report{Kind: Hard, Format: FormatDSN, Status: "5.1.1", Recipients: []string{"jane.doe@example.net", "jane.doe@example.net"}}},
		{"dsn-soft-expired.eml", Report{Kind: Soft, Format: FormatDSN, Status: "4.4.7", Recipients: []string{"bob@example.org"}}},
		{"dsn-mailbox-full.eml", Report{Kind: Soft, Format: FormatDSN, Status: "5.2.2", Recipients: []string{"kurt@example.de"}}},
		{"dsn-delayed.eml", Report{Kind: Other, Format: FormatDSN, Status: "4.4.1", Recipients: []string{"carol@example.com"}}},
		{"dsn-policy.eml", Report{Kind: Other, Format: FormatDSN, Status: "5.7.1", Recipients: []string{"dave@example.com"}}},
		{"gmail.eml", Report{Kind: Hard, Format: FormatDSN, Status: "5.1.1", Recipients: []string{"someone.name@gmail.com"}}},
		{"outlook.eml", Report{Kind: Hard, Format: FormatDSN, Status: "5.1.10", Recipients: []string{"pat@contoso.example", "pat@contoso.example"}}},
		{"yahoo.eml", Report{Kind: Hard, Format: FormatText, Status: "5.1.1"}},
		{"qmail.eml", Report{Kind: Hard, Format: FormatText, Status: "5.1.1"}},
		{"exim.eml", Report{Kind: Hard, Format: FormatText, Status: "5.2.1"}},
		{"arf-abuse.eml", Report{Kind: Complaint, Format: FormatARF, FeedbackType: "abuse", Recipients: []string{"prospect@example.org"}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, err := parseFile(t, tc.file)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestMalformedIgnored(t *testing.T) {
	files, err := filepath.Glob("testdata/malformed/*.eml")
	if err != nil || len(files) < 6 {
		t.Fatalf("malformed corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimPrefix(f, "testdata/")
		t.Run(name, func(t *testing.T) {
			got, err := parseFile(t, name)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", got, err)
			}
		})
	}
}

func TestGarbageIsMalformed(t *testing.T) {
	for _, in := range []string{"", "\x00\x01\x02", "Content-Type: multipart/report; boundary=\"\"\n\n--\n"} {
		if _, err := Parse(strings.NewReader(in)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Parse(%q) = %v, want ErrMalformed", in, err)
		}
	}
}

// A class-only status takes the specific code of the server's reply in
// the Diagnostic-Code, of the same class only.
func TestClassOnlyStatusRefined(t *testing.T) {
	const tmpl = "Content-Type: multipart/report; report-type=delivery-status; boundary=b\n\n" +
		"--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; x\n\n" +
		"Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; %s\n--b--\n"
	for diag, want := range map[string]Report{
		"550 5.1.1 no such user": {Kind: Hard, Format: FormatDSN, Status: "5.1.1"},
		"450 4.2.0 try later":    {Kind: Other, Format: FormatDSN, Status: "5.0.0"},
		"550 rejected":           {Kind: Other, Format: FormatDSN, Status: "5.0.0"},
	} {
		got, err := Parse(strings.NewReader(strings.Replace(tmpl, "%s", diag, 1)))
		want.Recipients = []string{"a@b.example"}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("diagnostic %q: %+v, %v; want %+v", diag, got, err, want)
		}
	}
}

func TestClassify(t *testing.T) {
	for status, want := range map[string]Kind{
		"5.1.1": Hard, "5.1.2": Hard, "5.1.10": Hard, "5.2.1": Hard, "5.1.6": Hard,
		"5.2.2": Soft, "4.2.2": Soft, "4.4.7": Soft, "4.7.0": Soft,
		"5.7.1": Other, "5.3.4": Other, "5.0.0": Other, "2.0.0": Other,
	} {
		if got := Classify(status); got != want {
			t.Errorf("Classify(%s) = %s, want %s", status, got, want)
		}
	}
}
