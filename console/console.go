package console

import (
	"context"
	"errors"
	"fmt"
	"github.com/dncgate/dncgate/webhook"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/dncgate/dncgate/auth"
	"github.com/dncgate/dncgate/console/importjob"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/store"
	"github.com/dncgate/dncgate/suppression"
)

// Prefix is where the console is mounted; every page lives below it.
const Prefix = "/console/"

// Defaults of the session lifetimes ([console] session_idle, session_max).
const (
	DefaultIdle = 30 * time.Minute
	DefaultMax  = 12 * time.Hour
)

// Users finds and updates accounts (store.Users).
type Users interface {
	User(ctx context.Context, email string) (store.User, error)
}

// Scrubber checks a prospect file (suppression.Checker does; serve gives
// the one that follows a configuration reload).
type Scrubber interface {
	Scrub(ctx context.Context, src io.Reader, out io.Writer, o suppression.ScrubOptions) (suppression.ScrubCounts, error)
}

// Authenticator checks passwords (package auth): the console shares its
// lock-out with SMTP AUTH and the check API.
type Authenticator interface {
	Login(ctx context.Context, a auth.Attempt) auth.Result
}

// Sessions keep the logins where every instance finds them (store.Sessions).
type Sessions interface {
	CreateSession(ctx context.Context, s store.Session, ttl time.Duration) error
	Session(ctx context.Context, id string) (store.Session, error)
	TouchSession(ctx context.Context, id string, seen time.Time, ttl time.Duration) error
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, user string) (int, error)
}

// Auditor appends to the audit trail (ledger.Ledger's Audit).
type Auditor interface {
	Audit(ctx context.Context, e ledger.AuditEvent) error
}

// Options configure the console.
type Options struct {
	Users    Users
	Sessions Sessions
	Login    Authenticator
	Audit    Auditor
	// Ledger is where the log pages read the decisions; nil: the ledger
	// is off and the pages say so. DigestKey is the store's digest key,
	// which turns a searched address into the ledger's key for it.
	Ledger    Ledger
	DigestKey []byte
	// Lists are the suppression lists (listdb.Store and ManualCounter):
	// nil leaves out the lists and upload pages. Contacts, when set, can
	// be uploaded too. MaxUpload bounds an uploaded file (default
	// DefaultMaxUpload); MaxRemoval gives a list's max_removal from the
	// configuration (nil: listimport's default). Background is the
	// context uploads run under, which outlives their request (default
	// context.Background()).
	// Erasure, when set, lets admins answer erasure requests (its
	// OptOuts on the same store and key as Lists).
	// Checker, when set, checks the prospect files reps upload (the
	// gateway's own recipient check).
	Lists      ListStore
	Checker    Scrubber
	Erasure    *suppression.Erasure
	Contacts   contactdb.Store
	MaxUpload  int64
	MaxRemoval func(list string) *float64
	Background context.Context
	// Accounts, when set, lets admins add and change users on the users
	// pages; PasswordCost is the bcrypt cost of the passwords they set
	// (auth.DefaultCost when 0, as the command line's).
	Accounts     AccountStore
	PasswordCost int
	// Second is the second factor (TOTP); nil: passwords only, which
	// refuses managers and admins.
	Second SecondFactor
	// Pages are pages defined outside this package, served beside the
	// built-in ones.
	Pages []Page
	// Banners, when set, gives the notices shown on every page of a
	// logged-in user (a stale list, a store in trouble).
	Banners func(ctx context.Context, u store.User) []Banner
	// Company names the company in the header ([footer] company); Logo,
	// when set, is shown beside it (LogoType its media type).
	Company  string
	Logo     []byte
	LogoType string
	// Insecure drops the cookie's Secure attribute and __Host- prefix, for
	// plain HTTP on a loopback listener only.
	Insecure bool
	Idle     time.Duration // default DefaultIdle
	Max      time.Duration // default DefaultMax
	// TrustedProxies are the proxies whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// CRM, when set, queues the [[webhooks]] event of an opt-out or an
	// erasure made here, before it is made: a failure refuses the change.
	CRM func(ctx context.Context, typ webhook.Type, addr, actor string) error
	Now func() time.Time // default time.Now
	Log *slog.Logger
}

// Console is the http.Handler mounted at Prefix.
type Console struct {
	o     Options
	mux   *http.ServeMux
	msgs  catalogs
	base  *template.Template
	pages []*page
	nav   []*page
	// errorPage renders Request.Fail.
	errorPage *page
	jobs      *importjob.Runner // the uploads
}

// New checks the options and parses every page's template.
func New(o Options) (*Console, error) {
	if o.Users == nil || o.Sessions == nil || o.Login == nil || o.Audit == nil || o.Log == nil {
		return nil, errors.New("console: users, sessions, an authenticator, an audit trail and a logger are needed")
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.Max <= 0 {
		o.Max = DefaultMax
	}
	if o.Idle > o.Max {
		return nil, fmt.Errorf("console: session_idle %s is longer than session_max %s", o.Idle, o.Max)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	msgs, err := loadCatalogs()
	if err != nil {
		return nil, err
	}
	base, err := template.New("layout").Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("console: layout: %w", err)
	}
	if o.Background == nil {
		o.Background = context.Background()
	}
	c := &Console{o: o, mux: http.NewServeMux(), msgs: msgs, base: base, jobs: importjob.New(maxJobs, jobKeep, o.Now)}
	c.mux.HandleFunc("GET "+Prefix+"static/{name}", c.static)
	if c.errorPage, err = c.parse(Page{Pattern: "GET " + Prefix, Public: true, Template: "error.html.tmpl", Serve: func(*Request) {}}); err != nil {
		return nil, err
	}
	for _, p := range append(c.builtinPages(), o.Pages...) {
		if err := c.add(p); err != nil {
			return nil, err
		}
	}
	c.mux.HandleFunc(Prefix, c.notFound)
	return c, nil
}

// add parses p's template and routes its pattern.
func (c *Console) add(p Page) error {
	pg, err := c.parse(p)
	if err != nil {
		return err
	}
	c.pages = append(c.pages, pg)
	if p.Nav != "" {
		c.nav = append(c.nav, pg)
	}
	c.mux.Handle(p.Pattern, c.guard(pg))
	return nil
}

// ServeHTTP answers every request below Prefix, with the security
// headers set first, whatever the answer.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	c.mux.ServeHTTP(w, r)
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == Prefix || r.URL.Path == Prefix[:len(Prefix)-1] {
		http.Redirect(w, r, HomePath, http.StatusSeeOther)
		return
	}
	rq, ok := c.request(w, r, nil)
	if !ok {
		return
	}
	rq.Fail(http.StatusNotFound, "error.notfound")
}

var _ fs.FS = templateFS
