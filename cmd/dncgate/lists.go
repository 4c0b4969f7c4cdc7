package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// List models: a deny list holds who may not be contacted, a clearance
// list who may be.
const (
	modelDeny      = "deny"
	modelClearance = "clearance"
)

// allCountries given to --country means the list applies everywhere.
const allCountries = "all"

// day is the unit --max-age accepts beyond Go durations ("5d").
const day = 24 * time.Hour

func (a *app) lists(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate lists", []command{
		{"import", "import a file as the new version of a list", (*app).listsImport},
		{"ls", "list the lists with their entries and freshness", (*app).listsLs},
		{"show", "show a list's description and current version", (*app).listsShow},
		{"add", "put one value on a list by hand", (*app).listsAdd},
		{"remove", "take one value off a list by hand", (*app).listsRemove},
		{"drop", "delete a list and all its entries", (*app).listsDrop},
		{"help", "print this help", nil},
	}, args)
}

// listsCmd holds what every lists subcommand parses.
type listsCmd struct {
	common
	fs *flagSet
}

func (a *app) newListsCmd(name, args, summary string) *listsCmd {
	c := &listsCmd{fs: a.newFlags("dncgate lists "+name, args, summary)}
	c.register(c.fs)
	return c
}

// listEnv is what a lists subcommand works with once the store is open.
type listEnv struct {
	cfg *config.Config
	db  listdb.Store
	key []byte // nil unless asked for
}

// withStore loads the configuration, opens the store and runs f with its
// lists; withKey also reads the digest key.
func (c *listsCmd) withStore(ctx context.Context, withKey bool, f func(listEnv) error) error {
	cfg, err := c.load()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	db, ok := st.(listdb.Store)
	if !ok {
		return fmt.Errorf("the %s store keeps no lists", cfg.Store.Backend)
	}
	env := listEnv{cfg: cfg, db: db}
	if withKey {
		if env.key, err = cfg.HMACKey(); err != nil {
			return fmt.Errorf("digest key: %w", err)
		}
	}
	return f(env)
}

// digester keys normalised values of one kind as the store holds them.
type digester struct {
	mac    hash.Hash
	prefix string
	sum    []byte
}

func newDigester(key []byte, k lists.Kind) *digester {
	return &digester{mac: hmac.New(sha256.New, key), prefix: k.String() + ":", sum: make([]byte, 0, sha256.Size)}
}

// digest returns the first 16 bytes of HMAC-SHA256(key, kind ":" value),
// value being already normalised. The kind is part of the input so equal
// text on lists of different kinds never shares a key.
func (d *digester) digest(value string) listdb.Digest {
	d.mac.Reset()
	io.WriteString(d.mac, d.prefix)
	io.WriteString(d.mac, value)
	d.sum = d.mac.Sum(d.sum[:0])
	var out listdb.Digest
	copy(out[:], d.sum)
	return out
}

// digestFor is the key of one normalised value of kind k. The check at
// RCPT time must compute the same, or nothing will ever match.
func digestFor(key []byte, k lists.Kind, value string) listdb.Digest {
	return newDigester(key, k).digest(value)
}

// parseMaxAge reads --max-age: a Go duration ("36h") or whole days ("5d").
func parseMaxAge(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days < 0 {
			return 0, fmt.Errorf("max age %q: want whole days such as 5d, or a duration such as 36h", s)
		}
		return time.Duration(days) * day, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("max age %q: want whole days such as 5d, or a duration such as 36h", s)
	}
	return d, nil
}

// parseCountries reads the --country values: ISO 3166-1 alpha-2 codes, or
// "all" alone for a list that applies everywhere (stored as none).
func parseCountries(given []string) ([]string, error) {
	var out []string
	for _, cc := range given {
		cc = strings.ToUpper(strings.TrimSpace(cc))
		if strings.EqualFold(cc, allCountries) {
			if len(given) > 1 {
				return nil, errors.New(`--country all cannot be combined with country codes`)
			}
			return nil, nil
		}
		if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
			return nil, fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code (such as FR, DE, GB) or all", cc)
		}
		if cc == "UK" {
			cc = "GB"
		}
		out = append(out, cc)
	}
	return out, nil
}

