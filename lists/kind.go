package lists

import (
	"fmt"
	"strings"
)

// Kind is the kind of key a list holds.
type Kind uint8

// The kinds of key. The hashed kinds hold the hex digest of a normalised
// e-mail address, the form national and commercial lists are shared in
// when the provider will not hand out addresses.
const (
	KindEmail Kind = iota + 1
	KindDomain
	KindPhone
	KindEmailSHA256
	KindEmailSHA1
	KindEmailMD5
)

var kindNames = map[Kind]string{
	KindEmail:       "email",
	KindDomain:      "domain",
	KindPhone:       "phone",
	KindEmailSHA256: "email-sha256",
	KindEmailSHA1:   "email-sha1",
	KindEmailMD5:    "email-md5",
}

// kindList is the order kinds are listed in in messages.
const kindList = "email, domain, phone, email-sha256, email-sha1 or email-md5"

// ParseKind reads a kind by its name ("email", "phone", "email-sha256", …).
func ParseKind(s string) (Kind, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for k, n := range kindNames {
		if n == name {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown list kind %q; want %s", s, kindList)
}

// String returns the kind's name as ParseKind reads it.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// MarshalText makes a Kind readable in configuration and JSON.
func (k Kind) MarshalText() ([]byte, error) {
	if _, ok := kindNames[k]; !ok {
		return nil, fmt.Errorf("unknown list kind %d", uint8(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a Kind by its name.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Hashed reports whether the kind holds digests of e-mail addresses.
func (k Kind) Hashed() bool {
	return k == KindEmailSHA256 || k == KindEmailSHA1 || k == KindEmailMD5
}

// ValueError says why a value is not a valid key of its kind. Reason is
// short and names no personal data, so it can go in a log or an import
// report beside the line number.
type ValueError struct {
	Kind   Kind
	Reason string
	err    error // a sentinel such as ErrReroutable, or nil
}

func (e *ValueError) Error() string {
	return "invalid " + e.Kind.String() + ": " + e.Reason
}

// Unwrap returns the sentinel the error is a case of, if any.
func (e *ValueError) Unwrap() error { return e.err }

func invalid(k Kind, reason string) error {
	return &ValueError{Kind: k, Reason: reason}
}

// Normaliser turns values of one kind into the keys a list stores, so an
// importer can hold one per file and call it for each row.
type Normaliser struct {
	kind  Kind
	phone *PhoneNormaliser
}

// NewNormaliser returns the normaliser for kind k. region is the list's
// country (ISO 3166 alpha-2, "UK" read as "GB"), the default region that
// national phone numbers are read in; it may be empty, and only phone lists
// use it.
func NewNormaliser(k Kind, region string) (*Normaliser, error) {
	if _, ok := kindNames[k]; !ok {
		return nil, fmt.Errorf("unknown list kind %d", uint8(k))
	}
	n := &Normaliser{kind: k}
	if k == KindPhone {
		p, err := NewPhoneNormaliser(region)
		if err != nil {
			return nil, err
		}
		n.phone = p
	}
	return n, nil
}

// Kind returns the kind of key the normaliser produces.
func (n *Normaliser) Kind() Kind { return n.kind }

// Normalise returns the key for v, or a *ValueError saying why v is not a
// valid value of the kind.
func (n *Normaliser) Normalise(v string) (string, error) {
	switch n.kind {
	case KindEmail:
		return NormaliseEmail(v)
	case KindDomain:
		return NormaliseDomain(v)
	case KindPhone:
		return n.phone.Normalise(v)
	default:
		return NormaliseHash(n.kind, v)
	}
}
