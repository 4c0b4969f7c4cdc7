package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dncgate/dncgate/store"
)

func runSessions(t *testing.T, open func(*testing.T) Harness) {
	t.Run("CreateThenGet", func(t *testing.T) { testSessionCreateGet(t, open(t)) })
	t.Run("CreateExisting", func(t *testing.T) { testSessionExists(t, open(t)) })
	t.Run("Missing", func(t *testing.T) { testSessionMissing(t, open(t)) })
	t.Run("Expires", func(t *testing.T) { testSessionExpires(t, open(t)) })
	t.Run("TouchKeepsAlive", func(t *testing.T) { testSessionTouch(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testSessionDelete(t, open(t)) })
	t.Run("DeleteUserSessions", func(t *testing.T) { testSessionDeleteUser(t, open(t)) })
	t.Run("DeleteUserEndsSessions", func(t *testing.T) { testSessionDeleteUserAccount(t, open(t)) })
	t.Run("SecondFactor", func(t *testing.T) { testSecondFactor(t, open(t)) })
	t.Run("RecoveryCodeOnce", func(t *testing.T) { testRecoveryOnce(t, open(t)) })
}

func session(id, user string) store.Session {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	return store.Session{ID: id, User: user, Pending: "totp", CSRF: "csrf-" + id, CreatedAt: at, SeenAt: at.Add(time.Second)}
}

func mustCreateSession(t *testing.T, s store.Store, se store.Session, ttl time.Duration) {
	t.Helper()
	if err := s.CreateSession(t.Context(), se, ttl); err != nil {
		t.Fatalf("CreateSession(%s): %v", se.ID, err)
	}
}

func sessionAlive(t *testing.T, s store.Store, id string) bool {
	t.Helper()
	_, err := s.Session(t.Context(), id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Session(%s): %v", id, err)
	}
	return err == nil
}

func testSessionCreateGet(t *testing.T, h Harness) {
	want := session("s1", "alice@example.fr")
	mustCreateSession(t, h.Store, want, time.Hour)
	got, err := h.Store.Session(t.Context(), "s1")
	if err != nil {
		t.Fatalf("Session: %v", err)
	}
	if got.ID != want.ID || got.User != want.User || got.Pending != want.Pending || got.CSRF != want.CSRF ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.SeenAt.Equal(want.SeenAt) {
		t.Fatalf("Session = %+v, want %+v", got, want)
	}
}

func testSessionExists(t *testing.T, h Harness) {
	mustCreateSession(t, h.Store, session("s1", "alice@example.fr"), time.Hour)
	err := h.Store.CreateSession(t.Context(), session("s1", "bob@example.fr"), time.Hour)
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateSession = %v, want ErrExists", err)
	}
	if got, _ := h.Store.Session(t.Context(), "s1"); got.User != "alice@example.fr" {
		t.Fatalf("the refused create replaced the session: %+v", got)
	}
}

func testSessionMissing(t *testing.T, h Harness) {
	if _, err := h.Store.Session(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Session(missing) = %v, want ErrNotFound", err)
	}
	if err := h.Store.TouchSession(t.Context(), "nope", time.Now(), time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchSession(missing) = %v, want ErrNotFound", err)
	}
	if err := h.Store.DeleteSession(t.Context(), "nope"); err != nil {
		t.Fatalf("DeleteSession(missing) = %v, want nil", err)
	}
}

func testSessionExpires(t *testing.T, h Harness) {
	ttl := h.ttl()
	mustCreateSession(t, h.Store, session("s1", "alice@example.fr"), ttl)
	h.passTTL(t, ttl, func() bool { return sessionAlive(t, h.Store, "s1") })
	if err := h.Store.TouchSession(t.Context(), "s1", time.Now(), time.Hour); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("TouchSession(expired) = %v, want ErrNotFound", err)
	}
}

// testSessionTouch: a touch gives the session a new ttl from now, and
// records when it was seen.
func testSessionTouch(t *testing.T, h Harness) {
	ttl := h.ttl()
	mustCreateSession(t, h.Store, session("s1", "alice@example.fr"), ttl)
	seen := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	if err := h.Store.TouchSession(t.Context(), "s1", seen, 4*ttl); err != nil {
		t.Fatalf("TouchSession: %v", err)
	}
	got, err := h.Store.Session(t.Context(), "s1")
	if err != nil || !got.SeenAt.Equal(seen) {
		t.Fatalf("after touch: %+v, %v; want SeenAt %s", got, err, seen)
	}
	if h.Advance != nil {
		h.Advance(2 * ttl)
	} else {
		time.Sleep(2 * ttl)
	}
	if !sessionAlive(t, h.Store, "s1") {
		t.Fatalf("gone at twice its first ttl, though touched for four")
	}
}

