package upstream

import "context"

// Gate is what must hold before a copy is committed at the upstream: the
// send ledger's records of the message being durable. The SMTP target
// sends the envelope and the body while it waits, and calls the gate only
// before the final dot (RFC 5321 §4.1.1.4), the point from which the
// upstream holds the copy; the outbox calls it before the file is named.
// An error aborts the copy uncommitted (the SMTP connection is closed
// mid-DATA, so the upstream discards it) and becomes its result. A gate
// is called once per copy, from several goroutines at once.
type Gate func(ctx context.Context) error

type gateKey struct{}

// WithGate returns ctx carrying g for every Send under it.
func WithGate(ctx context.Context, g Gate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// PassGate runs the gate ctx carries, if any: a Target calls it before it
// commits a copy.
func PassGate(ctx context.Context) error {
	g, _ := ctx.Value(gateKey{}).(Gate)
	if g == nil {
		return nil
	}
	return g(ctx)
}
