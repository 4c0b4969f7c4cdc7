package upstream

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

// Envelope is one accepted message's SMTP envelope.
type Envelope struct {
	From     string
	MailOpts smtp.MailOptions // BODY, SMTPUTF8, REQUIRETLS, RET, ENVID, SIZE
	Rcpts    []Rcpt
	Ref      string // transaction reference, for logs
	// Transform, when set, returns one recipient's copy of this message
	// (footer, unsubscribe headers) in place of ForwarderOptions.Transform.
	Transform func(rcpt string, body []byte) ([]byte, error)
	// ReturnPath, when set, returns one recipient's envelope sender in
	// place of From ("" keeps From), so that its bounce names its copy.
	ReturnPath func(rcpt string) string
}

// Rcpt is one recipient with its RCPT parameters (NOTIFY, ORCPT).
type Rcpt struct {
	Addr string
	Opts smtp.RcptOptions
}

// Result is the outcome for one recipient, in the order of Envelope.Rcpts.
type Result struct {
	Rcpt    string
	Err     error // nil = accepted upstream (or already delivered earlier); else an *smtpreply.Error
	Already bool  // skipped: an earlier attempt of the same message delivered it
}

// Deliveries remembers which recipients of a message the upstream accepted.
// The store satisfies it.
type Deliveries interface {
	Delivered(ctx context.Context, msg string) (map[string]bool, error)
	MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error
}

// ForwarderOptions tune a Forwarder; zero fields take the defaults.
type ForwarderOptions struct {
	// Transform returns the body for one recipient (the footer goes in
	// here); nil sends the body unchanged. It must not modify body, which
	// the other recipients share. An *smtpreply.Error it returns becomes that
	// recipient's result; any other error a temporary 451 4.3.0.
	Transform func(rcpt string, body []byte) ([]byte, error)
	// DigestKey keys the digests written to the store, so that a dump of
	// the store does not reveal who was written to.
	DigestKey []byte
	// Remember is how long a delivered mark lasts. Default 72h, longer
	// than clients keep retrying a message in practice.
	Remember time.Duration
	// Parallel is how many recipients are sent at once. Default 4.
	Parallel int
	// StoreTimeout bounds each store call. Default 5s.
	StoreTimeout time.Duration
	// Now is the clock used to time each send; default time.Now.
	Now func() time.Time
	// Metrics times each recipient's transaction; nil times none.
	Metrics *Metrics
}

func (o ForwarderOptions) withDefaults() ForwarderOptions {
	o.Remember = orDefault(o.Remember, 72*time.Hour)
	o.StoreTimeout = orDefault(o.StoreTimeout, 5*time.Second)
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Forwarder sends a message to each recipient in its own upstream
// transaction, so that each can get its own body and its own outcome, and
// skips the recipients an earlier attempt of the same message reached.
type Forwarder struct {
	t   Target
	d   Deliveries
	o   ForwarderOptions
	log *slog.Logger
}

// NewForwarder returns a Forwarder sending to t and recording in d. A nil
// log discards.
func NewForwarder(t Target, d Deliveries, o ForwarderOptions, log *slog.Logger) *Forwarder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Forwarder{t: t, d: d, o: o.withDefaults(), log: log}
}

// Forward sends body to every recipient of env and returns one Result per
// recipient, in order. Nothing is sent when the delivered marks cannot be
// read: sending unchecked could deliver twice.
func (f *Forwarder) Forward(ctx context.Context, env Envelope, body []byte) []Result {
	res := make([]Result, len(env.Rcpts))
	if len(res) == 0 {
		return res
	}
	for i, r := range env.Rcpts {
		res[i].Rcpt = r.Addr
	}
	msg := f.msgKey(env.From, body)
	done, err := f.delivered(ctx, msg)
	if err != nil {
		f.failAll(env.Ref, res, smtpreply.New(smtpreply.Local, smtpreply.StoreError, "delivery records unavailable, try again later", err))
		return res
	}
	f.fanOut(ctx, env, body, msg, done, res)
	return res
}

func (f *Forwarder) delivered(ctx context.Context, msg string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.StoreTimeout)
	defer cancel()
	return f.d.Delivered(ctx, msg)
}

func (f *Forwarder) failAll(ref string, res []Result, err *smtpreply.Error) {
	for i := range res {
		res[i].Err = err
		f.logOutcome(ref, res[i], 0)
	}
}

