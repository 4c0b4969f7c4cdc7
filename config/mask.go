package config

import (
	"bytes"
	"log/slog"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// secret replaces every secret in Masked output.
const secret = "***"

// Masked returns the effective configuration as TOML, derived defaults
// filled in (store path, outbox), with the upstream and Redis passwords and
// the HMAC key replaced by "***".
func (c *Config) Masked() string {
	m := *c
	m.Upstream.URL = maskURL(c.UpstreamURL())
	if m.Store.Backend == BackendEmbedded {
		m.Store.Path = c.StorePath()
	}
	m.Store.RedisURL = maskURL(c.Store.RedisURL)
	m.Store.RedisPassword = maskString(c.Store.RedisPassword)
	m.Privacy.HMACKey = maskString(c.Privacy.HMACKey)
	m.Ledger = c.maskedLedger()
	m.Footer, _ = c.FooterDetails() // the sample details in force, so the output loads back
	m.effective(c)
	var b bytes.Buffer
	enc := toml.NewEncoder(&b)
	enc.Indent = ""
	if err := enc.Encode(m); err != nil {
		// Every field type here encodes; reaching this is a programming error.
		panic("config: encoding the masked config: " + err.Error())
	}
	return b.String()
}

// effective writes into m the values in force where c leaves a key to a
// default worked out at run time (0 or ""), so what config check prints is
// what the gateway does: a cap's hold of 10m, not "0s".
func (m *Config) effective(c *Config) {
	m.Caps = make([]Cap, len(c.Caps))
	for i, cp := range c.Caps {
		m.Caps[i] = cp.Effective()
	}
	m.Unsubscribe.RatePerMinute = c.UnsubscribeRate()
	m.Unsubscribe.BaseURL = c.UnsubscribeBaseURL()
	m.Unsubscribe.Org = c.UnsubscribeOrg()
	m.Unsubscribe.KeysFile = c.UnsubscribeKeysPath()
}

func maskString(s string) string {
	if s == "" {
		return ""
	}
	return secret
}

// maskURL hides the password of a URL. A URL that does not parse is hidden
// whole: there is no telling which part of it is secret.
func maskURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return secret
	}
	if _, ok := u.User.Password(); !ok {
		return raw
	}
	// url.URL would escape "*"; swap a placeholder it leaves alone.
	const placeholder = "MASKEDPASSWORD"
	u.User = url.UserPassword(u.User.Username(), placeholder)
	return strings.Replace(u.String(), placeholder, secret, 1)
}

// LogValue makes a logged *Config show the masked configuration as nested
// groups, so that logging it can never leak a secret.
func (c *Config) LogValue() slog.Value {
	var m map[string]any
	if _, err := toml.Decode(c.Masked(), &m); err != nil {
		return slog.StringValue("unavailable: " + err.Error())
	}
	return groupValue(m)
}

func groupValue(m map[string]any) slog.Value {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	attrs := make([]slog.Attr, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Any(k, logValue(m[k])))
	}
	return slog.GroupValue(attrs...)
}

func logValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return groupValue(t)
	case []map[string]any:
		attrs := make([]slog.Attr, len(t))
		for i, e := range t {
			attrs[i] = slog.Any(strconv.Itoa(i), groupValue(e))
		}
		return slog.GroupValue(attrs...)
	}
	return v
}

// LedgerURLMasked is [ledger] url with its password replaced by "***":
// what a backup's manifest may say of where the ledger is.
func (c *Config) LedgerURLMasked() string { return maskURL(c.Ledger.URL) }
