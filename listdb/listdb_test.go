package listdb_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/listdb"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"be-dncm", "opt_out", "fr.bloctel", "A1", strings.Repeat("a", 64)} {
		if err := listdb.CheckName(ok); err != nil {
			t.Errorf("CheckName(%q) = %v, want nil", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a{b}", "a:b", "é", "a\n", strings.Repeat("a", 65)} {
		if err := listdb.CheckName(bad); err == nil {
			t.Errorf("CheckName(%q) accepted it", bad)
		}
	}
}

// TestBuffer: flush runs at every full buffer and never sees more than size.
func TestBuffer(t *testing.T) {
	var buf []listdb.Digest
	var flushed []int
	flush := func() error { flushed = append(flushed, len(buf)); buf = buf[:0]; return nil }
	in := make([]listdb.Digest, 7)
	for i := range in {
		in[i][0] = byte(i)
	}
	if err := listdb.Buffer(&buf, in[:5], 3, flush); err != nil {
		t.Fatal(err)
	}
	if err := listdb.Buffer(&buf, in[5:], 3, flush); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(flushed, []int{3, 3}) || len(buf) != 1 || buf[0][0] != 6 {
		t.Fatalf("flushed %v, left %v", flushed, buf)
	}
	stop := errors.New("full")
	if err := listdb.Buffer(&buf, in, 2, func() error { return stop }); err != stop {
		t.Fatalf("flush error not returned: %v", err)
	}
}

// TestKeyerMatchesKey: the check's keys are the imports' keys.
func TestKeyerMatchesKey(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	k := listdb.NewKeyer(key)
	for _, c := range [][2]string{{"email", "a@b.fr"}, {"phone", "+33612345678"}, {"domain", "acme.fr"}, {"email", "a@b.fr"}} {
		if got, want := k.Key(c[0], c[1]), listdb.Key(key, c[0], c[1]); got != want {
			t.Errorf("Keyer.Key(%q, %q) = %x, want %x", c[0], c[1], got, want)
		}
	}
	if k.Key("email", "x") == k.Key("phone", "x") {
		t.Error("the kind is not part of the key")
	}
}
