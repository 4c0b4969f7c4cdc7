package stamp

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signs each copy after the rewrite (RFC 6376), for a company whose
// upstream does not sign. Receivers offer one-click unsubscribe only when
// a valid signature covers both List-Unsubscribe fields (RFC 8058 §4).
type DKIM struct {
	Domain   string
	Selector string
	Signer   crypto.Signer // *rsa.PrivateKey or ed25519.PrivateKey
}

// signedHeaders are the fields the signature covers (RFC 6376 §5.4.1's
// advice, plus the two unsubscribe fields). A field named here but absent
// from a copy is signed as absent, so it cannot be added later.
var signedHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version",
	"Content-Type", "List-Unsubscribe", "List-Unsubscribe-Post",
}

func (d *DKIM) check() error {
	switch {
	case d.Domain == "" || d.Selector == "":
		return errors.New("stamp: DKIM needs a domain and a selector")
	case d.Signer == nil:
		return errors.New("stamp: DKIM needs a key")
	}
	return nil
}

// sign returns msg with a DKIM-Signature field on top, or msg itself when
// signing is off. Relaxed canonicalisation (RFC 6376 §3.4.2, §3.4.4)
// survives the header refolding and trailing-space trimming some relays
// do on the way.
func (s *Stamper) sign(msg []byte) ([]byte, error) {
	d := s.o.DKIM
	if d == nil {
		return msg, nil
	}
	signer, err := dkim.NewSigner(&dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 d.Signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("stamp: DKIM: %w", err)
	}
	if _, err := signer.Write(msg); err != nil {
		signer.Close()
		return nil, fmt.Errorf("stamp: DKIM: %w", err)
	}
	if err := signer.Close(); err != nil {
		return nil, fmt.Errorf("stamp: DKIM: %w", err)
	}
	sig := signer.Signature()
	var out bytes.Buffer
	out.Grow(len(sig) + len(msg))
	out.WriteString(sig)
	out.Write(msg)
	return out.Bytes(), nil
}
