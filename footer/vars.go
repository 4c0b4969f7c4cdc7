package footer

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Vars are the values a footer shows for one recipient. Together they make
// the notice GDPR Art. 14 asks for when the address was not collected from
// the person: who is writing (Art. 14(1)(a)), the contact for data
// protection (14(1)(b)), purpose and legal basis (14(1)(c)), the source
// (14(2)(f)) and the rights to access, erasure, objection and complaint
// (14(2)(c)-(e)), plus the opt-out link.
//
// Each is a Text, so whatever a value held on its way in (a rep's display
// name, a configuration file), the footer shows it on one line, in its
// logical order, with nothing hidden.
type Vars struct {
	Company        Text // required
	PostalAddress  Text // required; line breaks become ", "
	PrivacyURL     Text // required; absolute http or https URL
	PrivacyContact Text // optional: data protection contact or officer
	Source         Text // required: where the address was obtained
	Purpose        Text // required
	LegalBasis     Text // required, e.g. "legitimate interest (Art. 6(1)(f) GDPR)"
	UnsubscribeURL Text // required; absolute http or https URL
	RepName        Text // optional: the sales rep who wrote the message

	// Local holds, by language tag, the wording of Source, Purpose and
	// LegalBasis in that language; a footer in a language it lacks shows
	// the values above as written.
	Local map[string]Local
	// Retention is how long the address is kept after the last contact
	// (the send ledger's retention of sent decisions); 0 leaves the
	// sentence out. KeepsPhones says the CRM's phone numbers are kept too
	// (the lists match on them), so the notice names them.
	Retention   time.Duration
	KeepsPhones bool
}

// Local is the wording of the values that are prose, in one language.
type Local struct {
	Source, Purpose, LegalBasis Text
}

// localised returns v with the wording of lang (or its primary tag)
// where v.Local has it.
func (v Vars) localised(tag string) Vars {
	l, ok := v.Local[tag]
	if !ok {
		if primary, _, found := strings.Cut(tag, "-"); found {
			l, ok = v.Local[primary]
		}
	}
	if !ok {
		return v
	}
	for _, f := range []struct {
		dst *Text
		src Text
	}{{&v.Source, l.Source}, {&v.Purpose, l.Purpose}, {&v.LegalBasis, l.LegalBasis}} {
		if f.src.s != "" {
			*f.dst = f.src
		}
	}
	return v
}

// Text is a value fit for a footer: valid UTF-8 on one trimmed line, with
// no control character (C0, DEL, C1), no format character (Unicode Cf:
// the bidi embeddings, overrides and isolates such as U+202E that reorder
// what follows, zero-width characters, the soft hyphen) and no line or
// paragraph separator (U+2028, U+2029, U+0085). Line breaks of every kind
// join the lines with ", ", tabs become spaces. The only way to make one
// is NewText, so a value is cleaned once, where it enters, and a footer
// cannot be given one that was not.
type Text struct{ s string }

// NewText cleans s into a Text.
func NewText(s string) Text {
	var lines []string
	var b strings.Builder
	flush := func() {
		if l := strings.TrimSpace(b.String()); l != "" {
			lines = append(lines, l)
		}
		b.Reset()
	}
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case isLineBreak(r):
			flush()
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r):
		default:
			b.WriteRune(r)
		}
	}
	flush()
	return Text{s: strings.Join(lines, ", ")}
}

// isLineBreak reports whether r ends a line: LF, VT, FF, CR, NEL and the
// Unicode line and paragraph separators (Zl, Zp).
func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\v', '\f', '\r', '\u0085':
		return true
	}
	return unicode.In(r, unicode.Zl, unicode.Zp)
}

// String returns the cleaned value.
func (t Text) String() string { return t.s }

// values is what the templates see: plain strings, so that an optional
// value left empty is false in {{if}}.
type values struct {
	Company, PostalAddress, PrivacyURL, PrivacyContact   string
	Source, Purpose, LegalBasis, UnsubscribeURL, RepName string
	Retention                                            string // "3 years", in the footer's language; "" for none
	KeepsPhones                                          bool
}

// field is one Vars field as the checks see it.
type field struct {
	name     string
	value    string
	required bool
	url      bool
}

func (v Vars) fields() []field {
	return []field{
		{"Company", v.Company.s, true, false},
		{"PostalAddress", v.PostalAddress.s, true, false},
		{"PrivacyURL", v.PrivacyURL.s, true, true},
		{"PrivacyContact", v.PrivacyContact.s, false, false},
		{"Source", v.Source.s, true, false},
		{"Purpose", v.Purpose.s, true, false},
		{"LegalBasis", v.LegalBasis.s, true, false},
		{"UnsubscribeURL", v.UnsubscribeURL.s, true, true},
		{"RepName", v.RepName.s, false, false},
	}
}

// check returns what the templates see, or an error naming the first
// required variable that is empty or URL that is not absolute http(s).
func (v Vars) check() (values, error) {
	for _, f := range v.fields() {
		switch {
		case f.value == "" && f.required:
			return values{}, fmt.Errorf("footer: missing required variable %s", f.name)
		case f.value != "" && f.url:
			if err := checkURL(f.value); err != nil {
				return values{}, fmt.Errorf("footer: variable %s: %w", f.name, err)
			}
		}
	}
	return values{
		Company: v.Company.s, PostalAddress: v.PostalAddress.s, PrivacyURL: v.PrivacyURL.s,
		PrivacyContact: v.PrivacyContact.s, Source: v.Source.s, Purpose: v.Purpose.s,
		LegalBasis: v.LegalBasis.s, UnsubscribeURL: v.UnsubscribeURL.s, RepName: v.RepName.s,
		KeepsPhones: v.KeepsPhones,
	}, nil
}

// checkURL accepts absolute http and https URLs: a link a recipient can
// open, which html/template would not replace.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	return nil
}
