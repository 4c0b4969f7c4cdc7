package footer

import (
	"fmt"
	"net/url"
	"strings"
)

// Vars are the values a footer shows for one recipient. Together they make
// the notice GDPR Art. 14 asks for when the address was not collected from
// the person: who is writing (Art. 14(1)(a)), the contact for data
// protection (14(1)(b)), purpose and legal basis (14(1)(c)), the source
// (14(2)(f)) and the rights to access, erasure, objection and complaint
// (14(2)(c)-(e)), plus the opt-out link.
type Vars struct {
	Company        string // required
	PostalAddress  string // required; line breaks become ", "
	PrivacyURL     string // required; absolute http or https URL
	PrivacyContact string // optional: data protection contact or officer
	Source         string // required: where the address was obtained
	Purpose        string // required
	LegalBasis     string // required, e.g. "legitimate interest (Art. 6(1)(f) GDPR)"
	UnsubscribeURL string // required; absolute http or https URL
	RepName        string // optional: the sales rep who wrote the message
}

// field is one Vars field as the checks see it.
type field struct {
	name     string
	value    *string
	required bool
	url      bool
}

func (v *Vars) fields() []field {
	return []field{
		{"Company", &v.Company, true, false},
		{"PostalAddress", &v.PostalAddress, true, false},
		{"PrivacyURL", &v.PrivacyURL, true, true},
		{"PrivacyContact", &v.PrivacyContact, false, false},
		{"Source", &v.Source, true, false},
		{"Purpose", &v.Purpose, true, false},
		{"LegalBasis", &v.LegalBasis, true, false},
		{"UnsubscribeURL", &v.UnsubscribeURL, true, true},
		{"RepName", &v.RepName, false, false},
	}
}

// clean returns v with every value on one trimmed line, or an error naming
// the first required variable that is empty or URL that is not absolute
// http(s).
func (v Vars) clean() (Vars, error) {
	for _, f := range v.fields() {
		*f.value = oneLine(*f.value)
		if *f.value == "" {
			if f.required {
				return Vars{}, fmt.Errorf("footer: missing required variable %s", f.name)
			}
			continue
		}
		if f.url {
			if err := checkURL(*f.value); err != nil {
				return Vars{}, fmt.Errorf("footer: variable %s: %w", f.name, err)
			}
		}
	}
	return v, nil
}

// oneLine joins the non-empty trimmed lines of s with ", ", so a postal
// address typed on several lines reads as one.
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	kept := lines[:0]
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, ", ")
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
