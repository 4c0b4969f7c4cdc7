package unsubscribe_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dncgate/dncgate/unsubscribe"
)

// BenchmarkOneClick measures one-click opt-outs through the handler
// (token opened, body classified, digest written to the store), without
// the network, on each store.
func BenchmarkOneClick(b *testing.B) {
	for _, mk := range []func(testing.TB) storePair{embeddedPair, redisPair} {
		p := withOptOutList(b, mk(b))
		b.Run(p.name, func(b *testing.B) {
			kr := testKeyring(b)
			h, err := unsubscribe.NewHandler(unsubscribe.Options{
				Keyring: kr, Org: testOrg, OptOuts: listOptOuts{p.writer}, RatePerMinute: 1 << 30,
			})
			if err != nil {
				b.Fatal(err)
			}
			paths := make([]string, 1024)
			for i := range paths {
				paths[i] = unsubscribe.PathPrefix + kr.Seal(fmt.Sprintf("r%d@example.fr", i), testOrg, time.Now())
			}
			for i := 0; b.Loop(); i++ {
				req := httptest.NewRequest(http.MethodPost, paths[i%len(paths)], strings.NewReader("List-Unsubscribe=One-Click"))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "optouts/s")
		})
	}
}
