package suppression

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dncgate/dncgate/country"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listmodel"
)

// governed is a list that applies to one recipient, with its freshness.
type governed struct {
	info  *listdb.Info // in the cached descriptions, which are never changed in place
	stale bool         // past its max age (or never imported while it has one)
	warn  bool         // stale, but set to warn rather than hold mail back
}

// governing picks the lists that apply to a recipient: the opt-out list
// always, first; the deny lists of the recipient's country or of every
// country; and, when the policy asks for consent, the clearance lists of
// the country.
func governing(infos []listdb.Info, v Verdict, now time.Time) []governed {
	out := make([]governed, 1, len(infos)+1)
	out[0].info = optOutInfo(infos)
	for i := range infos {
		in := &infos[i]
		m := &in.Meta
		if m.Name == listmodel.OptOut || !governs(m.Countries, v.Country) {
			continue
		}
		if m.Model == listmodel.Clearance && v.Rule.Action != Consent {
			continue
		}
		g := governed{info: in, stale: isStale(in, now)}
		g.warn = g.stale && m.WarnStale
		out = append(out, g)
	}
	return out
}

// optOutInfo is the opt-out list as the store describes it, or as it is
// created when the store has not got it yet (it is looked up anyway: a
// missing list answers nothing).
func optOutInfo(infos []listdb.Info) *listdb.Info {
	for i := range infos {
		if infos[i].Meta.Name == listmodel.OptOut {
			return &infos[i]
		}
	}
	return &optOutDefault
}

// optOutDefault describes the opt-out list before the store has it.
var optOutDefault = listdb.Info{Meta: OptOutMeta}

// governs reports whether a list for countries applies to a recipient in
// country: a list for every country always does, a national list only
// when the recipient's country is known to be one of its own.
func governs(countries []string, cc country.Code) bool {
	if len(countries) == 0 {
		return true
	}
	return slices.ContainsFunc(countries, func(c string) bool {
		if strings.EqualFold(c, "all") {
			return true
		}
		got, err := country.Parse(c)
		return err == nil && cc.Known() && got == cc
	})
}

// isStale reports whether a list with a max age is past it, counting a list
// never imported as stale: an empty list must not pass for a checked one.
func isStale(in *listdb.Info, now time.Time) bool {
	if in.Meta.MaxAge <= 0 {
		return false
	}
	return in.Current.ID == "" || now.Sub(in.Current.ImportedAt) > in.Meta.MaxAge
}

// judge turns the answers into the verdict. A refusal is final and comes
// first (opt-out before the other lists, being first in gov); a list past
// its age then holds the recipient back rather than pass on stale data;
// consent needs a hit on a fresh clearance list.
func judge(v Verdict, gov []governed, answers []listdb.Answer, now time.Time) Verdict {
	v.Consulted = make([]Consulted, len(gov))
	for i, g := range gov {
		v.Consulted[i] = Consulted{List: g.info.Meta.Name, Version: answers[i].Version}
	}
	for i, g := range gov {
		if g.info.Meta.Model != listmodel.Clearance && hit(answers[i]) {
			return refusedByList(v, g, answers[i])
		}
	}
	var cleared *int
	for i, g := range gov {
		if g.info.Meta.Model == listmodel.Clearance && (!g.stale || g.warn) && hit(answers[i]) {
			cleared = &i
			break
		}
	}
	if v.Rule.Action == Consent && cleared == nil && !anyHeld(gov, listmodel.Clearance) {
		return refusedForConsent(v)
	}
	for _, g := range gov {
		if g.stale && !g.warn && (g.info.Meta.Model != listmodel.Clearance || cleared == nil) {
			return heldByStale(v, g, now)
		}
	}
	v.Outcome, v.Code = Allowed, CodeAllowed
	if cleared != nil {
		g, a := gov[*cleared], answers[*cleared]
		v.List, v.Version, v.KeyKind = g.info.Meta.Name, a.Version, g.info.Meta.Kind
		v.Text = "cleared by list " + g.info.Meta.Name
	}
	v.Warnings = staleWarnings(gov, now)
	return v
}

func hit(a listdb.Answer) bool {
	return slices.Contains(a.Found, true)
}

// anyHeld reports whether a list of the model is stale and not set to warn.
func anyHeld(gov []governed, model listmodel.Model) bool {
	return slices.ContainsFunc(gov, func(g governed) bool {
		return g.info.Meta.Model == model && g.stale && !g.warn
	})
}

func refusedByList(v Verdict, g governed, a listdb.Answer) Verdict {
	m := g.info.Meta
	v.Outcome, v.List, v.Version, v.KeyKind = Refused, m.Name, a.Version, m.Kind
	if m.Name == listmodel.OptOut {
		v.Code, v.Text = CodeOptOut, "the recipient opted out of the company's mail; do not write again"
		return v
	}
	if m.Name == listmodel.Bounced {
		v.Code, v.Text = CodeBounced, "mail to the recipient bounced: the mailbox does not take mail; do not write again"
		return v
	}
	v.Code = codeListPrefix + m.Name
	v.Text = fmt.Sprintf("on the %s list (%s match)", m.Name, m.Kind)
	return v
}

func refusedForConsent(v Verdict) Verdict {
	v.Outcome, v.Code = Refused, CodeConsentRequired
	v.Text = v.Rule.Explain(v.Type) + "; the recipient is on no consent or clearance list"
	return v
}

func refusedByPolicy(v Verdict) Verdict {
	v.Outcome, v.Code, v.Text = Refused, CodePolicyRefused, v.Rule.Explain(v.Type)
	return v
}

func heldByStale(v Verdict, g governed, now time.Time) Verdict {
	v.Outcome, v.Code, v.List = TempFailed, codeStalePrefix+g.info.Meta.Name, g.info.Meta.Name
	v.Text = staleText(g.info, now, "an admin must import a fresh copy")
	return v
}

func staleWarnings(gov []governed, now time.Time) []string {
	var out []string
	for _, g := range gov {
		if g.warn {
			out = append(out, staleText(g.info, now, "set to warn only"))
		}
	}
	return out
}

// staleText says how old a list is against its allowed age:
// "list be-dncm is 7 days old (max 5); an admin must import a fresh copy".
func staleText(in *listdb.Info, now time.Time, tail string) string {
	m := in.Meta
	if in.Current.ID == "" {
		return fmt.Sprintf("list %s was never imported (max age %s); %s", m.Name, ageText(m.MaxAge), tail)
	}
	return fmt.Sprintf("list %s is %s old (max %s); %s", m.Name, ageText(now.Sub(in.Current.ImportedAt)), maxText(m.MaxAge), tail)
}

const day = 24 * time.Hour

// ageText writes a duration in whole days when it is a day or more, else
// in whole hours.
func ageText(d time.Duration) string {
	switch {
	case d >= 2*day:
		return fmt.Sprintf("%d days", int(d/day))
	case d >= day:
		return "1 day"
	}
	return fmt.Sprintf("%d hours", int(d/time.Hour))
}

// maxText writes a max age in whole days without the unit ("5"), as the
// age before it gives it, or as ageText does when it is not whole days.
func maxText(d time.Duration) string {
	if d >= day && d%day == 0 {
		return fmt.Sprint(int(d / day))
	}
	return ageText(d)
}
