package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/mail"
	"strings"
	"time"
)

const (
	// sentPrefix names the store entries of sent Message-IDs apart from the
	// forwarder's delivered marks, whose names are bare hex digests.
	sentPrefix = "sent-id:"
	sentMark   = "sent"
	// idDigestLen is how many bytes of HMAC-SHA256 name one Message-ID.
	idDigestLen = 16
	// maxReplyIDs bounds the ids of one In-Reply-To looked up in the store.
	maxReplyIDs = 8
)

// SentIDs remembers the Message-IDs the gateway forwarded, under keyed
// digests. store.Deliveries serves: a sent id is one mark, expiring
// after its ttl, under a name no delivered mark takes.
type SentIDs interface {
	Delivered(ctx context.Context, msg string) (map[string]bool, error)
	MarkDelivered(ctx context.Context, msg, rcpt string, ttl time.Duration) error
}

// Replies is the exemption of replies from the caps. All outbound mail
// passes through the gateway, so a message whose In-Reply-To names no
// Message-ID the gateway sent answers mail the prospect wrote: it is not
// prospecting, and its cap slots are released rather than committed.
type Replies struct {
	Sent   SentIDs       // nil: no id is recorded and no reply is exempted
	Key    []byte        // digest key of the recorded ids; required with Sent
	Keep   time.Duration // how long a sent id is remembered: the longest cap window
	Exempt bool          // exempt replies; else ids are only recorded
}

func (r Replies) validate() error {
	switch {
	case r.Sent == nil && r.Exempt:
		return errors.New("relay: Replies.Exempt needs Replies.Sent")
	case r.Sent == nil:
		return nil
	case len(r.Key) == 0:
		return errors.New("relay: Replies.Sent needs a digest key")
	case r.Keep <= 0:
		return errors.New("relay: Replies.Keep must be positive")
	}
	return nil
}

// idDigest is the store's name for a Message-ID.
func (r Replies) idDigest(id string) string {
	m := hmac.New(sha256.New, r.Key)
	m.Write([]byte("message-id\x00" + id))
	return sentPrefix + hex.EncodeToString(m.Sum(nil)[:idDigestLen])
}

// msgIDs returns the message's own id and the ids its In-Reply-To names
// (RFC 5322 §3.6.4), without their angle brackets.
func msgIDs(body []byte) (own string, inReplyTo []string) {
	msg, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		return "", nil
	}
	if ids := angleIDs(msg.Header.Get("Message-Id"), 1); len(ids) == 1 {
		own = ids[0]
	}
	return own, angleIDs(msg.Header.Get("In-Reply-To"), maxReplyIDs)
}

// angleIDs returns up to max "<id>" tokens of v, brackets removed. Text
// outside brackets (comments, obsolete phrases, RFC 5322 §4.5.4) is skipped.
func angleIDs(v string, max int) []string {
	var ids []string
	for len(ids) < max {
		open := strings.IndexByte(v, '<')
		if open < 0 {
			break
		}
		end := strings.IndexByte(v[open:], '>')
		if end < 0 {
			break
		}
		if id := strings.TrimSpace(v[open+1 : open+end]); id != "" {
			ids = append(ids, id)
		}
		v = v[open+end+1:]
	}
	return ids
}

// isExemptReply reports whether the message answers mail the recipient
// wrote: exemption is on, it names ids in In-Reply-To, and the gateway sent
// none of them. A store failure counts the message: caps fail closed.
func (s *session) isExemptReply(ctx context.Context, inReplyTo []string) bool {
	r := s.opts.Replies
	if !r.Exempt || len(inReplyTo) == 0 || s.opts.Caps == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, capStoreTimeout)
	defer cancel()
	for _, id := range inReplyTo {
		marks, err := r.Sent.Delivered(ctx, r.idDigest(id))
		if err != nil {
			s.log.Warn("reply lookup failed; the message counts", "err", err.Error())
			return false
		}
		if marks[sentMark] {
			return false
		}
	}
	return true
}

// rememberSent records the id of a message the upstream accepted for at
// least one recipient, so replies to it are told from replies to the
// prospect's own mail.
func (s *session) rememberSent(ctx context.Context, ref, id string, v verdict) {
	r := s.opts.Replies
	if r.Sent == nil || id == "" || v.delivered == 0 {
		return
	}
	s.capCall(ctx, ref, "sent-id record", func(ctx context.Context) error {
		return r.Sent.MarkDelivered(ctx, r.idDigest(id), sentMark, r.Keep)
	})
}
