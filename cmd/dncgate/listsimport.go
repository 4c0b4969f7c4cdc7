package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/listimport"
	"github.com/dncgate/dncgate/listmodel"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

type importFlags struct {
	kind, model, source, maxAge, onStale, column, delimiter, encoding, region, by, maxRemoval string
	countries                                                                                 listFlag
	header, noHeader, dryRun, force                                                           bool
}

func (o *importFlags) register(fs *flagSet) {
	fs.StringVar(&o.kind, "kind", "", "list `KIND`: email, domain, phone, email-sha256, email-sha1, email-md5 (required for a new list)")
	fs.StringVar(&o.model, "model", "", "`MODEL`: deny or clearance (required for a new list)")
	fs.Var(&o.countries, "country", "`CC` the list applies to (repeatable), or all")
	fs.StringVar(&o.maxAge, "max-age", "", "`AGE` after which the list is stale: 5d, 36h (default: never)")
	fs.StringVar(&o.onStale, "on-stale", "", "what a list past its max age does to the recipients it governs: `refuse` (fail them\n"+
		"temporarily) or warn (log a warning and use the list as it is) (default: refuse, or as set before)")
	fs.StringVar(&o.source, "source", "", "where the file comes from (`TEXT`)")
	fs.StringVar(&o.column, "column", "1", "the values' column: header `NAME` (the file then has a header row) or position N")
	fs.StringVar(&o.delimiter, "delimiter", "", "field `DELIMITER`: comma, semicolon, tab, pipe (default: sniffed)")
	fs.BoolVar(&o.header, "header", false, "the first row names the columns (implied by --column NAME)")
	fs.BoolVar(&o.noHeader, "no-header", false, "the first row is data (the default with a numbered --column)")
	fs.StringVar(&o.encoding, "encoding", "utf-8", "`ENCODING` of a file without a byte-order mark: utf-8, windows-1252, latin-1, utf-16le, utf-16be")
	fs.StringVar(&o.region, "region", "", "default `CC` for national phone numbers (default: the list's single country)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the file, write nothing")
	fs.StringVar(&o.maxRemoval, "max-removal", "", "refuse a file that removes more than `SHARE` of the entries in force: 20%, 0.2\n"+
		"(default: the list's max_removal in the configuration, else "+percent(listimport.DefaultMaxRemoval)+")")
	fs.BoolVar(&o.force, "force", false, "take the file whatever share of the entries in force it removes")
	fs.StringVar(&o.by, "by", "", "`NAME` of who imports (default: $SUDO_USER, else $USER, else the account name)")
}

// removalLimit is the share of the entries in force the import may
// remove: --max-removal, else the list's [[lists]] max_removal, else nil
// for the import's default.
func (o *importFlags) removalLimit(cfg *config.Config, name string) (*float64, error) {
	s, err := config.ParseShare(o.maxRemoval)
	if err != nil {
		return nil, fmt.Errorf("--max-removal: %v", err)
	}
	if !s.Set {
		s = declaredMaxRemoval(cfg.Lists, name)
	}
	if !s.Set {
		return nil, nil
	}
	return &s.Fraction, nil
}

// declaredMaxRemoval is the max_removal of the [[lists]] table named
// name; unset when there is none.
func declaredMaxRemoval(decls []config.ListDecl, name string) config.Share {
	for _, d := range decls {
		if d.Name == name {
			return d.MaxRemoval
		}
	}
	return config.Share{}
}

// percent writes a share as a percentage.
func percent(f float64) string { return config.Share{Fraction: f, Set: true}.String() }

func (o *importFlags) readOptions() (lists.ReadOptions, error) {
	if o.header && o.noHeader {
		return lists.ReadOptions{}, errors.New("--header and --no-header contradict each other")
	}
	// A column named rather than numbered can only be found in a header
	// row: --column NAME says the file has one.
	named := o.column != "" && !isPosition(o.column)
	if named && o.noHeader {
		return lists.ReadOptions{}, fmt.Errorf("--column %q is a name, but --no-header says the file has no header row; give the column's position (1, 2, …)", o.column)
	}
	ro := lists.ReadOptions{Header: o.header || named}
	var err error
	if ro.Encoding, err = lists.ParseEncoding(o.encoding); err != nil {
		return ro, err
	}
	if o.delimiter != "" {
		ro.Delimiter, err = lists.ParseDelimiter(o.delimiter)
	}
	return ro, err
}

// isPosition reports whether a --column value is a column number.
func isPosition(spec string) bool {
	_, err := strconv.Atoi(strings.TrimSpace(spec))
	return err == nil
}

// meta is the description the import leaves: the stored one with what the
// flags change, or a new one; created says the list does not exist yet.
// cur is the version in force, zero for a new list.
func (o *importFlags) meta(ctx context.Context, db listdb.Store, name string) (m listdb.Meta, cur listdb.Version, created bool, err error) {
	m, cur, err = db.List(ctx, name)
	switch {
	case errors.Is(err, listdb.ErrNotFound):
		if o.kind == "" || o.model == "" {
			return m, cur, true, fmt.Errorf("list %s is new: give its --kind and --model", name)
		}
		m, created = listdb.Meta{Name: name}, true
	case err != nil:
		return m, cur, false, fmt.Errorf("list %s: %w", name, err)
	case name == listmodel.OptOut:
		if err := o.checkOptOut(); err != nil {
			return m, cur, false, err
		}
	case o.kind != "" && o.kind != m.Kind:
		// Its entries are keyed with the kind: they could not be mixed.
		return m, cur, false, fmt.Errorf("list %s holds %s entries, not %s; drop it first to change its kind", name, m.Kind, o.kind)
	}
	return m, cur, created, o.apply(&m)
}

