package lists

import (
	"errors"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// listCountries are the countries whose national lists DOMAIN.md names:
// their numbers must take the fast path.
var listCountries = []string{"FR", "BE", "GB", "DE", "ES", "IT", "NL"}

var numberTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE,
	phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.VOIP,
	phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER, phonenumbers.UAN,
	phonenumbers.VOICEMAIL,
}

// exampleNSNs returns libphonenumber's example national significant
// numbers of region, one per number type it has.
func exampleNSNs(region string) []string {
	var out []string
	for _, typ := range numberTypes {
		if ex := phonenumbers.GetExampleNumberForType(region, typ); ex != nil {
			out = append(out, phonenumbers.GetNationalSignificantNumber(ex))
		}
	}
	return out
}

// writtenForms returns nsn the ways a file may write it, cleaned.
func writtenForms(region, nsn string) []string {
	cc := strconv.Itoa(phonenumbers.GetCountryCodeForRegion(region))
	np := phonenumbers.GetNddPrefixForRegion(region, true)
	return []string{np + nsn, nsn, "+" + cc + nsn, "+" + cc + np + nsn, cc + nsn}
}

// mutate changes, inserts or deletes a few digits of s.
func mutate(rng *rand.Rand, s string) string {
	b := []byte(s)
	for range rng.IntN(4) {
		i := rng.IntN(len(b) + 1)
		d := byte('0' + rng.IntN(10))
		switch {
		case rng.IntN(4) == 0:
			b = append(b[:i], append([]byte{d}, b[i:]...)...)
		case rng.IntN(4) == 0 && len(b) > 2 && i < len(b):
			b = append(b[:i], b[i+1:]...)
		case i < len(b):
			b[i] = d
		}
	}
	return string(b)
}

func randomDigits(rng *rand.Rand) string {
	b := make([]byte, 1+rng.IntN(maxPhoneDigits))
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	if rng.IntN(2) == 0 {
		return "+" + string(b)
	}
	return string(b)
}

// compareFast checks that wherever the fast path answers, a number or a
// reason, it answers what libphonenumber does, and returns how many of
// samples it answered.
func compareFast(t *testing.T, region string, p *fastPlan, samples []string) int {
	t.Helper()
	hits := 0
	for _, s := range samples {
		fast, problem, ok := p.normalise(s)
		if !ok {
			continue
		}
		hits++
		slow, err := parsePhone(s, region)
		var ve *ValueError
		switch {
		case problem == "" && (err != nil || slow != fast):
			t.Errorf("%s %q: fast path gives %q, libphonenumber %q, %v", region, s, fast, slow, err)
		case problem != "" && (!errors.As(err, &ve) || ve.Reason != problem):
			t.Errorf("%s %q: fast path finds it invalid (%s), libphonenumber gives %q, %v", region, s, problem, slow, err)
		}
	}
	return hits
}

func TestFastPathMatchesLibphonenumber(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, region := range listCountries {
		p := newFastPlan(region)
		if p == nil {
			t.Fatalf("%s: no fast path", region)
		}
		var exact, samples []string
		for _, nsn := range exampleNSNs(region) {
			forms := writtenForms(region, nsn)
			exact = append(exact, forms[0], forms[2])
			for range 600 {
				samples = append(samples, writtenForms(region, mutate(rng, nsn))...)
			}
		}
		for range 5000 {
			samples = append(samples, randomDigits(rng))
		}
		if hits := compareFast(t, region, p, exact); hits != len(exact) {
			t.Errorf("%s: the fast path took %d of %d example numbers in national and E.164 form", region, hits, len(exact))
		}
		hits := compareFast(t, region, p, samples)
		t.Logf("%s: fast path answered %d of %d variants", region, hits, len(samples))
	}
}

// TestFastPathAllRegions runs the comparison on every region libphonenumber
// knows, with fewer numbers each, so that no plan takes a step the fast
// path gets wrong.
func TestFastPathAllRegions(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var regions []string
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	// The countries the policy presets govern must read through the fast
	// path: an import of their lists relies on it for its speed.
	mustPlan := map[string]bool{"FR": true, "DE": true, "ES": true, "GB": true, "BE": true, "NL": true, "IT": true}
	planned := 0
	for _, region := range regions {
		p := newFastPlan(region)
		if p == nil {
			if mustPlan[region] {
				t.Errorf("%s has no fast path", region)
			}
			continue
		}
		planned++
		var samples []string
		for _, nsn := range exampleNSNs(region) {
			samples = append(samples, writtenForms(region, nsn)...)
			for range 30 {
				samples = append(samples, writtenForms(region, mutate(rng, nsn))...)
			}
		}
		for range 100 {
			samples = append(samples, randomDigits(rng))
		}
		compareFast(t, region, p, samples)
	}
	// Without this, a plan builder that refused every region would leave
	// nothing compared and the test green.
	if planned < len(regions)/2 {
		t.Fatalf("only %d of %d regions have a fast path", planned, len(regions))
	}
	t.Logf("%d of %d regions have a fast path", planned, len(regions))
}
