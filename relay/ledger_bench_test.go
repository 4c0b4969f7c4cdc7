package relay

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/sqlite"
	"github.com/dncgate/dncgate/store"
)

// noLogin refuses every AUTH: the benchmark's client sends from a trusted
// network.
type noLogin struct{}

func (noLogin) Login(context.Context, auth.Attempt) auth.Result { return auth.Result{} }

// BenchmarkRelayLedger relays one-recipient messages over 10 sessions per
// core, with the ledger off and on (the embedded ledger behind its spool,
// as serve runs it): compare the two ns/op (target: on within 1/0.9 of
// off). commits/msg is how many commits (each an fsync of the WAL) the
// ledger made per message, records and outcomes together: group commit
// at work shows as well under 1.
func BenchmarkRelayLedger(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "sqlite"
		}
		b.Run(name, func(b *testing.B) {
			o := Options{Hostname: "relay.test", Check: newTableCheck(), Listeners: []Listener{{Name: "plain", Addr: "127.0.0.1:0",
				Trusted: []TrustedNet{{Net: netip.MustParsePrefix("127.0.0.0/8"), Identity: repEmail}}}}}
			if on {
				dir := b.TempDir()
				l, err := sqlite.Open(filepath.Join(dir, "ledger.db"), ledger.Retention{Sent: time.Hour, Refused: time.Hour, Audit: time.Hour})
				if err != nil {
					b.Fatal(err)
				}
				sp, err := ledger.OpenSpool(filepath.Join(dir, "ledger.spool"), 256<<20)
				if err != nil {
					b.Fatal(err)
				}
				s := ledger.NewSpooled(l, sp)
				defer s.Close()
				o.Ledger, o.LedgerKey = s, ledgerKey
			}
			users := &fakeUsers{users: map[string]store.User{repEmail: {Email: repEmail, Role: store.RoleRep, SendAs: []string{"rep@acme.fr"}}}}
			srv, err := New(o, users, noLogin{}, newFakeForwarder(), discardLog())
			if err != nil {
				b.Fatal(err)
			}
			go srv.Serve()
			defer srv.Shutdown(context.Background())
			addr := srv.Addrs()[0].String()
			body := []byte(message("rep@acme.fr", "bench"))
			var led *sqlite.Ledger
			if on {
				led = o.Ledger.(*ledger.Spooled).Ledger.(*sqlite.Ledger)
			}
			var n atomic.Int64
			b.SetParallelism(10)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				c, err := smtp.Dial(addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer c.Close()
				for pb.Next() {
					if err := sendOne(c, fmt.Sprintf("r%d@firma.fr", n.Add(1)), body); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if led != nil {
				srv.outcomes.wait()
				b.ReportMetric(float64(led.Stats().Commits)/float64(b.N), "commits/msg")
			}
		})
	}
}

func sendOne(c *smtp.Client, rcpt string, body []byte) error {
	if err := c.Mail("rep@acme.fr", nil); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	return w.Close()
}
