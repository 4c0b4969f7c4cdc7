package bounce

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics, and that whatever it reads
// has a kind and a status or feedback type it could act on, or is
// ErrMalformed. The seeds are the corpus in testdata.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/*.eml", "testdata/malformed/*.eml"} {
		files, _ := filepath.Glob(pattern)
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := Parse(bytes.NewReader(msg))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		switch r.Kind {
		case Hard, Soft, Other:
			if !statusRE.MatchString(r.Status) && !(r.Kind == Other && r.Format == FormatARF && r.FeedbackType != "") {
				t.Fatalf("report %+v without a valid status", r)
			}
		case Complaint:
			if r.FeedbackType == "" {
				t.Fatalf("complaint %+v without a feedback type", r)
			}
		default:
			t.Fatalf("report %+v of no kind", r)
		}
	})
}
