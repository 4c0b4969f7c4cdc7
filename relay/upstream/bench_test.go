package upstream

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// nopDeliveries remembers nothing, so every iteration sends.
type nopDeliveries struct{}

func (nopDeliveries) Delivered(context.Context, string) (map[string]bool, error) { return nil, nil }
func (nopDeliveries) MarkDelivered(context.Context, string, string, time.Duration) error {
	return nil
}

// BenchmarkForward sends a 4 KB message to one recipient through a pooled
// connection to the in-process upstream.
func BenchmarkForward(b *testing.B) {
	up := startUpstream(b, nil, withDiscard())
	f := newTestForwarder(b, up, nopDeliveries{}, ForwarderOptions{}, nil)
	body := append([]byte("Subject: bench\r\n\r\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd\r\n"), 64)...)
	env := envelope("ann@example.com")
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if res := f.Forward(ctx, env, body); res[0].Err != nil {
			b.Fatal(res[0].Err)
		}
	}
	b.StopTimer()
	if n := up.connCount(); n != 1 {
		b.Fatalf("%d upstream connections, want 1", n)
	}
}