func testSessionDelete(t *testing.T, h Harness) {
	mustCreateSession(t, h.Store, session("s1", "alice@example.fr"), time.Hour)
	mustCreateSession(t, h.Store, session("s2", "alice@example.fr"), time.Hour)
	if err := h.Store.DeleteSession(t.Context(), "s1"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if sessionAlive(t, h.Store, "s1") || !sessionAlive(t, h.Store, "s2") {
		t.Fatalf("DeleteSession(s1): s1 alive %v, s2 alive %v", sessionAlive(t, h.Store, "s1"), sessionAlive(t, h.Store, "s2"))
	}
}

func testSessionDeleteUser(t *testing.T, h Harness) {
	for _, id := range []string{"a1", "a2", "a3"} {
		mustCreateSession(t, h.Store, session(id, "alice@example.fr"), time.Hour)
	}
	mustCreateSession(t, h.Store, session("b1", "bob@example.fr"), time.Hour)
	if err := h.Store.DeleteSession(t.Context(), "a3"); err != nil {
		t.Fatal(err)
	}
	n, err := h.Store.DeleteUserSessions(t.Context(), "Alice@Example.fr")
	if err != nil || n != 2 {
		t.Fatalf("DeleteUserSessions = %d, %v; want 2 (a3 was gone already)", n, err)
	}
	for _, id := range []string{"a1", "a2"} {
		if sessionAlive(t, h.Store, id) {
			t.Errorf("%s alive after DeleteUserSessions", id)
		}
	}
	if !sessionAlive(t, h.Store, "b1") {
		t.Fatalf("another user's session went too")
	}
	mustCreateSession(t, h.Store, session("a4", "alice@example.fr"), time.Hour)
	if n, err := h.Store.DeleteUserSessions(t.Context(), "alice@example.fr"); err != nil || n != 1 {
		t.Fatalf("DeleteUserSessions after a new login = %d, %v; want 1", n, err)
	}
}

func testSessionDeleteUserAccount(t *testing.T, h Harness) {
	u := alice()
	mustAdd(t, h.Store, u)
	mustCreateSession(t, h.Store, session("a1", u.Email), time.Hour)
	if err := h.Store.SetSecondFactor(t.Context(), u.Email, store.SecondFactor{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"r1"}, EnrolledAt: time.Unix(1e9, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := h.Store.DeleteUser(t.Context(), u.Email); err != nil {
		t.Fatal(err)
	}
	if sessionAlive(t, h.Store, "a1") {
		t.Errorf("the deleted user's session is alive")
	}
	if _, err := h.Store.SecondFactor(t.Context(), u.Email); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SecondFactor of a deleted user = %v, want ErrNotFound", err)
	}
}

func testSecondFactor(t *testing.T, h Harness) {
	ctx := t.Context()
	if _, err := h.Store.SecondFactor(ctx, "alice@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SecondFactor(none) = %v, want ErrNotFound", err)
	}
	want := store.SecondFactor{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"d1", "d2", "d3"}, EnrolledAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	if err := h.Store.SetSecondFactor(ctx, "Alice@example.fr", want); err != nil {
		t.Fatal(err)
	}
	got, err := h.Store.SecondFactor(ctx, "alice@example.fr")
	if err != nil || got.Secret != want.Secret || !slices.Equal(got.Recovery, want.Recovery) || !got.EnrolledAt.Equal(want.EnrolledAt) {
		t.Fatalf("SecondFactor = %+v, %v; want %+v", got, err, want)
	}
	repl := store.SecondFactor{Secret: "KRUGKIDROVUWG2ZA", Recovery: []string{"e1"}, EnrolledAt: want.EnrolledAt.Add(time.Hour)}
	if err := h.Store.SetSecondFactor(ctx, "alice@example.fr", repl); err != nil {
		t.Fatal(err)
	}
	if got, _ := h.Store.SecondFactor(ctx, "alice@example.fr"); got.Secret != repl.Secret || !slices.Equal(got.Recovery, repl.Recovery) {
		t.Fatalf("after replacing: %+v, want %+v (old codes gone)", got, repl)
	}
	if err := h.Store.DeleteSecondFactor(ctx, "alice@example.fr"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Store.SecondFactor(ctx, "alice@example.fr"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after DeleteSecondFactor: %v, want ErrNotFound", err)
	}
	if err := h.Store.DeleteSecondFactor(ctx, "alice@example.fr"); err != nil {
		t.Fatalf("DeleteSecondFactor(none) = %v", err)
	}
}

// testRecoveryOnce: a code used from many goroutines at once is accepted
// by exactly one.
func testRecoveryOnce(t *testing.T, h Harness) {
	ctx := t.Context()
	f := store.SecondFactor{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"d1", "d2"}, EnrolledAt: time.Unix(1e9, 0)}
	if err := h.Store.SetSecondFactor(ctx, "alice@example.fr", f); err != nil {
		t.Fatal(err)
	}
	const n = 8
	wins := make(chan bool, n)
	for range n {
		go func() {
			ok, err := h.Store.UseRecoveryCode(ctx, "alice@example.fr", "d1")
			if err != nil {
				t.Error(err)
			}
			wins <- ok
		}()
	}
	won := 0
	for range n {
		if <-wins {
			won++
		}
	}
	if won != 1 {
		t.Fatalf("%d of %d uses of one recovery code accepted, want 1", won, n)
	}
	got, err := h.Store.SecondFactor(ctx, "alice@example.fr")
	if err != nil || !slices.Equal(got.Recovery, []string{"d2"}) {
		t.Fatalf("codes left = %v, %v; want [d2]", got.Recovery, err)
	}
	if ok, err := h.Store.UseRecoveryCode(ctx, "alice@example.fr", "nope"); ok || err != nil {
		t.Fatalf("UseRecoveryCode(unknown) = %v, %v", ok, err)
	}
}
