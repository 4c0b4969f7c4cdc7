// Package config reads dncgate's TOML configuration: defaults, a strict
// decode that names the key and line of every mistake, and validation.
package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/dncgate/dncgate/smtpurl"
)

// DefaultDataDir is where state lives when server.data_dir is not set.
const DefaultDataDir = "./dncgate-data"

// DefaultListenAddress is the one plain listener used when no [[listener]]
// is configured: loopback only, so a fresh install is never an open relay.
const DefaultListenAddress = "127.0.0.1:2525"

// Config is the whole configuration. The zero value is not useful; start
// from Default or Load.
type Config struct {
	Server      Server      `toml:"server"`
	Listeners   []Listener  `toml:"listener"`
	Upstream    Upstream    `toml:"upstream"`
	Store       Store       `toml:"store"`
	Limits      Limits      `toml:"limits"`
	Auth        Auth        `toml:"auth"`
	Privacy     Privacy     `toml:"privacy"`
	Log         Log         `toml:"log"`
	Web         Web         `toml:"web"`
	Caps        []Cap       `toml:"caps"`
	CapsOpts    CapsOptions `toml:"caps_options"`
	Footer      Footer      `toml:"footer"`
	Unsubscribe Unsubscribe `toml:"unsubscribe"`
	DKIM        DKIM        `toml:"dkim"`
	Policy      Policy      `toml:"policy"`
	Lists       []ListDecl  `toml:"lists"`
	Ledger      Ledger      `toml:"ledger"`
	Relay       Relay       `toml:"relay"`
	Console     Console     `toml:"console"`
	Bounces     Bounces     `toml:"bounces"`
	Autoconfig  Autoconfig  `toml:"autoconfig"`
	Webhooks    []Webhook   `toml:"webhooks"`

	src *source // where each key was written; nil for defaults only
}

// Server holds the gateway's identity and state folder.
type Server struct {
	Hostname string `toml:"hostname"`
	DataDir  string `toml:"data_dir"`
	// ReceivedClient names the rep's machine (HELO and address) in the
	// Received field of every copy; off, the field names the gateway only.
	ReceivedClient bool `toml:"received_client"`
	// TrustedProxies are the load balancers and reverse proxies (addresses
	// or CIDR networks) whose word on the real client is believed: their
	// PROXY protocol headers and X-Forwarded-For. None by default.
	TrustedProxies []string `toml:"trusted_proxies"`
}

// Listener is one SMTP submission socket.
type Listener struct {
	Name              string    `toml:"name"`
	Address           string    `toml:"address"`
	TLS               TLSMode   `toml:"tls"`
	CertFile          string    `toml:"cert_file"`
	KeyFile           string    `toml:"key_file"`
	AllowInsecureAuth bool      `toml:"allow_insecure_auth"`
	Trusted           []Trusted `toml:"trusted"`
	OnRefusal         OnRefusal `toml:"on_refusal"`
	// ProxyProtocol makes the listener read a PROXY protocol header (v1
	// or v2) from each connection, sent by a trusted proxy.
	ProxyProtocol bool `toml:"proxy_protocol"`
}

// OnRefusal is how a listener answers for a recipient the check or a cap
// refuses.
type OnRefusal string

const (
	// DropAndNotify accepts the recipient, leaves it out and sends the rep
	// a report: many clients abort the whole message on one refused RCPT.
	DropAndNotify OnRefusal = "drop-and-notify"
	// RejectAtRcpt refuses the recipient at RCPT with 550 5.7.1.
	RejectAtRcpt OnRefusal = "reject"
)

// Trusted is a client network accepted without AUTH, acting as Identity.
type Trusted struct {
	Network  string `toml:"network"`
	Identity string `toml:"identity"`
}

