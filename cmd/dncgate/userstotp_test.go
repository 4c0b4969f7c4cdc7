package main

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

// TestUsersTOTPReset removes the second factor and the console sessions
// of one user, leaves the others', and records it in the audit trail.
func TestUsersTOTPReset(t *testing.T) {
	data := t.TempDir()
	initStore(t, "--data", data)
	for _, u := range []string{"mgr@acme.test", "other@acme.test"} {
		dncgate(t, password+"\n", "users", "add", u, "--data", data, "--role", "manager", "--password-stdin").want(t, 0, "stdout")
	}
	st, err := embedded.Open(filepath.Join(data, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"mgr@acme.test", "other@acme.test"} {
		if err := st.SetSecondFactor(ctx, u, store.SecondFactor{Secret: "JBSWY3DPEHPK3PXP", Recovery: []string{"d"}, EnrolledAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"1", "2"} {
			if err := st.CreateSession(ctx, store.Session{ID: u + id, User: u, CreatedAt: time.Now(), SeenAt: time.Now()}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}
	}
	st.Close()

	dncgate(t, "", "users", "totp-reset", "MGR@acme.test", "--data", data).
		want(t, 0, "stdout", "removed the second factor of mgr@acme.test; 2 console sessions ended")
	dncgate(t, "", "users", "totp-reset", "nobody@acme.test", "--data", data).want(t, 1, "stderr", "no user nobody@acme.test")

	st, err = embedded.Open(filepath.Join(data, "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.SecondFactor(ctx, "mgr@acme.test"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second factor after the reset: %v, want none", err)
	}
	if _, err := st.Session(ctx, "mgr@acme.test1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session lives on after the reset: %v", err)
	}
	if _, err := st.SecondFactor(ctx, "other@acme.test"); err != nil {
		t.Errorf("another user's factor went too: %v", err)
	}
	if _, err := st.Session(ctx, "other@acme.test1"); err != nil {
		t.Errorf("another user's session went too: %v", err)
	}
	led, err := sqlite.Open(filepath.Join(data, "ledger.db"), ledger.Retention{})
	if err != nil {
		t.Fatal(err)
	}
	defer led.Close()
	ev, err := led.Audits(ctx, ledger.AuditQuery{Action: ledger.ActTOTPReset})
	if err != nil || len(ev) != 1 || ev[0].Object != "mgr@acme.test" || ev[0].Details["sessions"] != "2" {
		t.Fatalf("audit = %+v, %v", ev, err)
	}
}
