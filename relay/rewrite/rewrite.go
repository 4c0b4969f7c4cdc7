// Package rewrite inserts the privacy and opt-out footer into an outgoing
// message and sets its per-recipient headers, touching only the readable
// body and copying every other byte of the original verbatim.
package rewrite

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
)

// SignedPolicy says what happens to a signed or encrypted message, whose
// body must not change or the signature breaks (RFC 1847 §2.1, RFC 8551).
type SignedPolicy int

const (
	// HeadersOnly leaves the body alone and only sets the headers.
	HeadersOnly SignedPolicy = iota
	// Refuse makes Parse return ErrSigned.
	Refuse
)

const (
	// DefaultMaxDepth bounds multipart nesting when Options.MaxDepth is 0.
	DefaultMaxDepth = 20
	// DefaultMaxParts bounds the MIME entities of a message when
	// Options.MaxParts is 0: far more than mail clients write, and few
	// enough that the parsed tree stays a few megabytes.
	DefaultMaxParts = 10000
	// MarkerHeader is the header field Render adds to a message it footed.
	// Mail clients build new headers for a reply or a forward, so a footer
	// quoted or forwarded in a later message never counts as ours, whatever
	// the client's quoting style.
	MarkerHeader = "Dncgate-Footer"
	// HTMLMarker precedes the footer inside the HTML body, so a reader of
	// the source (or a later tool) can tell where our footer starts.
	HTMLMarker = "<!-- dncgate-footer -->"
)

// ErrSigned is returned by Parse under the Refuse policy for a message whose
// top level is multipart/signed, multipart/encrypted or S/MIME
// application/pkcs7-mime.
var ErrSigned = errors.New("rewrite: message is signed or encrypted; its body cannot be changed")

// ErrTooManyParts is returned by Parse when a message holds more than
// Options.MaxParts MIME entities.
var ErrTooManyParts = errors.New("rewrite: too many MIME parts")

// ErrTooLarge is returned by Render when the copy would be more than
// Allowance bytes larger than the message.
var ErrTooLarge = errors.New("rewrite: the footed copy would pass the size allowance")

// ErrTooDeep is returned by Parse when multiparts nest deeper than
// Options.MaxDepth.
var ErrTooDeep = errors.New("rewrite: multipart nesting too deep")

// Options tune Parse.
type Options struct {
	Signed   SignedPolicy // what to do with signed and encrypted messages
	MaxDepth int          // multipart nesting bound; 0 means DefaultMaxDepth
	MaxParts int          // MIME entities bound; 0 means DefaultMaxParts
	// Rand feeds a generated Message-ID and MIME boundaries; nil means
	// crypto/rand. Tests pass a fixed stream for reproducible output.
	Rand io.Reader
}

// Footer is what goes into the readable body for one recipient.
type Footer struct {
	Text string // plain-text footer in UTF-8, already rendered
	// HTML is an HTML fragment, already rendered and escaped by the caller.
	// When empty, the HTML body gets Text, escaped, with line breaks kept.
	HTML string
}

// Header is one header field to set on the message.
type Header struct{ Key, Value string }

// Message is a parsed message, ready to be rendered for each recipient.
// It is not changed after Parse, so Render may run for several recipients
// at once.
type Message struct {
	raw       *source
	top       *part
	leaves    []*leaf
	signed    bool
	footed    bool
	messageID string // generated when the message has none, else ""
	appendix  *appendix
}

// Parse reads the message once: its header, its MIME tree and the readable
// bodies the footer goes into. It keeps the raw bytes, which Render copies
// verbatim for every part it does not change, so Parse must be given a
// slice that is not modified afterwards.
func Parse(raw []byte, o Options) (*Message, error) {
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	raw = normalizeLineEnds(raw)
	top, err := parseTree(raw, o.MaxDepth, o.MaxParts)
	if err != nil {
		return nil, err
	}
	m := &Message{raw: &source{b: raw}, top: top, signed: protected(raw, top), footed: top.has(markerName)}
	if m.signed && o.Signed == Refuse {
		return nil, ErrSigned
	}
	if !top.has("message-id") {
		if m.messageID, err = newMessageID(o.Rand, top); err != nil {
			return nil, err
		}
	}
	if !m.signed {
		if err := m.prepareBodies(o.Rand); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// prepareBodies finds the readable bodies and decodes them once; when there
// is none, or an alternative a reader would show cannot be footed, it
// prepares a separate footer part as well.
func (m *Message) prepareBodies(r io.Reader) error {
	sel := selection{raw: m.raw.b}
	for _, p := range sel.readable(m.top) {
		m.leaves = append(m.leaves, newLeaf(m.raw, p))
	}
	if len(m.leaves) > 0 && !sel.shadowed {
		return nil
	}
	a, err := newAppendix(m.raw.b, m.top, r)
	if err != nil {
		return fmt.Errorf("rewrite: footer part: %w", err)
	}
	m.appendix = a
	return nil
}

// Footed reports whether the message already went through the gateway: its
// top-level header carries MarkerHeader. Render does not foot it again.
func (m *Message) Footed() bool { return m.footed }

// Signed reports whether the message is signed or encrypted at its top
// level, so that Render only sets headers.
func (m *Message) Signed() bool { return m.signed }

// MessageID returns the Message-ID Render adds because the message has
// none, or "" when it has one. Every recipient's copy gets the same one.
func (m *Message) MessageID() string { return m.messageID }

// source is the original message, with what is learnt of it on demand.
type source struct {
	b         []byte // line endings made CRLF
	eightOnce sync.Once
	eight     bool
}

// has8bit reports whether any byte of the message is above 127. A message
// without one may travel with BODY=7BIT (RFC 6152 §2), so the rewrite must
// not add one, even to a part labelled 8bit.
func (s *source) has8bit() bool {
	s.eightOnce.Do(func() { s.eight = !isASCII(s.b) })
	return s.eight
}