// Upstream is the mail server that receives what the gateway accepts.
type Upstream struct {
	// URL is smtp://, smtp+starttls://, smtps:// or outbox:DIR; empty means
	// outbox:DATA_DIR/outbox.
	URL            string   `toml:"url"`
	TLSVerify      bool     `toml:"tls_verify"`
	CAFile         string   `toml:"ca_file"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	CommandTimeout Duration `toml:"command_timeout"`
	DataTimeout    Duration `toml:"data_timeout"`
	MaxIdleConns   int      `toml:"max_idle_conns"`
	IdleTimeout    Duration `toml:"idle_timeout"`
	Parallel       int      `toml:"parallel"`
}

// Store selects and addresses the persistence backend.
type Store struct {
	Backend       Backend  `toml:"backend"`
	Path          string   `toml:"path"`
	RedisURL      string   `toml:"redis_url"`
	RedisCluster  []string `toml:"redis_cluster"`
	RedisUsername string   `toml:"redis_username"`
	RedisPassword string   `toml:"redis_password"`
	RedisTLS      bool     `toml:"redis_tls"`
	RedisCAFile   string   `toml:"redis_ca_file"`
	Prefix        string   `toml:"prefix"`
}

// Limits bound what one client may make the gateway do.
type Limits struct {
	MaxMessageSize    Size     `toml:"max_message_size"`
	MaxRecipients     int      `toml:"max_recipients"`
	MaxLineLength     int      `toml:"max_line_length"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	PreAuthTimeout    Duration `toml:"preauth_timeout"`
	SessionTimeout    Duration `toml:"session_timeout"`
	MaxConns          int      `toml:"max_conns"`
	MaxConnsPerIP     int      `toml:"max_conns_per_ip"`
	MaxErrors         int      `toml:"max_errors"`
	RememberDelivered Duration `toml:"remember_delivered"`
}

// Auth tunes the slow-down and lock-out after failed logins.
type Auth struct {
	FailWindow       Duration `toml:"fail_window"`
	SlowAfter        int      `toml:"slow_after"`         // per user name and client
	BlockAfter       int      `toml:"block_after"`        // per user name and client
	ClientBlockAfter int      `toml:"client_block_after"` // per client, every name
	UserBlockAfter   int      `toml:"user_block_after"`   // per user name, every client
	MaxDelay         Duration `toml:"max_delay"`
}

// Privacy holds the key that turns addresses into keyed digests.
type Privacy struct {
	HMACKey     string `toml:"hmac_key"`
	HMACKeyFile string `toml:"hmac_key_file"`
}

// Log configures the operational log.
type Log struct {
	Format LogFormat `toml:"format"`
	Level  LogLevel  `toml:"level"`
}

// Web configures the HTTP side; an empty Listen turns it off.
type Web struct {
	Listen string `toml:"listen"`
	// ProxyProtocol makes the HTTP listener read a PROXY protocol header
	// from each connection, sent by a trusted proxy.
	ProxyProtocol bool `toml:"proxy_protocol"`
	// Metrics serves Prometheus metrics at /metrics; default true.
	Metrics bool `toml:"metrics"`
	// MetricsTokenFile holds the bearer token a scrape of /metrics must
	// present; empty: none asked.
	MetricsTokenFile string `toml:"metrics_token_file"`
	// Pprof serves Go's profiles (net/http/pprof) under /debug/pprof/ to
	// requests bearing the token of PprofTokenFile; default false.
	Pprof          bool   `toml:"pprof"`
	PprofTokenFile string `toml:"pprof_token_file"`
}

// CapsOptions tune every [[caps]] table at once.
type CapsOptions struct {
	// ExemptReplies leaves out of the caps a message whose In-Reply-To
	// names a Message-ID the gateway never sent: it answers mail the
	// prospect wrote.
	ExemptReplies bool `toml:"exempt_replies"`
}

