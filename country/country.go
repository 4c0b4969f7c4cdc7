// Package country is the one home of two rules: reading a country code
// (ISO 3166-1 alpha-2, "UK" read as "GB") and guessing a country from a
// domain's country-code TLD. The configuration, the recipient decision,
// the caps, the CRM contacts, the footer and the unsubscribe page all ask
// it, so a code means the same thing everywhere.
package country

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// Code is an ISO 3166-1 alpha-2 code of a country, upper case ("FR",
// "GB"), as Parse and FromDomain return it; the zero value is no country.
type Code string

// None is the zero Code: no country known.
const None Code = ""

func (c Code) String() string { return string(c) }

// Known reports whether c is a country (not None).
func (c Code) Known() bool { return c != None }

// assigned holds every officially assigned ISO 3166-1 alpha-2 code (249
// of them): not the reserved ones (UK, EU, AC, FX), the withdrawn ones
// (DD, YU, SU, AN) nor the user-assigned ones (XK, ZZ, AA, QM–QZ, XA–XZ).
const assigned = "" +
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ " +
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ " +
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY " +
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY " +
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM " +
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ " +
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ " +
	"VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

var codes = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(assigned) {
		m[c] = true
	}
	return m
}()

// Error is a value that is not a country code; its text names the value
// as it was written.
type Error struct{ Value string }

func (e *Error) Error() string {
	return fmt.Sprintf(`%q is not an ISO 3166-1 alpha-2 country code (such as "FR", "DE", "GB")`, e.Value)
}

// Parse reads a country code as people write it: surrounding space and
// case do not matter, and "UK", the United Kingdom's TLD and everyday
// name, is read as its ISO code GB. Anything else that is not an assigned
// ISO 3166-1 alpha-2 code (a name, an alpha-3 code, "EU", "" ) is an
// *Error naming the value.
func Parse(s string) (Code, error) {
	cc := strings.ToUpper(strings.TrimSpace(s))
	if cc == "UK" {
		return "GB", nil
	}
	if !codes[cc] {
		return None, &Error{Value: s}
	}
	return Code(cc), nil
}

// MustParse is Parse for codes written in the program; it panics on a
// bad one.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// genericTLDs are country-code TLDs sold and used world-wide as if they
// were generic (.io for start-ups, .co for companies, .tv for media, .ly
// for link shorteners): they say nothing of where the recipient lives or
// which language they read. The list follows the TLDs search engines stop
// geotargeting for that reason.
var genericTLDs = map[string]bool{
	"ad": true, "ai": true, "as": true, "bz": true, "cc": true, "cd": true,
	"co": true, "dj": true, "fm": true, "gg": true, "io": true, "la": true,
	"ly": true, "me": true, "ms": true, "nu": true, "sc": true, "sr": true,
	"tk": true, "tv": true, "vc": true, "ws": true,
}

// idnTLDs are internationalised country-code TLDs (RFC 5890 A-labels)
// and the country each is delegated to.
var idnTLDs = map[string]Code{
	"xn--p1ai":          "RU", // рф
	"xn--90ais":         "BY", // бел
	"xn--j1amh":         "UA", // укр
	"xn--90a3ac":        "RS", // срб
	"xn--d1alf":         "MK", // мкд
	"xn--l1acc":         "MN", // мон
	"xn--90ae":          "BG", // бг
	"xn--80ao21a":       "KZ", // қаз
	"xn--qxam":          "GR", // ελ
	"xn--fiqs8s":        "CN", // 中国
	"xn--fiqz9s":        "CN", // 中國
	"xn--j6w193g":       "HK", // 香港
	"xn--kprw13d":       "TW", // 台湾
	"xn--kpry57d":       "TW", // 台灣
	"xn--yfro4i67o":     "SG", // 新加坡
	"xn--mix891f":       "MO", // 澳門
	"xn--3e0b707e":      "KR", // 한국
	"xn--wgbh1c":        "EG", // مصر
	"xn--mgberp4a5d4ar": "SA", // السعودية
	"xn--mgbaam7a8h":    "AE", // امارات
	"xn--mgba3a4f16a":   "IR", // ایران
	"xn--o3cw4h":        "TH", // ไทย
	"xn--node":          "GE", // გე
	"xn--y9a3aq":        "AM", // հայ
	"xn--4dbrk0ce":      "IL", // ישראל
}

// FromDomain returns the country the domain's country-code TLD names
// (RFC 1591 §2: two-letter TLDs follow ISO 3166-1): FR for acme.fr, GB
// for .uk and .co.uk, RU for .рф. Domains in Unicode are converted to
// their ASCII form first (RFC 5891), so "bücher.de" and
// "xn--bcher-kva.de" both give DE. Generic TLDs (.com), ccTLDs used as
// generic ones (.io, .co, .tv) and TLDs of no country (.eu) give false.
func FromDomain(domain string) (Code, bool) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if !isASCII(d) {
		a, err := idna.Lookup.ToASCII(d)
		if err != nil {
			return None, false
		}
		d = a
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	if c, ok := idnTLDs[tld]; ok {
		return c, true
	}
	if len(tld) != 2 || genericTLDs[tld] {
		return None, false
	}
	c, err := Parse(tld)
	return c, err == nil
}

// FromAddress is FromDomain of the domain of an e-mail address (after its
// last '@'; angle brackets and a trailing dot are ignored).
func FromAddress(addr string) (Code, bool) {
	addr = strings.Trim(strings.TrimSpace(addr), "<>")
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return None, false
	}
	return FromDomain(addr[at+1:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
