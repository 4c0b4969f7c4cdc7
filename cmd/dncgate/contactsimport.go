package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

const (
	// contactImportBatch is how many records go to Writer.Add at once.
	contactImportBatch = 16 << 10
	// contactShownInvalid is how many invalid rows the summary lists.
	contactShownInvalid = 20
)

// contactFlags are the flags of contacts import.
type contactFlags struct {
	emailColumn, countryColumn, typeColumn, region, delimiter, encoding, by string
	phoneColumns                                                            listFlag
	dryRun                                                                  bool
}

func (o *contactFlags) register(fs *flagSet) {
	fs.StringVar(&o.emailColumn, "email-column", "", "the e-mail column: header `NAME` or position N (default: found by header: email, e-mail, mail, …)")
	fs.Var(&o.phoneColumns, "phone-column", "a phone column: header `NAME` or position N, repeatable (default: every column headed phone, mobile, telephone, tel, phone2, …)")
	fs.StringVar(&o.countryColumn, "country-column", "", "the country column: header `NAME`, position N or none (default: found by header: country, pays, land, …)")
	fs.StringVar(&o.typeColumn, "type-column", "", "the recipient type column: header `NAME`, position N or none (default: found by header: type, recipient_type, segment, …)")
	fs.StringVar(&o.region, "region", "", "country `CC` national phone numbers are read in when the row has no country (default: only international numbers)")
	fs.StringVar(&o.delimiter, "delimiter", "", "field `DELIMITER`: comma, semicolon, tab, pipe (default: sniffed)")
	fs.StringVar(&o.encoding, "encoding", "utf-8", "`ENCODING` of a file without a byte-order mark: utf-8, windows-1252, latin-1")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the file, write nothing")
	fs.StringVar(&o.by, "by", "", "`NAME` of who imports (default: $SUDO_USER, else $USER)")
}

func (o *contactFlags) readOptions() (lists.ReadOptions, error) {
	// A CRM export names its columns: the header row is what finds them.
	ro := lists.ReadOptions{Header: true}
	var err error
	if ro.Encoding, err = lists.ParseEncoding(o.encoding); err != nil {
		return ro, err
	}
	if o.delimiter != "" {
		ro.Delimiter, err = lists.ParseDelimiter(o.delimiter)
	}
	return ro, err
}

func (a *app) contactsImport(ctx context.Context, args []string) error {
	c := a.newContactsCmd("import", "FILE", "Read FILE, a CRM export with a header row (CSV; plain, gzip, bzip2 or a zip\n"+
		"holding one file), and make its contacts the new set: for each e-mail, its\n"+
		"phone numbers, country and recipient type, stored as keyed digests. Invalid\n"+
		"rows are counted and the first ones shown with their line; a file that\n"+
		"cannot be read to its end leaves the current contacts in force and exits 1.")
	var o contactFlags
	o.register(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	ro, err := o.readOptions()
	if err != nil {
		return c.fs.usageError("%v", err)
	}
	region, err := contactdb.ParseCountry(o.region)
	if err == nil {
		_, err = lists.NewPhoneNormaliser(region.String())
	}
	if err != nil {
		return c.fs.usageError("--region: %v", err)
	}
	return c.withStore(ctx, true, func(env contactsEnv) error {
		im := newContactImporter(a, env, pos[0], region.String())
		im.dryRun, im.by = o.dryRun, operator(o.by)
		return im.run(ctx, ro, &o)
	})
}

// contactImporter reads one file into a new version of the contacts.
type contactImporter struct {
	a      *app
	env    contactsEnv
	file   string
	region string // for national numbers of rows without a country
	dryRun bool
	by     string

	cols   contactColumns
	counts contactdb.Version
	shown  []string // the first invalid rows, "line N: reason"
	batch  []contactdb.Record
	writer contactdb.Writer // nil on a dry run
	emails *listdb.Digester
	phones *listdb.Digester
	plans  map[string]*lists.PhoneNormaliser // by region
}

func newContactImporter(a *app, env contactsEnv, file, region string) *contactImporter {
	return &contactImporter{a: a, env: env, file: file, region: region,
		emails: listdb.NewDigester(env.key, lists.KindEmail.String()),
		phones: listdb.NewDigester(env.key, lists.KindPhone.String()),
		plans:  map[string]*lists.PhoneNormaliser{}}
}

func (im *contactImporter) run(ctx context.Context, ro lists.ReadOptions, o *contactFlags) error {
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
	if im.cols, err = pickContactColumns(rd, o); err != nil {
		return fmt.Errorf("%s: %w", im.file, err)
	}
	if !im.dryRun {
		if im.writer, err = im.env.db.BeginImport(ctx, 0); err != nil {
			return fmt.Errorf("contacts: starting the import: %w", err)
		}
	}
	if err := im.readAll(ctx, rd); err != nil {
		return im.fail(ctx, err)
	}
	// The checksum is of the whole file, also past a compressed stream.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return im.fail(ctx, fmt.Errorf("%s: %w", im.file, err))
	}
	im.counts.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	if im.counts.Valid == 0 && im.counts.Rows > 0 {
		// Likely a wrong column, delimiter or encoding, not a CRM that
		// lost every contact: replacing the set with nothing would drop
		// every recipient's phones, country and type at once.
		im.summary(im.counts)
		return im.fail(ctx, fmt.Errorf("%s: none of its %d rows is valid", im.file, im.counts.Rows))
	}
	return im.finish(ctx)
}

