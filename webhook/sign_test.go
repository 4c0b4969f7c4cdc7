package webhook_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/webhook"
)

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	at := time.Unix(1770000000, 0)
	h := webhook.Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1770000000,v1=") {
		t.Fatalf("header %q", h)
	}
	if err := webhook.Verify(secret, h, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("a fresh signature: %v", err)
	}
	for name, c := range map[string]struct {
		secret []byte
		header string
		body   string
		now    time.Time
		want   string
	}{
		"other body":   {secret, h, `{"id":"evt_2"}`, at, "does not match"},
		"other secret": {[]byte("x"), h, string(body), at, "does not match"},
		"replayed":     {secret, h, string(body), at.Add(6 * time.Minute), "outside the 5m0s window"},
		"garbled":      {secret, "v1=00", string(body), at, "want t=UNIX,v1=HEX"},
		"time changed": {secret, strings.Replace(h, "t=1770000000", "t=1770000001", 1), string(body), at, "does not match"},
	} {
		err := webhook.Verify(c.secret, c.header, []byte(c.body), c.now, 5*time.Minute)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v; want %q", name, err, c.want)
		}
	}
}
