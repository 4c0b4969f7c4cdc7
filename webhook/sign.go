package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of each POST.
const SignatureHeader = "Dncgate-Signature"

// Sign returns the header value for body sent at t: "t=UNIX,v1=HEX", HEX
// the HMAC-SHA256 under secret of the decimal UNIX time, ".", and body.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header against body as a receiver does: the MAC, in
// constant time, and a timestamp within window of now, so a captured
// request cannot be replayed later.
func Verify(secret []byte, header string, body []byte, now time.Time, window time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("signature: want t=UNIX,v1=HEX")
	}
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, ts, body)) {
		return errors.New("signature: does not match")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > window || d < -window {
		return fmt.Errorf("signature: timestamp %s off by %s, outside the %s window", ts, d.Round(time.Second), window)
	}
	return nil
}