// fail undoes what the import wrote, so the current contacts stay in
// force, and returns err.
func (im *contactImporter) fail(ctx context.Context, err error) error {
	if im.writer != nil {
		if aerr := im.writer.Abort(context.WithoutCancel(ctx)); aerr != nil {
			err = fmt.Errorf("%w (and aborting the import: %v)", err, aerr)
		}
	}
	return fmt.Errorf("contacts not imported, the current ones stay in force: %w", err)
}

func (im *contactImporter) readAll(ctx context.Context, rd *lists.Reader) error {
	for row, err := range rd.All() {
		if err != nil {
			return fmt.Errorf("%s: %w", im.file, err)
		}
		im.counts.Rows++
		rec, err := im.record(row)
		if err != nil {
			im.counts.Invalid++
			if len(im.shown) < contactShownInvalid {
				im.shown = append(im.shown, err.Error())
			}
			continue
		}
		im.counts.Valid++
		if im.writer == nil {
			continue
		}
		if im.batch = append(im.batch, rec); len(im.batch) == contactImportBatch {
			if err := im.flush(ctx); err != nil {
				return err
			}
		}
	}
	return im.flush(ctx)
}

func (im *contactImporter) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.writer.Add(ctx, im.batch); err != nil {
		return fmt.Errorf("contacts: storing records: %w", err)
	}
	im.batch = im.batch[:0]
	return nil
}

func (im *contactImporter) finish(ctx context.Context) error {
	im.counts.ImportedAt, im.counts.ImportedBy = time.Now().UTC(), im.by
	v := im.counts
	if !im.dryRun {
		var err error
		if v, err = im.writer.Commit(ctx, im.counts); err != nil {
			im.writer = nil // a failed commit leaves nothing to abort
			return im.fail(ctx, fmt.Errorf("committing: %w", err))
		}
		newLogger(im.env.cfg.Log, im.a.stderr).Info("contacts imported", "version", v.ID, "by", im.by,
			"sha256", v.FileSHA256, "rows", v.Rows, "valid", v.Valid, "invalid", v.Invalid,
			"duplicates", v.Duplicates, "entries", v.Entries)
	}
	im.summary(v)
	return nil
}

func (im *contactImporter) summary(v contactdb.Version) {
	w := im.a.stdout
	switch {
	case im.dryRun:
		fmt.Fprintln(w, "dry run: contacts not changed")
	case v.ID == "":
		fmt.Fprintln(w, "contacts not imported")
	default:
		fmt.Fprintf(w, "imported contacts: version %s\n", v.ID)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\nsha-256:\t%s\nrows:\t%d\nvalid:\t%d\ninvalid:\t%d\n", im.file, v.FileSHA256, v.Rows, v.Valid, v.Invalid)
	if v.ID != "" {
		fmt.Fprintf(tw, "duplicates:\t%d\nentries:\t%d\n", v.Duplicates, v.Entries)
	}
	tw.Flush()
	if len(im.shown) > 0 {
		fmt.Fprintf(w, "invalid rows (first %d):\n", len(im.shown))
		for _, s := range im.shown {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
}
