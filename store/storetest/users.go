package storetest

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
)

func runUsers(t *testing.T, open func(*testing.T) Harness) {
	t.Run("AddThenGet", func(t *testing.T) { testAddThenGet(t, open(t)) })
	t.Run("EmailIsCaseInsensitive", func(t *testing.T) { testEmailCase(t, open(t)) })
	t.Run("AddExisting", func(t *testing.T) { testAddExisting(t, open(t)) })
	t.Run("AddEmptyEmail", func(t *testing.T) { testAddEmptyEmail(t, open(t)) })
	t.Run("GetMissing", func(t *testing.T) { testGetMissing(t, open(t)) })
	t.Run("EmptySendAs", func(t *testing.T) { testEmptySendAs(t, open(t)) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, open(t)) })
	t.Run("UpdateMissing", func(t *testing.T) { testUpdateMissing(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("DisableAndEnable", func(t *testing.T) { testDisable(t, open(t)) })
	t.Run("RecordLogin", func(t *testing.T) { testRecordLogin(t, open(t)) })
	t.Run("RecordLoginMissing", func(t *testing.T) { testRecordLoginMissing(t, open(t)) })
}

// alice is a user with every field set; SendAs is deliberately unsorted so
// that a store that sorts or dedups it fails.
func alice() store.User {
	return store.User{
		Email:        "alice@example.fr",
		Role:         store.RoleRep,
		SendAs:       []string{"sales@example.fr", "@example.fr", "alice@example.com"},
		PasswordHash: []byte("$2a$10$notarealhashbutbytes\x00\xff"),
	}
}

func mustAdd(t *testing.T, s store.Store, u store.User) {
	t.Helper()
	if err := s.AddUser(t.Context(), u); err != nil {
		t.Fatalf("AddUser(%s): %v", u.Email, err)
	}
}

func mustGet(t *testing.T, s store.Store, email string) store.User {
	t.Helper()
	u, err := s.User(t.Context(), email)
	if err != nil {
		t.Fatalf("User(%s): %v", email, err)
	}
	return u
}

// sameData reports whether got carries want's fields, timestamps aside.
func sameData(got, want store.User) bool {
	return got.Email == want.Email && got.Role == want.Role &&
		slices.Equal(got.SendAs, want.SendAs) &&
		bytes.Equal(got.PasswordHash, want.PasswordHash)
}

func testAddThenGet(t *testing.T, h Harness) {
	in := alice()
	in.CreatedAt = time.Unix(1, 0) // the store sets timestamps itself
	mustAdd(t, h.Store, in)
	got := mustGet(t, h.Store, "alice@example.fr")
	if !sameData(got, alice()) {
		t.Fatalf("User = %+v, want %+v", got, alice())
	}
	if got.CreatedAt.IsZero() || got.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("CreatedAt = %v, want the store's own time", got.CreatedAt)
	}
	if !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Fatalf("UpdatedAt %v != CreatedAt %v on a new user", got.UpdatedAt, got.CreatedAt)
	}
}

func testEmailCase(t *testing.T, h Harness) {
	u := alice()
	u.Email = "Alice@Example.FR"
	mustAdd(t, h.Store, u)
	for _, e := range []string{"alice@example.fr", "ALICE@EXAMPLE.FR", "aLiCe@example.fr"} {
		if got := mustGet(t, h.Store, e); got.Email != "alice@example.fr" {
			t.Fatalf("User(%s).Email = %q, want it lower-cased", e, got.Email)
		}
	}
	list, err := h.Store.ListUsers(t.Context())
	if err != nil || len(list) != 1 || list[0].Email != "alice@example.fr" {
		t.Fatalf("ListUsers = %+v, %v; want the one lower-cased user", list, err)
	}
}

func testAddExisting(t *testing.T, h Harness) {
	mustAdd(t, h.Store, alice())
	again := alice()
	again.Email = "ALICE@example.fr"
	again.Role = store.RoleAdmin
	if err := h.Store.AddUser(t.Context(), again); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second AddUser = %v, want ErrExists", err)
	}
	if got := mustGet(t, h.Store, "alice@example.fr"); got.Role != store.RoleRep {
		t.Fatalf("refused AddUser changed the role to %q", got.Role)
	}
}

