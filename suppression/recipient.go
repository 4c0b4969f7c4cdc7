package suppression

import (
	"strings"
)

// RecipientType is who a recipient is, as far as prospecting rules care.
type RecipientType string

const (
	Consumer   RecipientType = "consumer"
	SoleTrader RecipientType = "sole-trader"
	Business   RecipientType = "business" // a named person at a company
	Role       RecipientType = "role"     // a generic business address: info@, sales@
)

// recipientTypes lists every type, in the order messages name them.
var recipientTypes = []RecipientType{Consumer, SoleTrader, Business, Role}

// ParseRecipientType reads a contact's type: "consumer", "sole-trader"
// (or "sole_trader"), "business" or "role", in any case.
func ParseRecipientType(s string) (RecipientType, bool) {
	t := RecipientType(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-"))
	for _, known := range recipientTypes {
		if t == known {
			return t, true
		}
	}
	return "", false
}

// Type returns the recipient's type. A contact's type wins when it is one:
// a business contact whose local part is a generic one is Role, since the
// mailbox is shared whoever the contact is. Without one, the address
// decides: a consumer mailbox domain or any subdomain of one gives
// Consumer, a generic local part Role, anything else Business.
//
// Subdomains count as the provider's: they are run by the provider, never
// by the customer, and reading them as consumer mailboxes errs on the side
// of asking for consent. A consumer domain wins over a generic local part:
// info@gmail.com is somebody's own mailbox.
//
// local and domain are the normalised address parts (lower case, ASCII
// domain); a +tag on the local part is ignored.
func (p *Policy) Type(contactType, local, domain string) RecipientType {
	isRole := p.roles[baseLocal(local)]
	if t, ok := ParseRecipientType(contactType); ok {
		if t == Business && isRole {
			return Role
		}
		return t
	}
	switch {
	case p.isConsumerDomain(domain):
		return Consumer
	case isRole:
		return Role
	}
	return Business
}

// baseLocal drops a +tag (RFC 5233 subaddress): sales+fr@ is still sales@.
func baseLocal(local string) string {
	base, _, _ := strings.Cut(strings.ToLower(local), "+")
	return base
}

// isConsumerDomain reports whether domain or one of its parent domains is
// a consumer mailbox domain.
func (p *Policy) isConsumerDomain(domain string) bool {
	d := strings.TrimSuffix(strings.ToLower(domain), ".")
	for d != "" {
		if p.consumer[d] {
			return true
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok {
			return false
		}
		d = parent
	}
	return false
}

// consumerDomains are mailbox providers for private people in the
// countries the presets cover. A company domain never belongs here: the
// list decides that a recipient is a consumer, which most presets protect.
func consumerDomains() []string {
	return []string{
		// International.
		"gmail.com", "googlemail.com", "icloud.com", "me.com", "mac.com",
		"outlook.com", "outlook.fr", "outlook.de", "outlook.es", "outlook.it", "outlook.be", "outlook.co.uk",
		"hotmail.com", "hotmail.fr", "hotmail.de", "hotmail.es", "hotmail.it", "hotmail.be", "hotmail.nl", "hotmail.co.uk",
		"live.com", "live.fr", "live.de", "live.it", "live.be", "live.nl", "live.co.uk", "msn.com",
		"yahoo.com", "yahoo.fr", "yahoo.de", "yahoo.es", "yahoo.it", "yahoo.co.uk", "ymail.com",
		"aol.com", "aol.fr", "aol.de", "proton.me", "protonmail.com", "gmx.com", "mail.com",
		// France.
		"orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr", "numericable.fr", "club-internet.fr",
		// Germany.
		"web.de", "gmx.de", "gmx.net", "t-online.de", "freenet.de", "arcor.de", "posteo.de", "mailbox.org",
		// Spain.
		"telefonica.net", "movistar.es", "terra.es", "ono.com",
		// Italy.
		"libero.it", "virgilio.it", "tiscali.it", "alice.it", "tim.it", "fastwebnet.it", "email.it",
		// Belgium.
		"skynet.be", "telenet.be", "proximus.be", "scarlet.be",
		// Netherlands.
		"ziggo.nl", "kpnmail.nl", "kpnplanet.nl", "planet.nl", "home.nl", "xs4all.nl", "hetnet.nl", "chello.nl",
		// United Kingdom.
		"btinternet.com", "sky.com", "virginmedia.com", "talktalk.net", "ntlworld.com", "blueyonder.co.uk", "tiscali.co.uk",
	}
}

// roleLocalParts are local parts of shared business mailboxes, in the
// languages of the presets' countries.
func roleLocalParts() []string {
	return []string{
		"info", "contact", "sales", "hello", "office", "admin", "support", "team",
		"enquiries", "inquiries", "marketing", "accounts", "billing", "help", "mail",
		"reception", "press", "jobs", "careers", "hr", "service", "customerservice",
		"bonjour", "commercial", "accueil", "secretariat", "compta", "direction", // fr
		"kontakt", "vertrieb", "buero", "verwaltung", "anfrage", // de
		"ventas", "hola", "contacto", "administracion", "oficina", // es
		"vendite", "ciao", "amministrazione", "ufficio", "segreteria", // it
		"verkoop", "hallo", "receptie", "administratie", // nl
	}
}
