package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

// Import tuning.
const (
	// importBatch is how many distinct digests go to Writer.Add and to
	// Contains at once: the stores are much faster with large batches,
	// and the embedded one takes at most 16000 digests per Contains.
	importBatch = 8 << 10
	// maxShownInvalid is how many invalid rows the summary lists.
	maxShownInvalid = 20
)

// importFlags are the flags of lists import.
type importFlags struct {
	kind, model, source, maxAge, onStale, column, delimiter, encoding, region, by string
	countries                                                                     listFlag
	header, noHeader, dryRun                                                      bool
}

func (o *importFlags) register(fs *flagSet) {
	fs.StringVar(&o.kind, "kind", "", "list `KIND`: email, domain, phone, email-sha256, email-sha1, email-md5 (required for a new list)")
	fs.StringVar(&o.model, "model", "", "`MODEL`: deny or clearance (required for a new list)")
	fs.Var(&o.countries, "country", "`CC` the list applies to (repeatable), or all")
	fs.StringVar(&o.maxAge, "max-age", "", "`AGE` after which the list is stale: 5d, 36h (default: never)")
	fs.StringVar(&o.onStale, "on-stale", "", "what a list past its max age does to the recipients it governs: `refuse` (fail them\n"+
		"temporarily) or warn (log a warning and use the list as it is) (default: refuse, or as set before)")
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
	case name == suppression.OptOutList:
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
	const what = "the " + suppression.OptOutList + " list "
	switch {
	case o.kind != "" && o.kind != suppression.OptOutMeta.Kind:
		return fmt.Errorf(what+"holds e-mail addresses only, not %s values: import them into a list of their own", o.kind)
	case o.model != "" && o.model != suppression.OptOutMeta.Model:
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
		"read to its end leaves the current version in force and exits 1.\n"+
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
		m, cur, created, err := o.meta(ctx, env.db, pos[0])
		if err != nil {
			return c.fs.usageError("%v", err)
		}
		imp := &importer{a: a, env: env, meta: m, prev: cur, created: created, file: pos[1], dryRun: o.dryRun,
			by: operator(o.by), terminal: isTerminal(a.stderr)}
		return imp.run(ctx, ro, o.column, listRegion(o.region, m))
	})
}

// importer reads one file into a new version of one list.
//
// It reads the whole file before it writes: the valid digests go to a
// distinctSet, which hands each back once, so the duplicates are known
// exactly before the version is committed, and each distinct digest is
// looked up once in the version in force, which makes the counts added
// and removed exact without holding either version in memory.
type importer struct {
	a       *app
	env     listEnv
	meta    listdb.Meta
	prev    listdb.Version // in force before the import; zero for none
	created bool           // the list is new: it is dropped again when the import fails
	put     bool           // begin created the new list
	file    string
	dryRun  bool
	by      string
	// terminal says stderr is one, so progress is a bar, not log lines.
	terminal bool

	counts   listdb.Version
	added    int64    // distinct digests the list did not hold before
	shown    []string // the first invalid rows, "line N: reason"
	distinct *distinctSet
	progress *importProgress
	writer   listdb.Writer // nil on a dry run
	digests  *listdb.Digester
	norm     *lists.Normaliser
}

func (im *importer) run(ctx context.Context, ro lists.ReadOptions, column, region string) error {
	kind, err := lists.ParseKind(im.meta.Kind)
	if err != nil {
		return fmt.Errorf("list %s: %w", im.meta.Name, err)
	}
	if im.norm, err = lists.NewNormaliser(kind, region); err != nil {
		return fmt.Errorf("list %s: %w", im.meta.Name, err)
	}
	im.digests = listdb.NewDigester(im.env.key, kind.String())
	f, err := os.Open(im.file)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	im.progress = newImportProgress(im.a.stderr, im.terminal, im.meta.Name, size)
	defer im.progress.done()
	im.distinct = newDistinctSet(distinctRun)
	defer im.distinct.close()
	if err := im.read(f, ro, column); err != nil {
		return im.fail(ctx, err)
	}
	if err := im.begin(ctx); err != nil {
		return err
	}
	if err := im.store(ctx); err != nil {
		return im.fail(ctx, err)
	}
	return im.finish(ctx)
}