func testAddEmptyEmail(t *testing.T, h Harness) {
	if err := h.Store.AddUser(t.Context(), store.User{Role: store.RoleRep}); err == nil {
		t.Fatal("AddUser with an empty email succeeded")
	}
}

func testGetMissing(t *testing.T, h Harness) {
	if _, err := h.Store.User(t.Context(), "nobody@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("User(missing) = %v, want ErrNotFound", err)
	}
}

func testEmptySendAs(t *testing.T, h Harness) {
	u := alice()
	u.SendAs = nil
	mustAdd(t, h.Store, u)
	if got := mustGet(t, h.Store, u.Email); len(got.SendAs) != 0 {
		t.Fatalf("SendAs = %q, want none", got.SendAs)
	}
}

func testUpdate(t *testing.T, h Harness) {
	mustAdd(t, h.Store, alice())
	before := mustGet(t, h.Store, "alice@example.fr")
	if h.Advance != nil {
		h.Advance(time.Hour)
	}
	changed := store.User{
		Email:        "ALICE@example.fr",
		Role:         store.RoleManager,
		SendAs:       []string{"@example.com", "a@example.fr"},
		PasswordHash: []byte("new-hash"),
	}
	if err := h.Store.UpdateUser(t.Context(), changed); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got := mustGet(t, h.Store, "alice@example.fr")
	changed.Email = "alice@example.fr"
	if !sameData(got, changed) {
		t.Fatalf("after update User = %+v, want %+v", got, changed)
	}
	checkUpdatedTimes(t, h, before, got)
}

// checkUpdatedTimes checks an update kept CreatedAt (though the caller
// passed a zero one) and moved UpdatedAt with the store's clock.
func checkUpdatedTimes(t *testing.T, h Harness, before, after store.User) {
	t.Helper()
	if !after.CreatedAt.Equal(before.CreatedAt) {
		t.Fatalf("update changed CreatedAt from %v to %v", before.CreatedAt, after.CreatedAt)
	}
	if after.UpdatedAt.Before(before.UpdatedAt) {
		t.Fatalf("UpdatedAt went back from %v to %v", before.UpdatedAt, after.UpdatedAt)
	}
	if h.Advance != nil && after.UpdatedAt.Sub(before.UpdatedAt) < time.Hour {
		t.Fatalf("UpdatedAt moved by %v after the clock moved an hour", after.UpdatedAt.Sub(before.UpdatedAt))
	}
}

func testUpdateMissing(t *testing.T, h Harness) {
	if err := h.Store.UpdateUser(t.Context(), alice()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateUser(missing) = %v, want ErrNotFound", err)
	}
	if _, err := h.Store.User(t.Context(), alice().Email); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateUser(missing) created the user (User = %v)", err)
	}
}

func testList(t *testing.T, h Harness) {
	list, err := h.Store.ListUsers(t.Context())
	if err != nil || len(list) != 0 {
		t.Fatalf("ListUsers on an empty store = %+v, %v", list, err)
	}
	users := map[string]store.User{}
	for _, e := range []string{"carol@example.fr", "alice@example.fr", "bob@example.fr"} {
		u := alice()
		u.Email = e
		u.SendAs = []string{e}
		mustAdd(t, h.Store, u)
		users[e] = mustGet(t, h.Store, e)
	}
	list, err = h.Store.ListUsers(t.Context())
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	checkList(t, list, users, []string{"alice@example.fr", "bob@example.fr", "carol@example.fr"})
}

// checkList checks list holds exactly order, each user as User returned it.
func checkList(t *testing.T, list []store.User, byEmail map[string]store.User, order []string) {
	t.Helper()
	if len(list) != len(order) {
		t.Fatalf("ListUsers returned %d users, want %d", len(list), len(order))
	}
	for i, u := range list {
		want := byEmail[order[i]]
		if u.Email != order[i] || !sameData(u, want) ||
			!u.CreatedAt.Equal(want.CreatedAt) || !u.UpdatedAt.Equal(want.UpdatedAt) {
			t.Fatalf("ListUsers[%d] = %+v, want %+v", i, u, want)
		}
	}
}