func checkModel(m string) error {
	if m != modelDeny && m != modelClearance {
		return fmt.Errorf("model %q: want %s or %s", m, modelDeny, modelClearance)
	}
	return nil
}

// listRegion is the default region for national phone numbers: the one
// given, else the list's single country.
func listRegion(given string, m listdb.Meta) string {
	if given != "" || len(m.Countries) != 1 {
		return given
	}
	return m.Countries[0]
}

func (a *app) listsLs(ctx context.Context, args []string) error {
	c := a.newListsCmd("ls", "", "List every list: its kind, model, countries, entries, current version,\n"+
		"when it was imported, its age and whether it is fresh or stale by its max age.")
	if _, err := c.fs.parse(args, 0, 0); err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		infos, err := env.db.Lists(ctx)
		if err != nil {
			return fmt.Errorf("reading the lists: %w", err)
		}
		return writeLists(a.stdout, infos, time.Now())
	})
}

func writeLists(w io.Writer, infos []listdb.Info, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tMODEL\tCOUNTRIES\tENTRIES\tVERSION\tIMPORTED (UTC)\tAGE\tSTATE")
	for _, in := range infos {
		m, v := in.Meta, in.Current
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", m.Name, m.Kind, m.Model, countriesText(m.Countries),
			v.Entries, orDash(v.ID), importedText(v), ageText(v, now), freshness(m, v, now))
	}
	return tw.Flush()
}

