package lists

import (
	"regexp/syntax"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// libphonenumber's bounds on a national significant number (NSN).
const (
	minNSN = 2
	maxNSN = 17
)

// fastPlan is the fast path of one list country: for a number that is
// only digits, national or "+" and the country's own calling code, it
// repeats what libphonenumber's Parse, IsValidNumber, Format(E164) and
// IsPossibleNumberWithReason do, step by step, on automata built once from
// the same metadata, where libphonenumber assembles and matches regexps
// for every number. Whenever a step would take a branch it does not
// repeat (a national prefix that needs a regexp group, another country's
// code, a parse error), it answers "not handled" and the caller asks
// libphonenumber, so the result is always libphonenumber's. Tests compare
// both on every region's numbers and on random digits.
type fastPlan struct {
	cc       string // the calling code, "33"
	plan     string // how messages name the plan, "FR (+33)"
	national bool   // national numbers can take the fast path
	idd      string // the international prefix when it is plain digits
	strip    nationalPrefix
	regions  []*regionCheck // the regions sharing the code, in metadata order
}

// nationalPrefix is how a region's national prefix is stripped
// (maybeStripNationalPrefixAndCarrierCode and the length test after it in
// parseHelper).
type nationalPrefix struct {
	matcher *digitDFA // the prefix-for-parsing pattern; nil when there is none
	literal string    // what the pattern matches first when it is a literal
	general *digitDFA // the general national number pattern
	lengths []int32   // possible NSN lengths of the region
	local   []int32   // lengths possible for local dialling only
}

// regionCheck is IsValidNumberForRegion for one region.
type regionCheck struct {
	leading *digitDFA // leading digits that claim a number for the region
	general *digitDFA
	lengths []int32 // possible lengths of the general description
	byLen   [maxNSN + 1]*digitDFA
}

// newFastPlan builds the fast path for region, or returns nil when the
// region's numbering plan needs steps the fast path does not repeat.
func newFastPlan(region string) *fastPlan {
	if region == "" {
		return nil
	}
	code := phonenumbers.GetCountryCodeForRegion(region)
	if phonenumbers.GetRegionCodeForCountryCode(code) != region || !codeIsUnambiguous(code) {
		return nil
	}
	meta := metadataByRegion()
	m := meta[region]
	strip, ok := newNationalPrefix(m)
	if !ok {
		return nil
	}
	p := &fastPlan{cc: strconv.Itoa(code), plan: planName(code), strip: strip}
	if idd := m.GetInternationalPrefix(); allDigits(idd) {
		p.national, p.idd = true, idd
	}
	for _, r := range phonenumbers.GetRegionCodesForCountryCode(code) {
		rc, ok := newRegionCheck(meta[r])
		if !ok {
			return nil
		}
		p.regions = append(p.regions, rc)
	}
	return p
}

// codeIsUnambiguous reports whether libphonenumber reads "+<code>…" as
// this code: it takes the shortest prefix that is a known code.
func codeIsUnambiguous(code int) bool {
	s := strconv.Itoa(code)
	known := phonenumbers.GetSupportedCallingCodes()
	for i := 1; i < len(s); i++ {
		if n, _ := strconv.Atoi(s[:i]); known[n] {
			return false
		}
	}
	return true
}

func metadataByRegion() map[string]*phonenumbers.PhoneMetadata {
	coll, err := phonenumbers.MetadataCollection()
	out := make(map[string]*phonenumbers.PhoneMetadata)
	if err != nil {
		return out
	}
	for _, m := range coll.GetMetadata() {
		out[m.GetId()] = m
	}
	return out
}

func newNationalPrefix(m *phonenumbers.PhoneMetadata) (nationalPrefix, bool) {
	g := m.GetGeneralDesc()
	general, err := compileDigitDFA(g.GetNationalNumberPattern())
	if err != nil || g.GetNationalNumberPattern() == "" || len(g.PossibleLength) == 0 ||
		m.GetNationalPrefixTransformRule() != "" {
		return nationalPrefix{}, false
	}
	np := nationalPrefix{general: general, lengths: g.PossibleLength, local: g.PossibleLengthLocalOnly}
	pattern := m.GetNationalPrefixForParsing()
	if pattern == "" {
		return np, true
	}
	if np.matcher, err = compileDigitDFA(pattern); err != nil {
		return nationalPrefix{}, false
	}
	np.literal = firstLiteral(pattern)
	return np, true
}

// firstLiteral returns the digits the pattern matches first, under
// leftmost-first matching, when its first alternative is a plain literal
// ("0" for both "0" and "0|180020"), else "".
func firstLiteral(pattern string) string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return ""
	}
	if re.Op == syntax.OpAlternate {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpLiteral || !allDigits(string(re.Rune)) {
		return ""
	}
	return string(re.Rune)
}

func newRegionCheck(m *phonenumbers.PhoneMetadata) (*regionCheck, bool) {
	if m == nil {
		return nil, false
	}
	g := m.GetGeneralDesc()
	general, err := compileDigitDFA(g.GetNationalNumberPattern())
	if err != nil {
		return nil, false
	}
	rc := &regionCheck{general: general, lengths: g.PossibleLength}
	if lead := m.GetLeadingDigits(); lead != "" {
		if rc.leading, err = compileDigitDFA(lead); err != nil {
			return nil, false
		}
	}
	for n := minNSN; n <= maxNSN; n++ {
		if len(rc.lengths) > 0 && !hasLength(rc.lengths, n) {
			continue
		}
		if rc.byLen[n], err = typeUnion(m, n); err != nil {
			return nil, false
		}
	}
	return rc, true
}

