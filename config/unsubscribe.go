package config

// DefaultUnsubscribeRate is how many requests a minute one client address
// may make to the unsubscribe endpoint when unsubscribe.rate_per_minute
// is not set: far more than a person clicking, far fewer than a scanner.
const DefaultUnsubscribeRate = 30

// UnsubscribeRate is unsubscribe.rate_per_minute, or the default when the
// file leaves it out or sets 0.
func (c *Config) UnsubscribeRate() int {
	if c.Unsubscribe.RatePerMinute == 0 {
		return DefaultUnsubscribeRate
	}
	return c.Unsubscribe.RatePerMinute
}

// checkUnsubscribeListeners checks the keys of the endpoint and of the
// mailto listener, which serve opt-outs whether or not footers are on.
func (c *Config) checkUnsubscribeListeners(col *collector) {
	u := c.Unsubscribe
	if u.RatePerMinute < 0 {
		col.add("unsubscribe.rate_per_minute", "must be 0 (the default, %d) or more", DefaultUnsubscribeRate)
	}
	if u.MailtoListen == "" {
		return
	}
	checkHostPort(col, "unsubscribe.mailto_listen", u.MailtoListen, 0)
	if u.MailtoDomain == "" {
		col.add("unsubscribe.mailto_listen", "needs unsubscribe.mailto_domain: the listener accepts only unsubscribe+TOKEN@ that domain")
	}
}