func countriesText(cc []string) string {
	if len(cc) == 0 {
		return allCountries
	}
	return strings.Join(cc, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func importedText(v listdb.Version) string {
	if v.ID == "" {
		return "never"
	}
	return v.ImportedAt.UTC().Format(time.DateTime)
}

func ageText(v listdb.Version, now time.Time) string {
	if v.ID == "" {
		return "-"
	}
	age := now.Sub(v.ImportedAt)
	if age >= day {
		return fmt.Sprintf("%dd%s", age/day, (age % day).Truncate(time.Hour))
	}
	return age.Truncate(time.Second).String()
}

// freshness says whether a list may be relied on: a list never imported
// is empty, one older than its max age is stale.
func freshness(m listdb.Meta, v listdb.Version, now time.Time) string {
	switch {
	case v.ID == "":
		return "empty"
	case m.MaxAge > 0 && now.Sub(v.ImportedAt) > m.MaxAge:
		return "stale"
	}
	return "fresh"
}

func (a *app) listsShow(ctx context.Context, args []string) error {
	c := a.newListsCmd("show", "NAME", "Show a list's description and its current version.")
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		m, v, err := env.db.List(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		writeList(a.stdout, m, v, time.Now())
		return nil
	})
}

func writeList(w io.Writer, m listdb.Meta, v listdb.Version, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	maxAge := "none"
	switch {
	case m.MaxAge > 0 && m.MaxAge%day == 0:
		maxAge = fmt.Sprintf("%dd", m.MaxAge/day)
	case m.MaxAge > 0:
		maxAge = m.MaxAge.String()
	}
	fmt.Fprintf(tw, "name:\t%s\nkind:\t%s\nmodel:\t%s\ncountries:\t%s\nmax age:\t%s\nsource:\t%s\n",
		m.Name, m.Kind, m.Model, countriesText(m.Countries), maxAge, orDash(m.Source))
	fmt.Fprintf(tw, "state:\t%s\nversion:\t%s\n", freshness(m, v, now), orDash(v.ID))
	if v.ID != "" {
		fmt.Fprintf(tw, "imported:\t%s UTC by %s (age %s)\nfile sha-256:\t%s\n", importedText(v), orDash(v.ImportedBy), ageText(v, now), v.FileSHA256)
		fmt.Fprintf(tw, "rows:\t%d\nvalid:\t%d\ninvalid:\t%d\nentries:\t%d\n", v.Rows, v.Valid, v.Invalid, v.Entries)
	}
	tw.Flush()
}

// entryCmd is lists add and lists remove: one value, by hand.
type entryCmd struct {
	*listsCmd
	region, reason, by *string
}

func (a *app) newEntryCmd(name, summary string) *entryCmd {
	c := &entryCmd{listsCmd: a.newListsCmd(name, "NAME VALUE", summary)}
	c.region = c.fs.String("region", "", "default `CC` for national phone numbers (default: the list's single country)")
	c.reason = c.fs.String("reason", "", "why, for the log (`TEXT`; not stored)")
	c.by = c.fs.String("by", "", "`NAME` of who decides, for the log (default: $SUDO_USER, else $USER)")
	return c
}

// run normalises and keys VALUE for list NAME and hands the digest to
// change; the decision is logged with who made it and why, since the
// store keeps only the digest.
func (c *entryCmd) run(ctx context.Context, a *app, args []string, verb string,
	change func(listdb.Store, string, listdb.Digest) error) error {
	pos, err := c.fs.parse(args, 2, 2)
	if err != nil {
		return err
	}
	name, value, who := pos[0], pos[1], operator(*c.by)
	return c.withStore(ctx, true, func(env listEnv) error {
		m, _, err := env.db.List(ctx, name)
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		kind, err := lists.ParseKind(m.Kind)
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		norm, err := lists.NewNormaliser(kind, listRegion(*c.region, m))
		if err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		key, err := norm.Normalise(value)
		if err != nil {
			return c.fs.usageError("%q: %v", value, err)
		}
		d := digestFor(env.key, kind, key)
		if err := change(env.db, name, d); err != nil {
			return fmt.Errorf("list %s: %w", name, err)
		}
		newLogger(env.cfg.Log, a.stderr).Info("list entry "+verb, "list", name,
			"digest", hex.EncodeToString(d[:]), "by", who, "reason", *c.reason)
		fmt.Fprintf(a.stdout, "%s %s %s %s (by %s)\n", verb, key, map[string]string{"added": "to", "removed": "from"}[verb], name, who)
		return nil
	})
}

func (a *app) listsAdd(ctx context.Context, args []string) error {
	c := a.newEntryCmd("add", "Put VALUE on list NAME by hand; it stays there across re-imports until\n"+
		"removed. The reason is logged with who added it, not stored.")
	return c.run(ctx, a, args, "added", func(db listdb.Store, name string, d listdb.Digest) error {
		if strings.TrimSpace(*c.reason) == "" {
			return errors.New("give the reason for the addition with --reason TEXT")
		}
		return db.AddEntry(ctx, name, d)
	})
}

func (a *app) listsRemove(ctx context.Context, args []string) error {
	c := a.newEntryCmd("remove", "Take VALUE off list NAME by hand, also when an import holds it; it stays\n"+
		"off across re-imports until added again. The removal is logged.")
	return c.run(ctx, a, args, "removed", func(db listdb.Store, name string, d listdb.Digest) error {
		return db.RemoveEntry(ctx, name, d)
	})
}

func (a *app) listsDrop(ctx context.Context, args []string) error {
	c := a.newListsCmd("drop", "NAME", "Delete list NAME with all its versions and manual entries.")
	by := c.fs.String("by", "", "`NAME` of who drops it, for the log (default: $SUDO_USER, else $USER)")
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env listEnv) error {
		if err := env.db.DropList(ctx, pos[0]); err != nil {
			return fmt.Errorf("list %s: %w", pos[0], err)
		}
		who := operator(*by)
		newLogger(env.cfg.Log, a.stderr).Info("list dropped", "list", pos[0], "by", who)
		fmt.Fprintf(a.stdout, "dropped list %s (by %s)\n", pos[0], who)
		return nil
	})
}

