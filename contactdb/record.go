package contactdb

import (
	"errors"
	"fmt"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/listdb"
)

// A record is stored as bytes, in this order:
//
//	format    1 byte, recordFormat
//	country   2 bytes, ASCII upper case; two zero bytes when unknown
//	type      1 byte, the index in types; 0 when unknown
//	language  2 bytes, ASCII lower case; two zero bytes when unknown
//	phones    16 bytes each, up to MaxPhones
//
// A contact with up to three phones takes at most 54 bytes, under Redis's
// default hash-max-listpack-value of 64, so it keeps a bucket compact.
// Records of format 1, written before the language, have no language
// bytes and still read.
const (
	recordFormat = 2
	headerSize   = 6
	format1      = 1
	header1Size  = 4
)

// types are the recipient types by their stored code; 0 is unknown.
var types = [...]string{"", TypeConsumer, TypeSoleTrader, TypeBusiness}

// Check says what is wrong with c, if anything: the country must be empty
// or a code as package country writes it, the type one of the Type
// constants or empty, and there may be at most MaxPhones phones.
func Check(c Contact) error {
	if cc, err := country.Parse(c.Country); c.Country != "" && (err != nil || cc.String() != c.Country) {
		return fmt.Errorf("contactdb: country %q is not an ISO 3166-1 alpha-2 code in upper case", c.Country)
	}
	if typeCode(c.Type) < 0 {
		return fmt.Errorf("contactdb: recipient type %q is not %s, %s or %s", c.Type, TypeConsumer, TypeSoleTrader, TypeBusiness)
	}
	if l, err := ParseLanguage(c.Language); err != nil || l != c.Language {
		return fmt.Errorf("contactdb: language %q is not an ISO 639-1 code in lower case", c.Language)
	}
	if len(c.Phones) > MaxPhones {
		return fmt.Errorf("contactdb: %d phones, at most %d", len(c.Phones), MaxPhones)
	}
	return nil
}

func typeCode(t string) int {
	for i, name := range types {
		if name == t {
			return i
		}
	}
	return -1
}

// Encode returns c as stored, or Check's error.
func Encode(c Contact) ([]byte, error) {
	if err := Check(c); err != nil {
		return nil, err
	}
	out := make([]byte, headerSize, headerSize+len(c.Phones)*listdb.DigestSize)
	out[0] = recordFormat
	copy(out[1:3], c.Country)
	out[3] = byte(typeCode(c.Type))
	copy(out[4:6], c.Language)
	for i := range c.Phones {
		out = append(out, c.Phones[i][:]...)
	}
	return out, nil
}

var errBadRecord = errors.New("contactdb: stored record is malformed")

// Decode reads a record written by Encode.
func Decode(b []byte) (Contact, error) {
	var c Contact
	header := headerSize
	if len(b) > 0 && b[0] == format1 {
		header = header1Size
	}
	n := len(b) - header
	if n < 0 || (b[0] != recordFormat && b[0] != format1) || n%listdb.DigestSize != 0 || n/listdb.DigestSize > MaxPhones ||
		int(b[3]) >= len(types) {
		return c, errBadRecord
	}
	if b[1] != 0 || b[2] != 0 {
		c.Country = string(b[1:3])
	}
	c.Type = types[b[3]]
	if header == headerSize && (b[4] != 0 || b[5] != 0) {
		c.Language = string(b[4:6])
	}
	if n > 0 {
		c.Phones = make([]listdb.Digest, n/listdb.DigestSize)
		for i := range c.Phones {
			copy(c.Phones[i][:], b[header+i*listdb.DigestSize:])
		}
	}
	if err := Check(c); err != nil {
		return Contact{}, errBadRecord
	}
	return c, nil
}
