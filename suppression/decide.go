package suppression

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// Lists is what the check needs of the list store.
type Lists interface {
	Lists(ctx context.Context) ([]listdb.Info, error)
	Lookup(ctx context.Context, probes []listdb.Probe) ([]listdb.Answer, error)
}

// Contacts finds a recipient's CRM contact by the keyed digest of the
// address.
type Contacts interface {
	Contact(ctx context.Context, email listdb.Digest) (contactdb.Contact, bool, error)
}

// Options configure a Checker.
type Options struct {
	Lists    Lists
	Contacts Contacts // nil: no contacts; phone lists then match nothing
	Policy   *Policy
	Key      []byte // the digest key the lists were imported with
	// Recipients is the rule of what may be a recipient; nil refuses every
	// address a mail server could reroute, at every domain.
	Recipients *lists.Recipients
	// ListsFor is how long the lists' descriptions are reused before they
	// are read again: a new list or version is noticed within this time.
	// Entries are never cached. Default 1s.
	ListsFor time.Duration
}

// Checker makes the recipient decision. It is safe for concurrent use.
type Checker struct {
	o     Options
	keyer *listdb.Keyer
	metas *metaCache
}

const defaultListsFor = time.Second

// New returns a Checker.
func New(o Options) (*Checker, error) {
	if o.Lists == nil || o.Policy == nil {
		return nil, errors.New("suppression: a checker needs lists and a policy")
	}
	if len(o.Key) == 0 {
		return nil, errors.New("suppression: a checker needs the digest key")
	}
	if o.ListsFor <= 0 {
		o.ListsFor = defaultListsFor
	}
	return &Checker{o: o, keyer: listdb.NewKeyer(o.Key), metas: &metaCache{src: o.Lists, ttl: o.ListsFor}}, nil
}

// Decide returns the verdict for mail from sender to rcpt at now. An error
// means the store could not answer: the caller must not send (a temporary
// failure), never treat it as allowed. sender is recorded by the caller
// with the verdict; the decision does not depend on it today.
func (c *Checker) Decide(ctx context.Context, sender, rcpt string, now time.Time) (Verdict, error) {
	norm, v, ok := normalise(c.o.Recipients, rcpt)
	if !ok {
		return v, nil
	}
	r := newProbeKeys(c.keyer, norm)
	v, err := c.classify(ctx, r, now)
	if err != nil {
		return Verdict{}, err
	}
	if v.Rule.Action == Refuse {
		return refusedByPolicy(v), nil
	}
	infos, err := c.metas.get(ctx, now)
	if err != nil {
		return Verdict{}, fmt.Errorf("reading the lists: %w", err)
	}
	gov := governing(infos, v, now)
	answers, err := c.lookup(ctx, r, gov)
	if err != nil {
		return Verdict{}, err
	}
	return judge(v, gov, answers, now), nil
}

// normalise returns the key of rcpt, or the refusal of an address no list
// could be checked against or a mail server could reroute (its text is
// then the reason alone: the address itself is refused).
func normalise(r *lists.Recipients, rcpt string) (string, Verdict, bool) {
	norm, err := r.Normalise(rcpt)
	if err == nil {
		return norm, Verdict{}, true
	}
	text := "not a plain e-mail address"
	var ve *lists.ValueError
	if errors.As(err, &ve) {
		text = ve.Reason
	}
	if !errors.Is(err, lists.ErrReroutable) {
		text = "cannot be checked: " + text
	}
	return "", Verdict{Outcome: Refused, Code: CodeAddress, Text: text}, false
}

// classify finds the recipient's contact, country, type and the policy
// rule in force for them.
func (c *Checker) classify(ctx context.Context, r *probeKeys, now time.Time) (Verdict, error) {
	var ct contactdb.Contact
	if c.o.Contacts != nil {
		found, err := false, error(nil)
		ct, found, err = c.o.Contacts.Contact(ctx, r.email())
		if err != nil {
			return Verdict{}, fmt.Errorf("reading the contact: %w", err)
		}
		if !found {
			ct = contactdb.Contact{}
		}
	}
	r.phones = ct.Phones
	var v Verdict
	v.Country, v.CountryFrom = c.o.Policy.Country(ct.Country, r.domain)
	v.Language = ct.Language
	v.Type = c.o.Policy.Type(ct.Type, r.local, r.domain)
	v.Rule = c.o.Policy.Rule(v.Country, v.Type, now)
	return v, nil
}