// Import tuning.
const (
	// importBatch is how many digests go to Writer.Add at once (1 MiB):
	// the stores are much faster with large batches.
	importBatch = 64 << 10
	// progressEvery is how many rows pass between progress lines.
	progressEvery = 500_000
	// maxShownInvalid is how many invalid rows the summary lists.
	maxShownInvalid = 20
)

// importFlags are the flags of lists import.
type importFlags struct {
	kind, model, source, maxAge, column, delimiter, encoding, region, by string
	countries                                                            listFlag
	header, noHeader, dryRun                                             bool
}

func (o *importFlags) register(fs *flagSet) {
	fs.StringVar(&o.kind, "kind", "", "list `KIND`: email, domain, phone, email-sha256, email-sha1, email-md5 (required for a new list)")
	fs.StringVar(&o.model, "model", "", "`MODEL`: deny or clearance (required for a new list)")
	fs.Var(&o.countries, "country", "`CC` the list applies to (repeatable), or all")
	fs.StringVar(&o.maxAge, "max-age", "", "`AGE` after which the list is stale: 5d, 36h (default: never)")
	fs.StringVar(&o.source, "source", "", "where the file comes from (`TEXT`)")
	fs.StringVar(&o.column, "column", "1", "the values' column: header `NAME` or position N")
	fs.StringVar(&o.delimiter, "delimiter", "", "field `DELIMITER`: comma, semicolon, tab, pipe (default: sniffed)")
	fs.BoolVar(&o.header, "header", false, "the first row names the columns")
	fs.BoolVar(&o.noHeader, "no-header", false, "the first row is data (the default)")
	fs.StringVar(&o.encoding, "encoding", "utf-8", "`ENCODING` of a file without a byte-order mark: utf-8, windows-1252, latin-1")
	fs.StringVar(&o.region, "region", "", "default `CC` for national phone numbers (default: the list's single country)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the file, write nothing")
	fs.StringVar(&o.by, "by", "", "`NAME` of who imports (default: $SUDO_USER, else $USER)")
}

func (o *importFlags) readOptions() (lists.ReadOptions, error) {
	if o.header && o.noHeader {
		return lists.ReadOptions{}, errors.New("--header and --no-header contradict each other")
	}
	ro := lists.ReadOptions{Header: o.header}
	var err error
	if ro.Encoding, err = lists.ParseEncoding(o.encoding); err != nil {
		return ro, err
	}
	if o.delimiter != "" {
		ro.Delimiter, err = lists.ParseDelimiter(o.delimiter)
	}
	return ro, err
}

// meta is the description the import leaves: the stored one with what the
// flags change, or a new one; created says the list does not exist yet.
func (o *importFlags) meta(ctx context.Context, db listdb.Store, name string) (m listdb.Meta, created bool, err error) {
	m, _, err = db.List(ctx, name)
	switch {
	case errors.Is(err, listdb.ErrNotFound):
		if o.kind == "" || o.model == "" {
			return m, true, fmt.Errorf("list %s is new: give its --kind and --model", name)
		}
		m, created = listdb.Meta{Name: name}, true
	case err != nil:
		return m, false, fmt.Errorf("list %s: %w", name, err)
	case o.kind != "" && o.kind != m.Kind:
		// Its entries are keyed with the kind: they could not be mixed.
		return m, false, fmt.Errorf("list %s holds %s entries, not %s; drop it first to change its kind", name, m.Kind, o.kind)
	}
	return m, created, o.apply(&m)
}

func (o *importFlags) apply(m *listdb.Meta) error {
	if o.kind != "" {
		k, err := lists.ParseKind(o.kind)
		if err != nil {
			return err
		}
		m.Kind = k.String()
	}
	if o.model != "" {
		if err := checkModel(o.model); err != nil {
			return err
		}
		m.Model = o.model
	}
	if len(o.countries) > 0 {
		cc, err := parseCountries(o.countries)
		if err != nil {
			return err
		}
		m.Countries = cc
	}
	if o.maxAge != "" {
		age, err := parseMaxAge(o.maxAge)
		if err != nil {
			return err
		}
		m.MaxAge = age
	}
	if o.source != "" {
		m.Source = o.source
	}
	return nil
}