// typeUnion compiles the patterns of the number types (fixed line,
// mobile, toll free, …) that allow NSNs of length n: a number is valid
// when one of them matches (getNumberTypeHelper != UNKNOWN).
func typeUnion(m *phonenumbers.PhoneMetadata, n int) (*digitDFA, error) {
	var patterns []string
	for _, d := range typeDescs(m) {
		p := d.GetNationalNumberPattern()
		if d == nil || p == "" || (len(d.PossibleLength) > 0 && !hasLength(d.PossibleLength, n)) {
			continue
		}
		patterns = append(patterns, p)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	return compileDigitDFA(unionPattern(patterns))
}

func typeDescs(m *phonenumbers.PhoneMetadata) []*phonenumbers.PhoneNumberDesc {
	return []*phonenumbers.PhoneNumberDesc{
		m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
		m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(),
		m.GetFixedLine(), m.GetMobile(),
	}
}

func hasLength(lengths []int32, n int) bool {
	for _, l := range lengths {
		if int(l) == n {
			return true
		}
	}
	return false
}

// normalise returns the E.164 form of a cleaned number (digits with an
// optional leading '+'), or the reason libphonenumber gives for finding
// it invalid, and false when libphonenumber must decide.
func (p *fastPlan) normalise(clean string) (e164, problem string, ok bool) {
	var nsn string
	if rest, plus := strings.CutPrefix(clean, "+"); plus {
		nsn, ok = p.international(rest)
	} else {
		nsn, ok = p.nationalNumber(clean)
	}
	switch {
	case !ok || len(nsn) < minNSN || len(nsn) > maxNSN:
		return "", "", false // libphonenumber's parse errors are its to word
	case !p.valid(nsn):
		return "", p.invalidProblem(nsn), true
	case clean[0] == '+' && clean[1+len(p.cc):] == nsn:
		return clean, "", true
	}
	return "+" + p.cc + nsn, "", true
}

// international reads "+<cc><nsn>" (maybeExtractCountryCode with a '+').
func (p *fastPlan) international(digits string) (string, bool) {
	nsn, ok := strings.CutPrefix(digits, p.cc)
	if !ok || len(nsn) < minNSN {
		return "", false
	}
	return p.strip.apply(nsn)
}

// nationalNumber reads a number without '+': libphonenumber first looks
// for the international prefix and for the country's own code written
// without '+', then strips the national prefix.
func (p *fastPlan) nationalNumber(digits string) (string, bool) {
	if !p.national || len(digits) < minNSN || strings.HasPrefix(digits, p.cc) ||
		(p.idd != "" && strings.HasPrefix(digits, p.idd)) {
		return "", false
	}
	return p.strip.apply(digits)
}

// invalidProblem is invalidProblem for a number of this calling code:
// IsPossibleNumberWithReason tests the length against the main region,
// which is the list's.
func (p *fastPlan) invalidProblem(nsn string) string {
	return lengthProblem(p.strip.lengthResult(len(nsn)), p.plan)
}

// apply strips the national prefix from digits as libphonenumber would,
// or reports false when it cannot tell without libphonenumber.
func (np *nationalPrefix) apply(digits string) (string, bool) {
	if np.matcher == nil || !np.matcher.prefix(digits) {
		return digits, true
	}
	if np.literal == "" || !strings.HasPrefix(digits, np.literal) {
		return "", false
	}
	rest := digits[len(np.literal):]
	if np.general.full(digits) && !np.general.full(rest) {
		return digits, true // stripping would spoil a number that fits as written
	}
	switch np.lengthResult(len(rest)) {
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY, phonenumbers.INVALID_LENGTH:
		return digits, true
	}
	return rest, true
}

// lengthResult is testNumberLength for the general description.
func (np *nationalPrefix) lengthResult(n int) phonenumbers.ValidationResult {
	l := int32(n)
	switch {
	case np.lengths[0] == -1:
		return phonenumbers.INVALID_LENGTH
	case hasLength(np.local, n):
		return phonenumbers.IS_POSSIBLE_LOCAL_ONLY
	case np.lengths[0] == l:
		return phonenumbers.IS_POSSIBLE
	case np.lengths[0] > l:
		return phonenumbers.TOO_SHORT
	case np.lengths[len(np.lengths)-1] < l:
		return phonenumbers.TOO_LONG
	case hasLength(np.lengths[1:], n):
		return phonenumbers.IS_POSSIBLE
	}
	return phonenumbers.INVALID_LENGTH
}

// valid is IsValidNumber for an NSN of this calling code: with several
// regions, the first whose leading digits match decides, else the first
// region the number is valid in (getRegionCodeForNumberFromRegionList).
func (p *fastPlan) valid(nsn string) bool {
	if len(nsn) < minNSN || len(nsn) > maxNSN {
		return false
	}
	if len(p.regions) == 1 {
		return p.regions[0].valid(nsn)
	}
	for _, r := range p.regions {
		if r.leading != nil {
			if r.leading.prefix(nsn) {
				return r.valid(nsn)
			}
		} else if r.valid(nsn) {
			return true
		}
	}
	return false
}

func (r *regionCheck) valid(nsn string) bool {
	if len(r.lengths) > 0 && !hasLength(r.lengths, len(nsn)) {
		return false
	}
	u := r.byLen[len(nsn)]
	return u != nil && r.general.full(nsn) && u.full(nsn)
}
