package totp_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	gotp "github.com/pquerna/otp/totp"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/console/totp"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/store/embedded"
)

func open(t *testing.T) *embedded.Store {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func code(t *testing.T, secret string, at time.Time) string {
	c, err := gotp.GenerateCodeCustom(secret, at, gotp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSteps: the steps next to the current one are accepted (drift), two
// away are not, and each step once, even under another spelling of the
// user's name.
func TestSteps(t *testing.T) {
	st := open(t)
	f := totp.New(st, "ACME")
	k, err := f.NewKey(store.User{Email: "m@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.URL, "otpauth://totp/ACME:m@acme.example?") || !strings.HasPrefix(string(k.QR), "data:image/png;base64,") || len(k.Secret) != 32 {
		t.Fatalf("key = %+v", k)
	}
	now := time.Date(2026, 3, 1, 9, 0, 15, 0, time.UTC)
	ctx := context.Background()
	if _, err := f.Enrol(ctx, "m@acme.example", k.Secret, code(t, k.Secret, now), now); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		at   time.Duration
		want error
	}{
		"step before": {-30 * time.Second, nil}, "step after": {30 * time.Second, nil},
		"two before": {-60 * time.Second, console.ErrWrongCode}, "two after": {60 * time.Second, console.ErrWrongCode},
		"current, used by the enrolment": {0, console.ErrWrongCode},
	} {
		if err := f.Verify(ctx, "m@acme.example", code(t, k.Secret, now.Add(c.at)), now); !errors.Is(err, c.want) && err != c.want {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if err := f.Verify(ctx, "M@ACME.example", code(t, k.Secret, now.Add(30*time.Second)), now); !errors.Is(err, console.ErrWrongCode) {
		t.Errorf("a used step under another spelling: %v, want refused", err)
	}
}

// TestRecoveryCodes: eight codes, any case and dashes, each once.
func TestRecoveryCodes(t *testing.T) {
	st := open(t)
	f := totp.New(st, "")
	secret := "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	now := time.Now()
	codes, err := f.Enrol(context.Background(), "r@acme.example", secret, code(t, secret, now), now)
	if err != nil || len(codes) != 8 {
		t.Fatalf("Enrol = %v, %v", codes, err)
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("recovery code %q", c)
		}
		seen[c] = true
	}
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	if err := f.Verify(context.Background(), "r@acme.example", typed, now); err != nil {
		t.Fatalf("recovery code typed %q: %v", typed, err)
	}
	if err := f.Verify(context.Background(), "r@acme.example", codes[3], now); !errors.Is(err, console.ErrWrongCode) {
		t.Fatalf("recovery code used twice: %v", err)
	}
	if err := f.Verify(context.Background(), "nobody@acme.example", codes[4], now); !errors.Is(err, console.ErrWrongCode) {
		t.Fatalf("another user's recovery code: %v", err)
	}
}

// TestEnrolRefusesBadSecrets: a secret that is not base32 or too short
// is refused before any code is compared.
func TestEnrolRefusesBadSecrets(t *testing.T) {
	f := totp.New(open(t), "")
	for _, s := range []string{"", "short", "not base32 at all!!"} {
		if _, err := f.Enrol(context.Background(), "x@acme.example", s, "123456", time.Now()); !errors.Is(err, console.ErrWrongCode) {
			t.Errorf("secret %q: %v", s, err)
		}
	}
}