// Default returns the configuration used for every key a file leaves out.
func Default() *Config {
	return &Config{
		Server:  Server{Hostname: defaultHostname(), DataDir: DefaultDataDir},
		Web:     Web{Metrics: true},
		Console: defaultConsole(),
		Listeners: []Listener{
			{Name: "default", Address: DefaultListenAddress, TLS: TLSNone, OnRefusal: DropAndNotify},
		},
		Upstream: Upstream{
			TLSVerify:      true,
			ConnectTimeout: Duration{10 * time.Second},
			CommandTimeout: Duration{time.Minute},
			DataTimeout:    Duration{5 * time.Minute},
			MaxIdleConns:   8,
			IdleTimeout:    Duration{30 * time.Second},
			Parallel:       4,
		},
		Store:  Store{Backend: BackendEmbedded, Prefix: "dncgate:"},
		Limits: defaultLimits(),
		Auth: Auth{FailWindow: Duration{15 * time.Minute}, SlowAfter: 3, BlockAfter: 10,
			ClientBlockAfter: 30, UserBlockAfter: 100, MaxDelay: Duration{5 * time.Second}},
		Log:         Log{Format: LogText, Level: LevelInfo},
		Policy:      defaultPolicy(),
		Footer:      defaultFooter(),
		Unsubscribe: Unsubscribe{TokenMaxAge: Duration{DefaultTokenMaxAge}},
		Ledger:      defaultLedger(),
		Bounces:     defaultBounces(),
	}
}

func defaultLimits() Limits {
	return Limits{
		MaxMessageSize:    25 * MB,
		MaxRecipients:     100,
		MaxLineLength:     2000,
		IdleTimeout:       Duration{5 * time.Minute},
		PreAuthTimeout:    Duration{time.Minute},
		SessionTimeout:    Duration{30 * time.Minute},
		MaxConns:          1000,
		MaxConnsPerIP:     20,
		MaxErrors:         20,
		RememberDelivered: Duration{72 * time.Hour},
	}
}

// defaultListener is what each [[listener]] table starts from.
func defaultListener() Listener {
	return Listener{TLS: TLSNone, OnRefusal: DropAndNotify}
}

func defaultHostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// StorePath is the embedded store's file: store.path, else DATA_DIR/dncgate.db.
func (c *Config) StorePath() string {
	if c.Store.Path != "" {
		return c.Store.Path
	}
	return filepath.Join(c.Server.DataDir, "dncgate.db")
}

// UpstreamURL is upstream.url, or the outbox under the data folder when unset.
func (c *Config) UpstreamURL() string {
	if c.Upstream.URL != "" {
		return c.Upstream.URL
	}
	return outboxScheme + filepath.Join(c.Server.DataDir, "outbox")
}

// OutboxDir returns the folder of an outbox: upstream, and false for SMTP.
func (c *Config) OutboxDir() (string, bool) {
	s, err := smtpurl.Parse(c.UpstreamURL())
	if err != nil || s.Scheme != smtpurl.SchemeOutbox {
		return "", false
	}
	return s.Dir, true
}

// HMACKeyPath is where the generated digest key lives for the embedded store.
func (c *Config) HMACKeyPath() string {
	if c.Privacy.HMACKeyFile != "" {
		return c.Privacy.HMACKeyFile
	}
	return filepath.Join(c.Server.DataDir, "hmac.key")
}

// Prefix is the parsed network; Validate has refused unparsable ones.
func (t Trusted) Prefix() netip.Prefix {
	p, _ := TrustedNetwork(t.Network)
	return p
}

// Proxies are server.trusted_proxies parsed; Validate has refused
// unparsable ones.
func (c *Config) Proxies() []netip.Prefix {
	out := make([]netip.Prefix, 0, len(c.Server.TrustedProxies))
	for _, s := range c.Server.TrustedProxies {
		if p, err := TrustedNetwork(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Label names the listener in logs: its name, else its address.
func (l Listener) Label() string {
	if l.Name != "" {
		return l.Name
	}
	return l.Address
}
