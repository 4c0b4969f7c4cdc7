// Package contactimport reads a CRM export into a new version of the
// contacts (each e-mail's phone numbers, country and recipient type, kept
// as keyed digests): the one import the CLI and a web upload both call.
package contactimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

const (
	// importBatch is how many records go to Writer.Add at once.
	importBatch = 16 << 10
	// MaxShownInvalid is how many invalid rows a Report lists.
	MaxShownInvalid = 20
)

// Options say how to read a CRM export.
type Options struct {
	// Key is the digest key (the configured privacy key).
	Key []byte
	// File names the file in messages and in the Report.
	File string
	// Read says how to read the file; a CRM export names its columns,
	// so Read.Header is taken as true.
	Read    lists.ReadOptions
	Columns Columns
	// Region is the country national phone numbers are read in when the
	// row has no country; "" takes only international numbers.
	Region string
	// DryRun reads and checks the file and writes nothing.
	DryRun bool
	// By names who imports, recorded with the version.
	By string
	// Now stamps the version; nil is time.Now.
	Now func() time.Time
	// Progress, when set, is called after each row read.
	Progress func(Progress)
}

// Progress is how far an import got.
type Progress struct {
	// Bytes is how much of the source was read, as it is given.
	Bytes                int64
	Rows, Valid, Invalid int64
}

// Report is what an import did.
type Report struct {
	File   string
	DryRun bool
	// Version is the new version (its ID empty on a dry run or when
	// nothing was committed) with the counts of the file.
	Version contactdb.Version
	// Invalid holds the first invalid rows, "line N[, column C]: reason".
	Invalid []string
}

// Import reads src into a new version of the contacts and makes it
// current. A file that cannot be read to its end, or none of whose rows
// is valid (lists.ErrNoValidRow), changes nothing: the current contacts stay.
// The Report holds the counts so far also on failure.
func Import(ctx context.Context, db contactdb.Store, src io.Reader, o Options) (Report, error) {
	im := &importer{db: db, o: o,
		emails: listdb.NewDigester(o.Key, lists.KindEmail.String()),
		phones: listdb.NewDigester(o.Key, lists.KindPhone.String()),
		plans:  map[string]*lists.PhoneNormaliser{}}
	err := im.run(ctx, src)
	return Report{File: o.File, DryRun: o.DryRun, Version: im.counts, Invalid: im.shown}, err
}

// importer reads one file into a new version of the contacts.
type importer struct {
	db contactdb.Store
	o  Options

	cols   columns
	counts contactdb.Version
	bytes  int64
	shown  []string // the first invalid rows, "line N: reason"
	batch  []contactdb.Record
	writer contactdb.Writer // nil on a dry run
	emails *listdb.Digester
	phones *listdb.Digester
	plans  map[string]*lists.PhoneNormaliser // by region
}

func (im *importer) run(ctx context.Context, f io.Reader) error {
	sum := sha256.New()
	src := io.TeeReader(&countingReader{r: f, n: &im.bytes}, sum)
	ro := im.o.Read
	ro.Header = true
	rd, err := lists.NewReader(src, ro)
	if err != nil {
		return fmt.Errorf("%s: %w", im.o.File, err)
	}
	defer rd.Close()
	if im.cols, err = pickColumns(rd, im.o.Columns); err != nil {
		return fmt.Errorf("%s: %w", im.o.File, err)
	}
	if !im.o.DryRun {
		if im.writer, err = im.db.BeginImport(ctx, 0); err != nil {
			return fmt.Errorf("contacts: starting the import: %w", err)
		}
	}
	if err := im.readAll(ctx, rd); err != nil {
		return im.fail(ctx, err)
	}
	// The checksum is of the whole file, also past a compressed stream.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return im.fail(ctx, fmt.Errorf("%s: %w", im.o.File, err))
	}
	im.counts.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	if im.counts.Valid == 0 {
		// Replacing the set with nothing would drop every recipient's
		// phones, country and type at once.
		return im.fail(ctx, lists.NoValidRow(im.o.File, im.counts.Rows))
	}
	return im.finish(ctx)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// fail undoes what the import wrote, so the current contacts stay in
// force, and returns err.
func (im *importer) fail(ctx context.Context, err error) error {
	if im.writer != nil {
		if aerr := im.writer.Abort(context.WithoutCancel(ctx)); aerr != nil {
			err = fmt.Errorf("%w (and aborting the import: %v)", err, aerr)
		}
	}
	return fmt.Errorf("contacts not imported, the current ones stay in force: %w", err)
}

func (im *importer) readAll(ctx context.Context, rd *lists.Reader) error {
	for row, err := range rd.All() {
		if err != nil {
			return fmt.Errorf("%s: %w", im.o.File, err)
		}
		im.counts.Rows++
		if err := im.take(ctx, row); err != nil {
			return err
		}
		if im.o.Progress != nil {
			im.o.Progress(Progress{Bytes: im.bytes, Rows: im.counts.Rows, Valid: im.counts.Valid, Invalid: im.counts.Invalid})
		}
	}
	return im.flush(ctx)
}

// take counts one row and queues its record when it is valid.
func (im *importer) take(ctx context.Context, row lists.Row) error {
	rec, err := im.record(row)
	if err != nil {
		im.counts.Invalid++
		if len(im.shown) < MaxShownInvalid {
			im.shown = append(im.shown, err.Error())
		}
		return nil
	}
	im.counts.Valid++
	if im.writer == nil {
		return nil
	}
	if im.batch = append(im.batch, rec); len(im.batch) == importBatch {
		return im.flush(ctx)
	}
	return nil
}

func (im *importer) flush(ctx context.Context) error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.writer.Add(ctx, im.batch); err != nil {
		return fmt.Errorf("contacts: storing records: %w", err)
	}
	im.batch = im.batch[:0]
	return nil
}

func (im *importer) finish(ctx context.Context) error {
	now := time.Now
	if im.o.Now != nil {
		now = im.o.Now
	}
	im.counts.ImportedAt, im.counts.ImportedBy = now().UTC(), im.o.By
	if im.o.DryRun {
		return nil
	}
	v, err := im.writer.Commit(ctx, im.counts)
	if err != nil {
		im.writer = nil // a failed commit leaves nothing to abort
		return im.fail(ctx, fmt.Errorf("committing: %w", err))
	}
	im.counts = v
	return nil
}
