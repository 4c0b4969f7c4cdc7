package config

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Webhook is one [[webhooks]] table: a CRM endpoint told of opt-outs and
// erasures.
type Webhook struct {
	Name       string   `toml:"name"` // names its jobs and metrics; default "webhook-N"
	URL        string   `toml:"url"`
	SecretFile string   `toml:"secret_file"`
	Events     []string `toml:"events"` // "opt-out", "erasure"
	Timeout    Duration `toml:"timeout"`
	MaxAge     Duration `toml:"max_age"` // retried this long, then dead-lettered
	// IncludeAddress sends the address itself beside its digest; off, the
	// CRM gets the keyed digest alone.
	IncludeAddress bool `toml:"include_address"`
}

// The event names [[webhooks]] events take.
const (
	EventOptOut  = "opt-out"
	EventErasure = "erasure"
	// MinWebhookSecretLen is the shortest signing secret accepted, in bytes.
	MinWebhookSecretLen = 16
)

// defaultWebhook is what each [[webhooks]] table starts from.
func defaultWebhook() Webhook {
	return Webhook{
		Events:  []string{EventOptOut, EventErasure},
		Timeout: Duration{10 * time.Second}, MaxAge: Duration{72 * time.Hour},
		IncludeAddress: true,
	}
}

// WebhookName is the name of the i-th webhook: its name, else "webhook-N".
func (c *Config) WebhookName(i int) string {
	if n := c.Webhooks[i].Name; n != "" {
		return n
	}
	return "webhook-" + strconv.Itoa(i+1)
}

func (c *Config) checkWebhooks(col *collector) {
	seen := map[string]string{}
	for i, w := range c.Webhooks {
		key := "webhooks[" + strconv.Itoa(i) + "]"
		name := c.WebhookName(i)
		if prev, ok := seen[name]; ok {
			col.add(key+".name", "%s already uses the name %q", prev, name)
		}
		seen[name] = key
		if w.Name != "" && strings.Trim(w.Name, listNameChars) != "" {
			col.add(key+".name", "%q: use letters, digits, '-', '_' and '.'", w.Name)
		}
		checkWebhookURL(col, key+".url", w.URL)
		if checkFile(col, key+".secret_file", w.SecretFile, "a webhook (the key its requests are signed with)") {
			if _, err := readWebhookSecret(w.SecretFile); err != nil {
				col.add(key+".secret_file", "%v", err)
			}
		}
		if len(w.Events) == 0 {
			col.add(key+".events", `empty: give "opt-out", "erasure" or both`)
		}
		for j, e := range w.Events {
			if e != EventOptOut && e != EventErasure {
				col.add(fmt.Sprintf("%s.events[%d]", key, j), `unknown event %q; use "opt-out" or "erasure"`, e)
			}
		}
		if w.Timeout.Duration <= 0 || w.Timeout.Duration > 5*time.Minute {
			col.add(key+".timeout", "%s: give a time from 1s to 5m", w.Timeout)
		}
		if w.MaxAge.Duration < time.Minute {
			col.add(key+".max_age", "%s: retry for at least 1m before giving up", w.MaxAge)
		}
	}
}

func checkWebhookURL(col *collector, key, raw string) {
	if raw == "" {
		col.add(key, "required: the endpoint's https:// URL")
		return
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		col.add(key, "not a URL: %v", err)
	case u.Scheme != "https" && u.Scheme != "http":
		col.add(key, "%q: want an https:// (or http://) URL", u.Scheme)
	case u.Host == "":
		col.add(key, "no host")
	}
}

// WebhookSecret reads the i-th webhook's signing secret.
func (c *Config) WebhookSecret(i int) ([]byte, error) {
	return readWebhookSecret(c.Webhooks[i].SecretFile)
}

// readWebhookSecret reads the file's one line. Errors never echo it.
func readWebhookSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s := strings.TrimSpace(string(b))
	switch {
	case strings.ContainsAny(s, " \t\r\n"):
		return nil, fmt.Errorf("%s: the secret must be one word on one line", path)
	case len(s) < MinWebhookSecretLen:
		return nil, fmt.Errorf("%s: the secret is %d bytes; at least %d are needed (make one with: head -c 32 /dev/urandom | base64)", path, len(s), MinWebhookSecretLen)
	}
	return []byte(s), nil
}