// read takes every row of the file and checksums all of it.
func (im *importer) read(f io.Reader, ro lists.ReadOptions, column string) error {
	sum := sha256.New()
	src := io.TeeReader(im.progress.reader(f), sum)
	rd, err := lists.NewReader(src, ro)
	if err != nil {
		return fmt.Errorf("%s: %w", im.file, err)
	}
	defer rd.Close()
	col, err := rd.Column(column)
	if err != nil {
		return fmt.Errorf("%s: --column: %w", im.file, err)
	}
	feed := startDigesting(im.digests, im.distinct)
	for row, err := range rd.All() {
		if err != nil {
			feed.close()
			return fmt.Errorf("%s: %w", im.file, err)
		}
		im.counts.Rows++
		im.take(row, col, feed)
		im.progress.row(&im.counts)
	}
	if err := feed.close(); err != nil {
		return err
	}
	// The reader may stop short of trailing bytes (after a compressed
	// stream): the checksum is of the whole file all the same.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("%s: %w", im.file, err)
	}
	im.counts.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	return nil
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
		im.put = true
	}
	// Valid rows bound the entries from above: near enough for a store
	// to size its layout by.
	w, err := im.env.db.BeginVersion(ctx, im.meta.Name, im.counts.Valid)
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
	if im.put {
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

// take counts one row and queues its value for digesting when it is valid.
func (im *importer) take(row lists.Row, col lists.Column, feed *digestFeed) {
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
	feed.add(v)
}

// store looks each distinct digest up in the version in force, counting
// the new ones, and writes it to the new version.
func (im *importer) store(ctx context.Context) error {
	if im.terminal || im.counts.Rows >= progressEvery {
		im.progress.stage(fmt.Sprintf("%d valid rows read, storing the distinct ones", im.counts.Valid))
	}
	n, err := im.distinct.each(importBatch, func(batch []listdb.Digest) error {
		if err := im.countAdded(ctx, batch); err != nil {
			return err
		}
		if im.writer == nil {
			return nil
		}
		if err := im.writer.Add(ctx, batch); err != nil {
			return fmt.Errorf("list %s: storing entries: %w", im.meta.Name, err)
		}
		return nil
	})
	im.counts.Entries, im.counts.Duplicates = n, im.counts.Valid-n
	return err
}

// countAdded counts the digests of batch that the list does not hold.
// What the list holds is what a check sees: values put on or taken off
// by hand count as the hand decided, since that is what a recipient meets.
func (im *importer) countAdded(ctx context.Context, batch []listdb.Digest) error {
	if im.created {
		im.added += int64(len(batch))
		return nil
	}
	held, err := im.env.db.Contains(ctx, im.meta.Name, batch...)
	if err != nil {
		return fmt.Errorf("list %s: comparing with the version in force: %w", im.meta.Name, err)
	}
	for _, h := range held {
		if !h {
			im.added++
		}
	}
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
			"by", im.by, "sha256", v.FileSHA256, "rows", v.Rows, "valid", v.Valid, "invalid", v.Invalid,
			"duplicates", v.Duplicates, "entries", v.Entries, "added", im.added, "removed", im.removed())
	}
	im.summary(v)
	return nil
}

// removed is how many entries of the version in force the new one lacks:
// those it had less those the new one kept, which are the new entries
// that were not added.
func (im *importer) removed() int64 {
	return max(0, im.prev.Entries-(im.counts.Entries-im.added))
}

func (im *importer) summary(v listdb.Version) {
	w := im.a.stdout
	if im.dryRun {
		fmt.Fprintf(w, "dry run: list %s not changed\n", im.meta.Name)
	} else {
		fmt.Fprintf(w, "imported list %s: version %s\n", im.meta.Name, v.ID)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\nsha-256:\t%s\nrows:\t%d\nvalid:\t%d\ninvalid:\t%d\nduplicates:\t%d\nentries:\t%d\n",
		im.file, v.FileSHA256, v.Rows, v.Valid, v.Invalid, v.Duplicates, v.Entries)
	against := "no version before"
	if im.prev.ID != "" {
		against = "version " + im.prev.ID
	}
	fmt.Fprintf(tw, "added:\t%d (against %s)\nremoved:\t%d\n", im.added, against, im.removed())
	tw.Flush()
	if len(im.shown) > 0 {
		fmt.Fprintf(w, "invalid rows (first %d):\n", len(im.shown))
		for _, s := range im.shown {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}
