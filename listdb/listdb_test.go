package listdb_test

import (
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
