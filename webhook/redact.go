package webhook

import (
	"errors"
	"net/url"
)

// redactURL keeps a URL's query (where a receiver may put a token) out of
// transport errors, which get logged.
func redactURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		u, perr := url.Parse(ue.URL)
		if perr == nil {
			u.RawQuery, u.User = "", nil
			return &url.Error{Op: ue.Op, URL: u.Redacted(), Err: ue.Err}
		}
	}
	return err
}
