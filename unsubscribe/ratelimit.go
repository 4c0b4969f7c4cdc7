package unsubscribe

import (
	"time"

	"github.com/dncgate/dncgate/internal/ratelimit"
)

// DefaultTrustedProxies are the proxies whose X-Forwarded-For is believed
// when Options.TrustedProxies is nil: a reverse proxy on the same host.
var DefaultTrustedProxies = ratelimit.LocalProxies

// rateWindow is the period the per-client limit counts over.
const rateWindow = time.Minute
