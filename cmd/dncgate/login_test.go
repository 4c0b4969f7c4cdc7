package main

import (
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

// TestStoredCost: the stand-in hash is made at the cost the stored users
// have, read at start, so that the first login at an unknown name already
// takes as long as one at a known name.
func TestStoredCost(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c := storedCost(t.Context(), st); c != auth.DefaultCost {
		t.Fatalf("no users: cost %d, want %d", c, auth.DefaultCost)
	}
	for i, cost := range []int{5, 4, 5} {
		h, err := bcrypt.GenerateFromPassword([]byte("a password"), cost)
		if err != nil {
			t.Fatal(err)
		}
		u := store.User{Email: string(rune('a'+i)) + "@acme.fr", Role: store.RoleRep, PasswordHash: h}
		if err := st.AddUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	if c := storedCost(t.Context(), st); c != 5 {
		t.Fatalf("users at costs 5, 4, 5: cost %d, want 5", c)
	}
}
