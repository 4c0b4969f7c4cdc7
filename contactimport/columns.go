package contactimport

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/dncgate/dncgate/lists"
)

// Header names of the columns a contacts import reads, as headerKey
// writes them: lower case, letters and digits only, so "E-Mail",
// "e_mail" and "EMAIL" are one name. A phone column may end in a number
// ("Phone 2").
var (
	emailHeaders = headerSet("email", "mail", "emailaddress", "mailaddress", "courriel", "adressemail",
		"adresseemail", "correo", "correoelectronico", "emailadresse", "emailadres")
	phoneHeaders = headerSet("phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "telephone",
		"téléphone", "tel", "tél", "cell", "cellphone", "workphone", "homephone", "businessphone", "officephone",
		"directphone", "portable", "telefon", "telefono", "teléfono", "telefoon", "handy", "gsm", "mobiel", "cellulare")
	countryHeaders  = headerSet("country", "countrycode", "countryiso", "pays", "land", "pais", "país", "paese", "nation")
	typeHeaders     = headerSet("type", "recipienttype", "contacttype", "customertype", "clienttype", "typeclient", "segment")
	languageHeaders = headerSet("language", "lang", "preferredlanguage", "langue", "sprache", "taal", "idioma", "lingua", "locale")
)

func headerSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// headerKey is a header name as the sets above hold it.
func headerKey(h string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, h)
}

func isPhoneHeader(h string) bool {
	return phoneHeaders[strings.TrimRightFunc(headerKey(h), unicode.IsDigit)]
}

// Columns choose the columns of the file: each a header name or a
// position N, or "" to find it by its header name (every column headed
// like a phone number for Phones). Country and Type may be NoColumn when
// the file has none.
type Columns struct {
	Email, Country, Type, Language string
	Phones                         []string
}

// columns are the columns a contacts import reads; country and recipient
// type may be absent (nil).
type columns struct {
	email   lists.Column
	phones  []lists.Column
	country *lists.Column
	rtype   *lists.Column
	lang    *lists.Column
}

// pickColumns takes each column given (a header name or a position),
// else finds it by its header name. The messages name the CLI's flags.
func pickColumns(rd *lists.Reader, o Columns) (columns, error) {
	var cols columns
	email, err := pickColumn(rd, o.Email, "email-column", "an e-mail", emailHeaders, true)
	if err != nil {
		return cols, err
	}
	cols.email = *email
	if cols.country, err = pickColumn(rd, o.Country, "country-column", "a country", countryHeaders, false); err != nil {
		return cols, err
	}
	if cols.rtype, err = pickColumn(rd, o.Type, "type-column", "a recipient type", typeHeaders, false); err != nil {
		return cols, err
	}
	if cols.lang, err = pickColumn(rd, o.Language, "language-column", "a language", languageHeaders, false); err != nil {
		return cols, err
	}
	for _, spec := range o.Phones {
		c, err := rd.Column(spec)
		if err != nil {
			return cols, fmt.Errorf("--phone-column: %w", err)
		}
		cols.phones = append(cols.phones, c)
	}
	if len(o.Phones) == 0 {
		for i, h := range rd.Header() {
			if isPhoneHeader(h) {
				cols.phones = append(cols.phones, lists.Column{Index: i, Name: h})
			}
		}
	}
	return cols, nil
}

// NoColumn given as the Country, Type or Language column says the file has no such
// column, when a header that looks like one means something else.
const NoColumn = "none"

// pickColumn returns the column flag names, else the one header among
// names; nil when there is none and the column is optional.
func pickColumn(rd *lists.Reader, spec, flag, what string, names map[string]bool, required bool) (*lists.Column, error) {
	if !required && strings.EqualFold(spec, NoColumn) {
		return nil, nil
	}
	if spec != "" {
		c, err := rd.Column(spec)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		return &c, nil
	}
	var found []lists.Column
	for i, h := range rd.Header() {
		if names[headerKey(h)] {
			found = append(found, lists.Column{Index: i, Name: h})
		}
	}
	switch {
	case len(found) > 1:
		return nil, fmt.Errorf("columns %q (%d) and %q (%d) both look like %s column; choose one with --%s",
			found[0].Name, found[0].Index+1, found[1].Name, found[1].Index+1, what, flag)
	case len(found) == 1:
		return &found[0], nil
	case required:
		return nil, fmt.Errorf("no column of the header row (%s) looks like %s column; name it with --%s",
			strings.Join(rd.Header(), ", "), what, flag)
	}
	return nil, nil
}

// optionalValue is the field of an optional column: "" when the column is
// absent or the row stops before it, as exports that drop trailing empty
// fields write them.
func optionalValue(row lists.Row, c *lists.Column) string {
	if c == nil || c.Index >= len(row.Fields) {
		return ""
	}
	return strings.TrimSpace(row.Fields[c.Index])
}

// lineError places err on the row's line and in column c, unless it
// already names a line.
func lineError(row lists.Row, c lists.Column, err error) error {
	var le *lists.LineError
	if errors.As(err, &le) {
		return err
	}
	return &lists.LineError{Line: row.Line, Column: c.Name, Err: err}
}
