package accounts_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/accounts"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in    string
		field accounts.Field
		ok    bool
	}{
		{"Rep@Acme.FR", "", true}, {"rep", accounts.FieldEmail, false}, {"Rep <rep@acme.fr>", accounts.FieldEmail, false},
		{"", accounts.FieldEmail, false},
	} {
		got, err := accounts.ParseEmail(c.in)
		var fe *accounts.Error
		switch {
		case c.ok && (err != nil || got != strings.ToLower(c.in)):
			t.Errorf("ParseEmail(%q) = %q, %v", c.in, got, err)
		case !c.ok && (!errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, accounts.ErrBadEmail)):
			t.Errorf("ParseEmail(%q) = %v, want a bad email", c.in, err)
		}
	}
	list, err := accounts.ParseSendAs([]string{"Sales@ACME.fr", "@Acme.FR", "@acme.fr"})
	if err != nil || strings.Join(list, " ") != "Sales@acme.fr @acme.fr" {
		t.Errorf("ParseSendAs = %q, %v; want domains lower-cased, local parts kept, duplicates dropped", list, err)
	}
	for _, bad := range []string{"@", "@-acme.fr", "not an address", `"x"@`, "@acme..fr"} {
		var fe *accounts.Error
		if _, err := accounts.ParseSendAs([]string{"ok@acme.fr", bad}); !errors.As(err, &fe) || fe.Field != accounts.FieldSendAs || fe.Value != bad {
			t.Errorf("ParseSendAs(%q) = %v, want a send-as error naming it", bad, err)
		}
	}
	if _, err := accounts.New("a@acme.fr", "boss", nil); !errors.Is(err, accounts.ErrBadRole) {
		t.Errorf("New with role boss = %v", err)
	}
	if u, err := accounts.New("A@acme.fr", "rep", nil); err != nil || len(u.SendAs) != 1 || u.SendAs[0] != "a@acme.fr" {
		t.Errorf("New without send-as = %+v, %v; want the user's own address", u, err)
	}
	for _, pw := range []string{"short", strings.Repeat("é", 37)} {
		if err := accounts.CheckPassword(pw); !errors.Is(err, accounts.ErrBadPassword) {
			t.Errorf("CheckPassword(%d bytes) = %v", len(pw), err)
		}
	}
	a, b := accounts.GeneratePassword(), accounts.GeneratePassword()
	if a == b || accounts.CheckPassword(a) != nil || strings.ContainsAny(a, "0O1lI") {
		t.Errorf("generated passwords %q, %q", a, b)
	}
}

func openStore(t *testing.T) *embedded.Store {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestKeepsOneEnabledAdmin: the only enabled admin can be neither
// disabled nor demoted, and the refusal changes nothing; with a second
// admin both work, and disabling ends the user's console sessions.
func TestKeepsOneEnabledAdmin(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	for _, u := range []store.User{{Email: "a@acme.fr", Role: store.RoleAdmin}, {Email: "b@acme.fr", Role: store.RoleAdmin, Disabled: true},
		{Email: "r@acme.fr", Role: store.RoleRep}} {
		if err := st.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	for name, change := range map[string]func(*store.User) error{
		"disable": func(u *store.User) error { accounts.Disable(u, "a@acme.fr", now); return nil },
		"demote":  func(u *store.User) error { u.Role = store.RoleManager; return nil },
	} {
		if _, err := accounts.Update(ctx, st, "a@acme.fr", change); !errors.Is(err, accounts.ErrLastAdmin) {
			t.Fatalf("%s the last enabled admin: %v, want ErrLastAdmin", name, err)
		}
		if u, _ := st.User(ctx, "a@acme.fr"); u.Role != store.RoleAdmin || u.Disabled {
			t.Fatalf("a refused %s changed the admin: %+v", name, u)
		}
	}
	if _, err := accounts.Update(ctx, st, "b@acme.fr", func(u *store.User) error { accounts.Enable(u); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSession(ctx, store.Session{ID: "s1", User: "a@acme.fr", CreatedAt: now, SeenAt: now}, time.Hour); err != nil {
		t.Fatal(err)
	}
	u, err := accounts.Update(ctx, st, "a@acme.fr", func(u *store.User) error { accounts.Disable(u, "b@acme.fr", now); return nil })
	if err != nil || !u.Disabled || u.DisabledBy != "b@acme.fr" || !u.DisabledAt.Equal(now) {
		t.Fatalf("disable with another admin left: %+v, %v", u, err)
	}
	if _, err := st.Session(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the disabled user's session: %v, want it gone", err)
	}
	if _, err := accounts.Update(ctx, st, "nobody@acme.fr", func(*store.User) error { return nil }); !errors.Is(err, accounts.ErrNoUser) {
		t.Fatalf("update of a missing user: %v", err)
	}
	ev := accounts.Event("b@acme.fr", "disable", u)
	if ev.Actor != "b@acme.fr" || ev.Object != "a@acme.fr" || ev.Details["disabled"] != "yes" || ev.Details["change"] != "disable" {
		t.Fatalf("event = %+v", ev)
	}
}

// TestRemoveKeepsOneEnabledAdmin: removing the last enabled admin is
// refused and changes nothing; with another enabled admin, or for a rep,
// it goes through; a missing user is ErrNoUser.
func TestRemoveKeepsOneEnabledAdmin(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	for _, u := range []store.User{{Email: "a@acme.fr", Role: store.RoleAdmin}, {Email: "b@acme.fr", Role: store.RoleAdmin, Disabled: true},
		{Email: "r@acme.fr", Role: store.RoleRep}} {
		if err := st.AddUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if err := accounts.Remove(ctx, st, "a@acme.fr"); !errors.Is(err, accounts.ErrLastAdmin) {
		t.Fatalf("removing the last enabled admin: %v, want ErrLastAdmin", err)
	}
	if _, err := st.User(ctx, "a@acme.fr"); err != nil {
		t.Fatalf("the refused removal removed: %v", err)
	}
	for _, email := range []string{"r@acme.fr", "b@acme.fr"} { // a rep; a disabled admin
		if err := accounts.Remove(ctx, st, email); err != nil {
			t.Fatalf("removing %s: %v", email, err)
		}
	}
	if err := accounts.Remove(ctx, st, "r@acme.fr"); !errors.Is(err, accounts.ErrNoUser) {
		t.Fatalf("removing a missing user: %v, want ErrNoUser", err)
	}
}