func (a *app) listsImport(ctx context.Context, args []string) error {
	c := a.newListsCmd("import", "NAME FILE", "Read FILE (CSV, plain, gzip, bzip2 or a zip holding one file) and make its\n"+
		"values the new version of list NAME, created when new. Invalid rows are\n"+
		"counted and the first ones shown; a file that cannot be read to its end\n"+
		"leaves the current version in force and exits 1.")
	var o importFlags
	o.register(c.fs)
	pos, err := c.fs.parse(args, 2, 2)
	if err != nil {
		return err
	}
	if err := listdb.CheckName(pos[0]); err != nil {
		return c.fs.usageError("%v", err)
	}
	ro, err := o.readOptions()
	if err != nil {
		return c.fs.usageError("%v", err)
	}
	return c.withStore(ctx, true, func(env listEnv) error {
		m, created, err := o.meta(ctx, env.db, pos[0])
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		imp := &importer{a: a, env: env, meta: m, created: created, file: pos[1], dryRun: o.dryRun, by: operator(o.by), progress: !isTerminal(a.stderr)}
		return imp.run(ctx, ro, o.column, listRegion(o.region, m))
	})
}

// importer reads one file into a new version of one list.
type importer struct {
	a       *app
	env     listEnv
	meta    listdb.Meta
	created bool // the list is new: it is dropped again when the import fails
	file    string
	dryRun  bool
	by      string
	// progress says to print progress lines: stderr is not a terminal,
	// where a bar would fit better, so it is a log.
	progress bool

	counts  listdb.Version
	shown   []string // the first invalid rows, "line N: reason"
	batch   []listdb.Digest
	writer  listdb.Writer // nil on a dry run
	digests *digester
	norm    *lists.Normaliser
}

func (im *importer) run(ctx context.Context, ro lists.ReadOptions, column, region string) error {
	kind, err := lists.ParseKind(im.meta.Kind)
	if err != nil {
		return fmt.Errorf("list %s: %w", im.meta.Name, err)
	}
	if im.norm, err = lists.NewNormaliser(kind, region); err != nil {
		return fmt.Errorf("list %s: %w", im.meta.Name, err)
	}
	im.digests = newDigester(im.env.key, kind)
	f, err := os.Open(im.file)
	if err != nil {
		return err
	}
	defer f.Close()
	sum := sha256.New()
	src := io.TeeReader(f, sum)
	rd, err := lists.NewReader(src, ro)
	if err != nil {
		return fmt.Errorf("%s: %w", im.file, err)
	}
	defer rd.Close()
	col, err := rd.Column(column)
	if err != nil {
		return fmt.Errorf("%s: --column: %w", im.file, err)
	}
	if err := im.begin(ctx); err != nil {
		return err
	}
	if err := im.readAll(ctx, rd, col); err != nil {
		return im.fail(ctx, err)
	}
	// The reader may stop short of trailing bytes (after a compressed
	// stream): the checksum is of the whole file all the same.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return im.fail(ctx, fmt.Errorf("%s: %w", im.file, err))
	}
	im.counts.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	return im.finish(ctx)
}

func (im *importer) begin(ctx context.Context) error {
	if im.dryRun {
		return nil
	}
	// A version belongs to a list: a new one must exist first.
	if im.created {
		if err := im.env.db.PutList(ctx, im.meta); err != nil {
			return fmt.Errorf("creating list %s: %w", im.meta.Name, err)
		}
	}
	w, err := im.env.db.BeginVersion(ctx, im.meta.Name, 0)
	if err != nil {
		return im.fail(ctx, fmt.Errorf("list %s: starting the import: %w", im.meta.Name, err))
	}
	im.writer = w
	return nil
}