// checkOptOut refuses to change what makes the opt-out list what it is:
// e-mail addresses nobody may be sent to, wherever, for ever.
func (o *importFlags) checkOptOut() error {
	const what = "the " + listmodel.OptOut + " list "
	switch {
	case o.kind != "" && o.kind != suppression.OptOutMeta.Kind:
		return fmt.Errorf(what+"holds e-mail addresses only, not %s values: import them into a list of their own", o.kind)
	case o.model != "" && listmodel.Model(o.model) != suppression.OptOutMeta.Model:
		return fmt.Errorf(what+"is a %s list; --model %s is not possible", suppression.OptOutMeta.Model, o.model)
	case len(o.countries) > 0 && !(len(o.countries) == 1 && o.countries[0] == allCountries):
		return errors.New(what + "applies to every country; --country is not possible")
	case o.maxAge != "" || o.onStale != "":
		return errors.New(what + "never goes stale; --max-age and --on-stale are not possible")
	}
	return nil
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
		model, err := listmodel.Parse(o.model)
		if err != nil {
			return err
		}
		m.Model = model
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
	switch o.onStale {
	case "":
	case onStaleRefuse, onStaleWarn:
		m.WarnStale = o.onStale == onStaleWarn
	default:
		return fmt.Errorf("--on-stale %q: want %s or %s", o.onStale, onStaleRefuse, onStaleWarn)
	}
	return nil
}

func (a *app) listsImport(ctx context.Context, args []string) error {
	c := a.newListsCmd("import", "NAME FILE", "Read FILE (CSV, plain, gzip, bzip2 or a zip holding one file) and make its\n"+
		"values the new version of list NAME, created when new. Invalid rows are\n"+
		"counted and the first ones shown, with the duplicates and the entries\n"+
		"added and removed against the version in force; a file that cannot be\n"+
		"read to its end leaves the current version in force and exits 1, and so does\n"+
		"one with no valid row or one removing more than --max-removal of the entries\n"+
		"in force (unless --force).\n"+
		"Progress goes to stderr: a bar on a terminal, else a line every "+fmt.Sprint(progressEvery)+" rows.")
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
		m, _, _, err := o.meta(ctx, env.db, pos[0])
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		limit, err := o.removalLimit(env.cfg, pos[0])
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		return a.importList(ctx, env, listimport.Options{Meta: m, Key: env.key, File: pos[1], Read: ro,
			Column: o.column, Region: o.region, DryRun: o.dryRun, MaxRemoval: limit, Force: o.force, By: operator(o.by)})
	})
}

// importList opens the file, runs the import with progress on stderr, and
// logs and prints what it did.
func (a *app) importList(ctx context.Context, env listEnv, opts listimport.Options) error {
	f, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	p := newImportProgress(a.stderr, isTerminal(a.stderr), opts.Meta.Name, size)
	defer p.done()
	opts.Progress = p.update
	rep, err := listimport.Import(ctx, env.db, f, opts)
	p.done()
	if listimport.Refused(err) {
		writeImportReport(a.stdout, rep) // the counts say what is wrong with the file
	}
	if err != nil {
		return err
	}
	if !rep.DryRun {
		v := rep.Version
		newLogger(env.cfg.Log, a.stderr).Info("list imported", "list", rep.List, "version", v.ID,
			"by", v.ImportedBy, "sha256", v.FileSHA256, "rows", v.Rows, "valid", v.Valid, "invalid", v.Invalid,
			"duplicates", v.Duplicates, "entries", v.Entries, "added", rep.Added, "removed", rep.Removed)
	}
	writeImportReport(a.stdout, rep)
	if rep.DryRun {
		return nil
	}
	return recordAudit(ctx, env.cfg, importEvent(rep))
}

func writeImportReport(w io.Writer, rep listimport.Report) {
	v := rep.Version
	switch {
	case rep.DryRun:
		fmt.Fprintf(w, "dry run: list %s not changed\n", rep.List)
	case v.ID == "":
		fmt.Fprintf(w, "list %s not imported\n", rep.List)
	default:
		fmt.Fprintf(w, "imported list %s: version %s\n", rep.List, v.ID)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\nsha-256:\t%s\nrows:\t%d\nvalid:\t%d\ninvalid:\t%d\nduplicates:\t%d\nentries:\t%d\n",
		rep.File, v.FileSHA256, v.Rows, v.Valid, v.Invalid, v.Duplicates, v.Entries)
	against := "no version before"
	if rep.Previous.ID != "" {
		against = "version " + rep.Previous.ID
	}
	fmt.Fprintf(tw, "added:\t%d (against %s)\nremoved:\t%d\n", rep.Added, against, rep.Removed)
	tw.Flush()
	writeInvalidRows(w, rep.Invalid)
}

// writeInvalidRows lists the first invalid rows an import found.
func writeInvalidRows(w io.Writer, shown []string) {
	if len(shown) == 0 {
		return
	}
	fmt.Fprintf(w, "invalid rows (first %d):\n", len(shown))
	for _, s := range shown {
		fmt.Fprintf(w, "  %s\n", s)
	}
}
