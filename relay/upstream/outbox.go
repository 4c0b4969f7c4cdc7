package upstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// Header fields the outbox prepends to each file so that the envelope, which
// is not part of the message, can be seen (cf. Return-Path, RFC 5321 §4.4).
const (
	HeaderEnvelopeFrom = "X-Dncgate-Envelope-From"
	HeaderEnvelopeTo   = "X-Dncgate-Envelope-To"
)

// outboxTimeLayout sorts as text in time order: fixed width, UTC.
const outboxTimeLayout = "20060102T150405.000000000Z"

// outbox writes each message, once per recipient, as a file
// DIR/<UTC time>-<random>.eml: the two envelope header fields above, then
// the body exactly as given. It lets the gateway be tried without a mail
// server.
type outbox struct {
	dir string
	now func() time.Time
}

func newOutbox(dir string, now func() time.Time) (*outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("upstream outbox: %w", err)
	}
	return &outbox{dir: dir, now: now}, nil
}

func (o *outbox) Send(ctx context.Context, from string, _ *smtp.MailOptions, rcpt Rcpt, body []byte) error {
	if err := ctx.Err(); err != nil {
		return fromTransport(err, false)
	}
	if hasLineBreak(from) || hasLineBreak(rcpt.Addr) {
		return permanent(smtpreply.BadParam, "address contains a line break")
	}
	env := fmt.Sprintf("%s: <%s>\r\n%s: <%s>\r\n", HeaderEnvelopeFrom, from, HeaderEnvelopeTo, rcpt.Addr)
	if err := PassGate(ctx); err != nil {
		return err
	}
	if err := o.write(o.name(), []byte(env), body); err != nil {
		return temporary(smtpreply.Local, "outbox write failed", err)
	}
	return nil
}

func (o *outbox) Close() error { return nil }

func (o *outbox) name() string {
	var r [8]byte
	rand.Read(r[:])
	return o.now().UTC().Format(outboxTimeLayout) + "-" + hex.EncodeToString(r[:]) + ".eml"
}

// write fills a hidden temporary file and renames it into place, so that a
// reader listing *.eml never sees half a message.
func (o *outbox) write(name string, parts ...[]byte) (err error) {
	f, err := os.CreateTemp(o.dir, ".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	for _, p := range parts {
		if _, err = f.Write(p); err != nil {
			return err
		}
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), filepath.Join(o.dir, name)); err != nil {
		return err
	}
	syncDir(o.dir)
	return nil
}

// syncDir makes the rename durable. Best effort: the file is in place
// either way, and some systems cannot sync a directory.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
