// Package totp is the console's second factor: time-based one-time codes
// (RFC 6238) from an authenticator app, each time step accepted once, and
// one-use recovery codes kept as digests.
package totp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"image/png"
	"strconv"
	"strings"
	"time"

	"github.com/pquerna/otp"
	gotp "github.com/pquerna/otp/totp"

	"github.com/dncgate/dncgate/console"
	"github.com/dncgate/dncgate/store"
)

// Store is what the second factor keeps: the secrets and recovery codes
// (store.SecondFactors) and the counters that remember used time steps
// (store.Counters), shared by every instance.
type Store interface {
	SecondFactor(ctx context.Context, email string) (store.SecondFactor, error)
	SetSecondFactor(ctx context.Context, email string, f store.SecondFactor) error
	DeleteSecondFactor(ctx context.Context, email string) error
	UseRecoveryCode(ctx context.Context, email, digest string) (bool, error)
	Hit(ctx context.Context, key string, window time.Duration) (int64, error)
	Count(ctx context.Context, key string) (int64, error)
}

// The code's parameters are RFC 6238's defaults, which every app reads
// from the otpauth URL: 30 s steps, 6 digits, SHA-1.
const (
	period = 30
	digits = otp.DigitsSix
	// skew accepts the step before and after the current one (RFC 6238
	// §5.2: one step of network delay or clock drift).
	skew = 1
	// recoveryCodes is how many recovery codes an enrolment gives.
	recoveryCodes = 8
	// maxFailures wrong codes in failWindow stop the checks of a user's
	// codes until the window ends: a guesser who has the password gets a
	// handful of the million codes, not all of them (RFC 6238 §5.2, RFC
	// 4226 §7.3 throttling).
	maxFailures = 5
	failWindow  = 15 * time.Minute
	qrSize      = 256
)

// Factor implements console.SecondFactor.
type Factor struct {
	st     Store
	issuer string
}

// New returns the second factor; issuer names the account in the app
// (the company).
func New(st Store, issuer string) *Factor {
	if issuer == "" {
		issuer = "dncgate"
	}
	return &Factor{st: st, issuer: issuer}
}

var _ console.SecondFactor = (*Factor)(nil)

// Enrolled reports whether the user has a second factor.
func (f *Factor) Enrolled(ctx context.Context, email string) (bool, error) {
	_, err := f.st.SecondFactor(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// NewKey makes a fresh 160-bit secret (RFC 4226 §4's recommended size)
// and its QR code as a PNG data: URL.
func (f *Factor) NewKey(u store.User) (console.Key, error) {
	k, err := gotp.Generate(gotp.GenerateOpts{Issuer: f.issuer, AccountName: u.Email, Period: period, Digits: digits, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return console.Key{}, fmt.Errorf("totp: new key: %w", err)
	}
	img, err := k.Image(qrSize, qrSize)
	if err != nil {
		return console.Key{}, fmt.Errorf("totp: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return console.Key{}, fmt.Errorf("totp: QR code: %w", err)
	}
	// The data: URL is made here from our own PNG bytes, so it is safe as
	// an img src; the CSP allows img-src data:.
	qr := template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()))
	return console.Key{Secret: k.Secret(), URL: k.URL(), QR: qr}, nil
}

// Enrol keeps secret once code matches it, and returns fresh recovery
// codes; the step of that code is used up.
func (f *Factor) Enrol(ctx context.Context, email, secret, code string, now time.Time) ([]string, error) {
	if _, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(secret)); err != nil || len(secret) < 16 {
		return nil, console.ErrWrongCode
	}
	if err := f.checkCode(ctx, email, secret, code, now); err != nil {
		return nil, err
	}
	codes, digests := newRecoveryCodes()
	err := f.st.SetSecondFactor(ctx, email, store.SecondFactor{Secret: secret, Recovery: digests, EnrolledAt: now.UTC()})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// Verify accepts a current code once, or an unused recovery code. Past
// maxFailures wrong ones in failWindow, it checks none.
func (f *Factor) Verify(ctx context.Context, email, code string, now time.Time) error {
	failKey := "totp-fail:" + strings.ToLower(email)
	if n, err := f.st.Count(ctx, failKey); err != nil {
		return err
	} else if n >= maxFailures {
		return console.ErrTooManyCodes
	}
	err := f.verify(ctx, email, code, now)
	if errors.Is(err, console.ErrWrongCode) {
		if _, herr := f.st.Hit(ctx, failKey, failWindow); herr != nil {
			return herr
		}
	}
	return err
}

func (f *Factor) verify(ctx context.Context, email, code string, now time.Time) error {
	sf, err := f.st.SecondFactor(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return console.ErrWrongCode
	}
	if err != nil {
		return err
	}
	if isDigits(code) {
		return f.checkCode(ctx, email, sf.Secret, code, now)
	}
	ok, err := f.st.UseRecoveryCode(ctx, email, recoveryDigest(code))
	switch {
	case err != nil:
		return err
	case !ok:
		return console.ErrWrongCode
	}
	return nil
}

// Reset removes the user's second factor.
func (f *Factor) Reset(ctx context.Context, email string) error {
	return f.st.DeleteSecondFactor(ctx, email)
}

// checkCode finds the step, within the skew, whose code is code, and uses
// it up in the store: a second use of a step, from any instance, is
// refused (RFC 6238 §5.2: a verifier must not accept a code twice).
func (f *Factor) checkCode(ctx context.Context, email, secret, code string, now time.Time) error {
	if len(code) != digits.Length() || !isDigits(code) {
		return console.ErrWrongCode
	}
	step := now.Unix() / period
	for d := int64(-skew); d <= skew; d++ {
		at := time.Unix((step+d)*period, 0)
		want, err := gotp.GenerateCodeCustom(secret, at, gotp.ValidateOpts{Period: period, Digits: digits, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return console.ErrWrongCode
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		n, err := f.st.Hit(ctx, "totp:"+strings.ToLower(email)+":"+strconv.FormatInt(step+d, 10), (2*skew+2)*period*time.Second)
		if err != nil {
			return err
		}
		if n != 1 {
			return console.ErrWrongCode // replayed
		}
		return nil
	}
	return console.ErrWrongCode
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// recoveryEncoding leaves out the letters read as digits (I, O) and the
// digits 0 and 1.
var recoveryEncoding = base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding)

// newRecoveryCodes are codes of 50 random bits each, written XXXXX-XXXXX,
// and their digests.
func newRecoveryCodes() (codes, digests []string) {
	for range recoveryCodes {
		var b [7]byte
		_, _ = rand.Read(b[:])
		s := recoveryEncoding.EncodeToString(b[:])[:10]
		c := s[:5] + "-" + s[5:]
		codes, digests = append(codes, c), append(digests, recoveryDigest(c))
	}
	return codes, digests
}

// recoveryDigest is how a recovery code is kept: the SHA-256 of its
// letters, upper-cased without dashes or spaces, so a code typed either
// way matches. 50 random bits need no slow hash.
func recoveryDigest(code string) string {
	norm := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
	sum := sha256.Sum256([]byte("dncgate-recovery:" + norm))
	return hex.EncodeToString(sum[:])
}
