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
	"golang.org/x/term"
)

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
	digests *listdb.Digester
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
	im.digests = listdb.NewDigester(im.env.key, kind.String())
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
		im.batch = append(im.batch, im.digests.Digest(v))
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
