package unsubscribe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dncgate/dncgate/unsubscribe"
)

// memOptOuts is an in-memory OptOuts for the fuzz test, where a store
// would only slow the search down.
type memOptOuts struct {
	mu  sync.Mutex
	set map[string]bool
}

func (m *memOptOuts) OptOut(_ context.Context, addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set[addr] = true
	return nil
}

func (m *memOptOuts) has(addr string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.set[addr]
}

// FuzzPost sends any body and content type to a valid link: the answer is
// always one of the documented statuses, and the recipient is opted out
// exactly when it is 200.
func FuzzPost(f *testing.F) {
	f.Add("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
	f.Add("", "")
	f.Add("--b\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--b--\r\n", "multipart/form-data; boundary=b")
	f.Add("csrf=AAAA", "application/x-www-form-urlencoded")
	f.Add("List-Unsubscribe=One-Click%", "application/x-www-form-urlencoded; charset=utf-8")
	f.Add("x", "text/plain")
	f.Add("x", "multipart/form-data")
	kr := testKeyring(f)
	outs := &memOptOuts{set: map[string]bool{}}
	h, err := unsubscribe.NewHandler(unsubscribe.Options{Keyring: kr, Org: testOrg, OptOuts: outs, RatePerMinute: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	allowed := map[int]bool{200: true, 400: true, 403: true, 413: true, 415: true}
	n := 0
	f.Fuzz(func(t *testing.T, body, contentType string) {
		n++
		rcpt := "r" + strconv.Itoa(n) + "@example.fr" // a new recipient each time
		req := httptest.NewRequest(http.MethodPost, unsubscribe.PathPrefix+kr.Seal(rcpt, testOrg, start), strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !allowed[w.Code] {
			t.Fatalf("status %d for body %q, type %q", w.Code, body, contentType)
		}
		if got := outs.has(rcpt); got != (w.Code == http.StatusOK) {
			t.Fatalf("status %d but opted out %v, for body %q, type %q", w.Code, got, body, contentType)
		}
	})
}
