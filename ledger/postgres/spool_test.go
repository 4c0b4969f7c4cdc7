package postgres

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testpg"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/ledger/ledgertest"
)

// PostgreSQL stops while decisions are being written, then comes back:
// after the replay every decision is in the ledger exactly once, with its
// outcome.
func TestSpoolAcrossOutage(t *testing.T) {
	srv := testpg.Start(t)
	ctx := context.Background()
	back, err := Open(ctx, srv.NewDatabase(t), ledgertest.DefaultRetention, ledgertest.Base)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ledger.OpenSpool(filepath.Join(t.TempDir(), "spool"), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	l := ledger.NewSpooled(back, sp)
	defer l.Close()

	const total = 300
	var written atomic.Int64
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		for i := range total {
			ref := fmt.Sprintf("R%03d", i)
			d := ledgertest.Decision(ref, i, time.Duration(i)*time.Millisecond, ledger.Allowed)
			wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			err := l.Record(wctx, []ledger.Decision{d})
			if err == nil {
				err = l.SetOutcome(wctx, ref, d.RcptDigest, ledger.Outcome{Kind: ledger.Sent, Reply: "250 ok"})
			}
			cancel()
			if err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
			written.Add(1)
		}
	}()
	waitFor(t, &written, 50)
	srv.Stop()
	waitFor(t, &written, 150)
	if !sp.Pending() {
		t.Fatal("the outage left nothing in the spool")
	}
	srv.Restart()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if _, err := l.Replay(ctx); err != nil {
		t.Fatal(err)
	}
	if sp.Pending() {
		t.Fatal("spool still pending after replay")
	}
	seen := map[string]int{}
	p := ledger.Query{Limit: 1000}
	page, err := l.Query(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range page.Decisions {
		seen[d.Ref]++
		if d.Outcome.Kind != ledger.Sent {
			t.Errorf("%s: outcome %q, want sent", d.Ref, d.Outcome.Kind)
		}
	}
	for i := range total {
		if ref := fmt.Sprintf("R%03d", i); seen[ref] != 1 {
			t.Errorf("%s recorded %d times, want once", ref, seen[ref])
		}
	}
	if len(page.Decisions) != total {
		t.Errorf("%d decisions, want %d", len(page.Decisions), total)
	}
}

func waitFor(t *testing.T, n *atomic.Int64, want int64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for n.Load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes after a minute, want %d", n.Load(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
