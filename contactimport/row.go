package contactimport

import (
	"fmt"
	"slices"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/lists"
)

// record reads one row into a record, or says with the line and column
// what is wrong with it. Nothing is guessed: a value that does not parse
// makes the row invalid.
func (im *importer) record(row lists.Row) (contactdb.Record, error) {
	var rec contactdb.Record
	raw, err := row.Value(im.cols.email)
	if err != nil {
		return rec, err
	}
	email, err := lists.NormaliseEmail(raw)
	if err != nil {
		return rec, lineError(row, im.cols.email, err)
	}
	rec.Email = im.emails.Digest(email)
	cc, err := contactdb.ParseCountry(optionalValue(row, im.cols.country))
	if err != nil {
		return rec, lineError(row, *im.cols.country, err)
	}
	rec.Country = cc.String()
	if rec.Type, err = contactdb.ParseType(optionalValue(row, im.cols.rtype)); err != nil {
		return rec, lineError(row, *im.cols.rtype, err)
	}
	if rec.Language, err = contactdb.ParseLanguage(optionalValue(row, im.cols.lang)); err != nil {
		return rec, lineError(row, *im.cols.lang, err)
	}
	phones, err := im.rowPhones(row, rec.Country)
	if err != nil {
		return rec, err
	}
	for _, p := range phones {
		rec.Phones = append(rec.Phones, im.phones.Digest(p))
	}
	return rec, nil
}

// rowPhones returns the row's distinct phone numbers in E.164, national
// ones read in the row's country, else in the region.
func (im *importer) rowPhones(row lists.Row, country string) ([]string, error) {
	var out []string
	for i := range im.cols.phones {
		c := &im.cols.phones[i]
		v := optionalValue(row, c)
		if v == "" {
			continue
		}
		plan, err := im.plan(country)
		if err != nil {
			return nil, lineError(row, *c, err)
		}
		e164, err := plan.Normalise(v)
		if err != nil {
			return nil, lineError(row, *c, err)
		}
		if !slices.Contains(out, e164) {
			out = append(out, e164)
		}
	}
	if len(out) > contactdb.MaxPhones {
		return nil, &lists.LineError{Line: row.Line, Err: fmt.Errorf("%d phone numbers, at most %d are kept", len(out), contactdb.MaxPhones)}
	}
	return out, nil
}

// plan is the phone normaliser for a row of country ("" for none).
func (im *importer) plan(country string) (*lists.PhoneNormaliser, error) {
	region := country
	if region == "" {
		region = im.o.Region
	}
	if p, ok := im.plans[region]; ok {
		return p, nil
	}
	p, err := lists.NewPhoneNormaliser(region)
	if err != nil {
		return nil, err
	}
	im.plans[region] = p
	return p, nil
}