// fanOut sends to each recipient not yet delivered, Parallel at a time. A
// recipient listed twice is sent once and shares the outcome.
func (f *Forwarder) fanOut(ctx context.Context, env Envelope, body []byte, msg string, done map[string]bool, res []Result) {
	first := make(map[string]int, len(env.Rcpts))
	var dups [][2]int
	sem := make(chan struct{}, f.o.Parallel)
	var wg sync.WaitGroup
	for i, r := range env.Rcpts {
		key := f.rcptKey(r.Addr)
		if done[key] {
			res[i].Already = true
			f.logOutcome(env.Ref, res[i], 0)
			continue
		}
		if j, ok := first[key]; ok {
			dups = append(dups, [2]int{i, j})
			continue
		}
		first[key] = i
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			res[i].Err = f.one(ctx, env, msg, key, r, body)
		})
	}
	wg.Wait()
	for _, d := range dups {
		res[d[0]].Err = res[d[1]].Err
	}
}

// one sends to one recipient and records the delivery.
func (f *Forwarder) one(ctx context.Context, env Envelope, msg, key string, r Rcpt, body []byte) error {
	start := f.o.Now()
	err := f.send(ctx, env, r, body)
	f.o.Metrics.sent(f.o.Now().Sub(start), err)
	if err == nil {
		f.mark(ctx, env.Ref, msg, key, r.Addr)
	}
	f.logOutcome(env.Ref, Result{Rcpt: r.Addr, Err: err}, f.o.Now().Sub(start))
	return err
}

func (f *Forwarder) send(ctx context.Context, env Envelope, r Rcpt, body []byte) error {
	b, err := f.transform(env, r.Addr, body)
	if err != nil {
		return err
	}
	mo := env.MailOpts
	from := env.From
	if env.ReturnPath != nil {
		if rp := env.ReturnPath(r.Addr); rp != "" {
			from = rp
		}
	}
	if err := f.t.Send(ctx, from, &mo, r, b); err != nil {
		return asError(err, "upstream failed")
	}
	return nil
}

func (f *Forwarder) transform(env Envelope, rcpt string, body []byte) ([]byte, error) {
	tf := env.Transform
	if tf == nil {
		tf = f.o.Transform
	}
	if tf == nil {
		return body, nil
	}
	b, err := tf(rcpt, body)
	if err != nil {
		return nil, asError(err, "message could not be prepared")
	}
	return b, nil
}

// asError keeps an *smtpreply.Error and makes anything else a temporary
// local error.
func asError(err error, msg string) error {
	var e *smtpreply.Error
	if errors.As(err, &e) {
		return e
	}
	return temporary(smtpreply.Local, msg, err)
}

// mark records the delivery even when ctx ends just after the upstream
// accepted: the mark is what keeps a client retry from sending again.
func (f *Forwarder) mark(ctx context.Context, ref, msg, key, addr string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.o.StoreTimeout)
	defer cancel()
	if err := f.d.MarkDelivered(ctx, msg, key, f.o.Remember); err != nil {
		f.log.Error("delivered but not recorded: a client retry would send it again",
			"ref", ref, "rcpt", lists.MaskEmail(addr), "err", lists.MaskEmails(err.Error()))
	}
}

// logOutcome writes one line per recipient, the address masked.
func (f *Forwarder) logOutcome(ref string, r Result, took time.Duration) {
	level, code := slog.LevelInfo, smtpreply.CodeOK
	var e *smtpreply.Error
	if errors.As(r.Err, &e) {
		level, code = slog.LevelWarn, e.Code
	}
	attrs := []slog.Attr{slog.String("ref", ref), slog.String("rcpt", lists.MaskEmail(r.Rcpt)), slog.Int("code", code),
		slog.Bool("already", r.Already), slog.Duration("took", took)}
	if e != nil {
		attrs = append(attrs, slog.String("err", lists.MaskEmails(e.Error())))
	}
	f.log.LogAttrs(context.Background(), level, "forward", attrs...)
}

// msgKey identifies a message by its sender and exact bytes: a client that
// retries sends the same ones. The length prefix keeps (from, body) pairs
// from running together.
func (f *Forwarder) msgKey(from string, body []byte) string {
	h := hmac.New(sha256.New, f.o.DigestKey)
	h.Write([]byte("msg\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(from))))
	h.Write([]byte(from))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// rcptKey identifies a recipient by the one normalised form of the person
// (lists.NormaliseEmail), so that a retry naming them another way does not
// send a second copy. The gateway forwards no address without that form
// (its recipient check refuses them); for other callers such an address
// names its marker lower-cased, a key of that one spelling.
func (f *Forwarder) rcptKey(addr string) string {
	who, err := lists.NormaliseEmail(addr)
	if err != nil {
		who = strings.ToLower(addr)
	}
	h := hmac.New(sha256.New, f.o.DigestKey)
	h.Write([]byte("rcpt\x00"))
	h.Write([]byte(who))
	return hex.EncodeToString(h.Sum(nil))
}
