package caps

import (
	"context"
	"fmt"
)

// ForgetRecipient resets rcpt's counts in every cap that counts
// recipients, for an erasure request, and says in how many. The counts
// are keyed digests that would expire with each cap's window anyway.
func (c *Checker) ForgetRecipient(ctx context.Context, rcpt string) (int, error) {
	n := 0
	for _, r := range c.rules {
		if r.Scope != ScopeRecipient {
			continue
		}
		subject, err := Key(r, "", rcpt)
		if err != nil {
			return n, err
		}
		if err := c.Reset(ctx, r.Name, subject); err != nil {
			return n, fmt.Errorf("resetting cap %s: %w", r.Name, err)
		}
		n++
	}
	return n, nil
}
