package suppression

// The shipped country rules, used when [policy] presets is true (the
// default). They follow the regulators' guidance summarised in the README
// ("Country policy") as of 2026. They are defaults to review with counsel,
// not legal advice: sector bans, soft opt-in for existing customers and
// every later change in the law are for the admin's [[policy.rule]]
// tables, which override a preset for the types they set.
//
// "Consent" means the recipient must be on a fresh consent or clearance
// list governing the country; an admin who relies on soft opt-in (UK PECR
// reg. 22(3)) imports existing customers into such a list.

// presets returns the shipped rule of each country. None carries a start
// date: each was in force before this software existed.
func presets() []ruleSet {
	both := func(consumers, businesses Action) map[RecipientType]Action {
		return map[RecipientType]Action{
			Consumer: consumers, SoleTrader: consumers, Business: businesses, Role: businesses,
		}
	}
	return []ruleSet{
		// France (CPCE art. L34-5, CNIL): prior consent from private
		// people; professionals may be e-mailed about their job with an
		// opt-out in every message. Sole traders are private people here.
		{country: "FR", actions: both(Consent, Allow)},
		// Germany (UWG §7(2) no. 2): prior express consent for everyone,
		// no B2B exception for advertising e-mail.
		{country: "DE", actions: both(Consent, Consent)},
		// Spain (LSSI art. 21): prior consent for everyone.
		{country: "ES", actions: both(Consent, Consent)},
		// United Kingdom (PECR reg. 22): consent (or soft opt-in) for
		// individual subscribers, sole traders included; corporate
		// subscribers need none.
		{country: "GB", actions: both(Consent, Allow)},
		// Belgium (Code of Economic Law, art. XII.13 and its royal decree
		// of 4 April 2003): opt-in for everyone, except generic business
		// addresses (info@…), which may be e-mailed with an opt-out.
		{country: "BE", actions: map[RecipientType]Action{
			Consumer: Consent, SoleTrader: Consent, Business: Consent, Role: Allow,
		}},
		// Netherlands (Telecommunicatiewet art. 11.7): opt-in, extended
		// to businesses.
		{country: "NL", actions: both(Consent, Consent)},
		// Italy: the domain notes this product ships with have no e-mail
		// row for Italy, so this is the GDPR/ePrivacy default (Directive
		// 2002/58/EC art. 13): consent for private people, sole traders
		// included; businesses and role addresses allowed with an opt-out.
		{country: "IT", actions: both(Consent, Allow)},
		// Every other country, and a recipient whose country cannot be
		// learnt (a .com address, no contact, no default_country): the
		// ePrivacy baseline (Directive 2002/58/EC art. 13) of consent for
		// private people, so that nothing unknown fails open; businesses
		// and role addresses allowed with an opt-out.
		{country: AnyCountry, actions: both(Consent, Allow)},
	}
}