// fail undoes what the import wrote, so the current version stays in
// force, and returns err.
func (im *importer) fail(ctx context.Context, err error) error {
	ctx = context.WithoutCancel(ctx) // an interrupted import still cleans up
	if im.writer != nil {
		if aerr := im.writer.Abort(ctx); aerr != nil {
			err = fmt.Errorf("%w (and aborting the import: %v)", err, aerr)
		}
	}
	if im.created && !im.dryRun {
		if derr := im.env.db.DropList(ctx, im.meta.Name); derr != nil {
			err = fmt.Errorf("%w (and removing the new list: %v)", err, derr)
		}
	}
	what := "its current version stays in force"
	if im.created {
		what = "it was not created"
	}
	return fmt.Errorf("list %s not imported, %s: %w", im.meta.Name, what, err)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (im *importer) readAll(ctx context.Context, rd *lists.Reader, col lists.Column) error {
	for row, err := range rd.All() {
		if err != nil {
			return fmt.Errorf("%s: %w", im.file, err)
		}
		im.counts.Rows++
		im.take(row, col)
		if len(im.batch) == importBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
		if im.progress && im.counts.Rows%progressEvery == 0 {
			fmt.Fprintf(im.a.stderr, "lists import %s: %d rows read, %d valid, %d invalid\n",
				im.meta.Name, im.counts.Rows, im.counts.Valid, im.counts.Invalid)
		}
	}
	return im.flush(ctx)
}

// take counts one row and queues its digest when its value is valid.
func (im *importer) take(row lists.Row, col lists.Column) {
	v, err := row.Value(col)
	if err == nil {
		v, err = im.norm.Normalise(v)
	}
	if err != nil {
		im.counts.Invalid++
		if len(im.shown) < maxShownInvalid {
			var le *lists.LineError
			if !errors.As(err, &le) {
				err = &lists.LineError{Line: row.Line, Err: err}
			}
			im.shown = append(im.shown, err.Error())
		}
		return
	}
	im.counts.Valid++
	if im.writer != nil {
		im.batch = append(im.batch, im.digests.digest(v))
	}
}

func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.writer.Add(ctx, im.batch); err != nil {
		return fmt.Errorf("list %s: storing entries: %w", im.meta.Name, err)
	}
	im.batch = im.batch[:0]
	return nil
}

func (im *importer) finish(ctx context.Context) error {
	im.counts.ImportedAt, im.counts.ImportedBy = time.Now().UTC(), im.by
	v := im.counts
	if !im.dryRun {
		var err error
		if v, err = im.writer.Commit(ctx, im.counts); err != nil {
			im.writer = nil // a failed commit leaves nothing to abort
			return im.fail(ctx, fmt.Errorf("committing: %w", err))
		}
		// The description changes only once the new version is in.
		if !im.created {
			if err := im.env.db.PutList(ctx, im.meta); err != nil {
				return fmt.Errorf("list %s imported as version %s, but updating its description: %w", im.meta.Name, v.ID, err)
			}
		}
		newLogger(im.env.cfg.Log, im.a.stderr).Info("list imported", "list", im.meta.Name, "version", v.ID,
			"by", im.by, "sha256", v.FileSHA256, "rows", v.Rows, "valid", v.Valid, "invalid", v.Invalid, "entries", v.Entries)
	}
	im.summary(v)
	return nil
}

func (im *importer) summary(v listdb.Version) {
	w := im.a.stdout
	if im.dryRun {
		fmt.Fprintf(w, "dry run: list %s not changed\n", im.meta.Name)
	} else {
		fmt.Fprintf(w, "imported list %s: version %s\n", im.meta.Name, v.ID)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\nsha-256:\t%s\nrows:\t%d\nvalid:\t%d\ninvalid:\t%d\n", im.file, v.FileSHA256, v.Rows, v.Valid, v.Invalid)
	if !im.dryRun {
		fmt.Fprintf(tw, "entries:\t%d (%d duplicates)\n", v.Entries, max(0, v.Valid-v.Entries))
	}
	tw.Flush()
	if len(im.shown) > 0 {
		fmt.Fprintf(w, "invalid rows (first %d):\n", len(im.shown))
		for _, s := range im.shown {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}