func testDelete(t *testing.T, h Harness) {
	mustAdd(t, h.Store, alice())
	bob := alice()
	bob.Email = "bob@example.fr"
	mustAdd(t, h.Store, bob)
	if err := h.Store.DeleteUser(t.Context(), "ALICE@example.fr"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := h.Store.User(t.Context(), "alice@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("User after delete = %v, want ErrNotFound", err)
	}
	list, err := h.Store.ListUsers(t.Context())
	if err != nil || len(list) != 1 || list[0].Email != "bob@example.fr" {
		t.Fatalf("ListUsers after delete = %+v, %v; want only bob", list, err)
	}
	if err := h.Store.DeleteUser(t.Context(), "alice@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second DeleteUser = %v, want ErrNotFound", err)
	}
	mustAdd(t, h.Store, alice()) // the email is free again
}

// testDisable: the disabled flag, its time and its author go through
// UpdateUser and come back from User and ListUsers; enabling clears them.
func testDisable(t *testing.T, h Harness) {
	mustAdd(t, h.Store, alice())
	if got := mustGet(t, h.Store, alice().Email); got.Disabled || !got.DisabledAt.IsZero() || got.DisabledBy != "" {
		t.Fatalf("a new user is disabled: %+v", got)
	}
	at := time.Unix(1_800_000_000, 123_000).UTC()
	u := mustGet(t, h.Store, alice().Email)
	u.Disabled, u.DisabledAt, u.DisabledBy = true, at, "boss@example.fr"
	if err := h.Store.UpdateUser(t.Context(), u); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got := mustGet(t, h.Store, alice().Email)
	if !got.Disabled || !got.DisabledAt.Equal(at) || got.DisabledBy != "boss@example.fr" || !sameData(got, alice()) {
		t.Fatalf("disabled user = %+v, want disabled at %v by boss", got, at)
	}
	list, err := h.Store.ListUsers(t.Context())
	if err != nil || len(list) != 1 || !list[0].Disabled || !list[0].DisabledAt.Equal(at) {
		t.Fatalf("ListUsers = %+v, %v; want the one disabled user", list, err)
	}
	got.Disabled = false
	if err := h.Store.UpdateUser(t.Context(), got); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got := mustGet(t, h.Store, alice().Email); got.Disabled || !got.DisabledAt.IsZero() || got.DisabledBy != "" {
		t.Fatalf("enabled user = %+v, want no trace of the disabling", got)
	}
}

// testRecordLogin: RecordLogin sets LastLogin and nothing else, and a
// later UpdateUser (which carries no LastLogin) keeps it.
func testRecordLogin(t *testing.T, h Harness) {
	mustAdd(t, h.Store, alice())
	before := mustGet(t, h.Store, alice().Email)
	if !before.LastLogin.IsZero() {
		t.Fatalf("a new user has a last login: %v", before.LastLogin)
	}
	at := time.Unix(1_800_000_100, 456_000).UTC()
	if err := h.Store.RecordLogin(t.Context(), "ALICE@example.fr", at); err != nil {
		t.Fatalf("RecordLogin: %v", err)
	}
	got := mustGet(t, h.Store, alice().Email)
	if !got.LastLogin.Equal(at) || !sameData(got, alice()) || !got.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("after RecordLogin User = %+v, want last login %v and nothing else changed", got, at)
	}
	changed := alice()
	changed.Role = store.RoleManager
	if err := h.Store.UpdateUser(t.Context(), changed); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if got := mustGet(t, h.Store, alice().Email); !got.LastLogin.Equal(at) || got.Role != store.RoleManager {
		t.Fatalf("after UpdateUser User = %+v, want the role changed and last login %v kept", got, at)
	}
	list, err := h.Store.ListUsers(t.Context())
	if err != nil || len(list) != 1 || !list[0].LastLogin.Equal(at) {
		t.Fatalf("ListUsers = %+v, %v; want last login %v", list, err, at)
	}
}

func testRecordLoginMissing(t *testing.T, h Harness) {
	if err := h.Store.RecordLogin(t.Context(), "nobody@example.fr", time.Now()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RecordLogin(missing) = %v, want ErrNotFound", err)
	}
	if _, err := h.Store.User(t.Context(), "nobody@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RecordLogin(missing) created the user (User = %v)", err)
	}
}
