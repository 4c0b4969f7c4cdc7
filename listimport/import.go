// Package listimport reads a list file (CSV or plain, possibly compressed)
// into a new version of a suppression list: the one import that the CLI
// and a web upload both call.
package listimport

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

// Import tuning.
const (
	// importBatch is how many distinct digests go to Writer.Add and to
	// Contains at once: the stores are much faster with large batches,
	// and the embedded one takes at most 16000 digests per Contains.
	importBatch = 8 << 10
	// MaxShownInvalid is how many invalid rows a Report lists.
	MaxShownInvalid = 20
	// DefaultMaxRemoval is the share of the entries in force a new
	// version may remove unless Options say otherwise: more is likelier
	// a truncated download than a list that lost a fifth of its people.
	DefaultMaxRemoval = 0.2
)

// ErrTooManyRemoved is why an import that would remove more of the
// entries in force than the limit is refused (errors.Is).
var ErrTooManyRemoved = errors.New("too many entries removed")

// Options say how to read a file and what the list is after the import.
type Options struct {
	// Meta is the list's description once imported, Meta.Name naming
	// it: the stored one with the caller's changes, or a new one, which
	// needs a Kind and a Model. It is written only once the new version
	// is in force.
	Meta listdb.Meta
	// Key is the digest key (the configured privacy key).
	Key []byte
	// File names the file in messages and in the Report.
	File string
	// Read says how to read the file; Column is the values' column, a
	// header name or position ("" for the first).
	Read   lists.ReadOptions
	Column string
	// Region is the default country of national phone numbers; "" takes
	// the list's single country when it has one.
	Region string
	// DryRun reads and checks the file and writes nothing; the checks
	// that refuse a file refuse it all the same.
	DryRun bool
	// MaxRemoval is the largest share (0 to 1) of the entries in force
	// the new version may remove; nil takes DefaultMaxRemoval. Force
	// takes the file whatever it removes.
	MaxRemoval *float64
	Force      bool
	// By names who imports, recorded with the version.
	By string
	// Now stamps the version; nil is time.Now.
	Now func() time.Time
	// Progress, when set, is called after each row read and once when
	// storing begins.
	Progress func(Progress)
}

// Stage is what an import is doing.
type Stage int

const (
	// Reading: the file is read, checked and its values digested.
	Reading Stage = iota
	// Storing: the file was read; the distinct digests are compared
	// with the version in force and written.
	Storing
)

// Progress is how far an import got.
type Progress struct {
	Stage Stage
	// Bytes is how much of the source was read, as it is given
	// (compressed, when it is).
	Bytes                int64
	Rows, Valid, Invalid int64
}

// Report is what an import did.
type Report struct {
	// List is the list's name and File the file's, as given.
	List, File string
	DryRun     bool
	// Created says the list did not exist before.
	Created bool
	// Version is the new version (its ID empty on a dry run or when
	// nothing was committed) with the counts of the file.
	Version listdb.Version
	// Previous is the version that was in force, zero for none.
	Previous listdb.Version
	// Added and Removed compare the new entries with what the list held.
	Added, Removed int64
	// Invalid holds the first invalid rows, "line N: reason".
	Invalid []string
}

// Import reads src into a new version of the list o.Meta names, creating
// the list when new, and makes it current. It reads the whole file before
// it writes, so that a file that cannot be read to its end, or none of
// whose rows is valid (lists.ErrNoValidRow), changes nothing: the version
// in force stays, and a list created for the import is dropped again. The Report holds the counts so far also on failure.
func Import(ctx context.Context, db listdb.Store, src io.Reader, o Options) (Report, error) {
	im, err := newImporter(ctx, db, o)
	if err != nil {
		return Report{List: o.Meta.Name, File: o.File, DryRun: o.DryRun}, err
	}
	defer im.distinct.close()
	err = im.run(ctx, src)
	return im.report(), err
}

// Refused reports whether err refuses the file for what it holds rather
// than for a failure to read or store it: its Report then says why.
func Refused(err error) bool {
	return errors.Is(err, lists.ErrNoValidRow) || errors.Is(err, ErrTooManyRemoved)
}

// importer reads one file into a new version of one list.
//
// It reads the whole file before it writes: the valid digests go to a
// distinctSet, which hands each back once, so the duplicates are known
// exactly before the version is committed, and each distinct digest is
// looked up once in the version in force, which makes the counts added
// and removed exact without holding either version in memory.
type importer struct {
	db      listdb.Store
	o       Options
	meta    listdb.Meta
	prev    listdb.Version // in force before the import; zero for none
	created bool           // the list is new: it is dropped again when the import fails
	put     bool           // begin created the new list

	counts   listdb.Version
	bytes    *countingReader
	added    int64    // distinct digests the list did not hold before
	shown    []string // the first invalid rows, "line N: reason"
	distinct *distinctSet
	writer   listdb.Writer // nil on a dry run
	digests  *listdb.Digester
	norm     *lists.Normaliser
}

func newImporter(ctx context.Context, db listdb.Store, o Options) (*importer, error) {
	im := &importer{db: db, o: o, meta: o.Meta}
	name := o.Meta.Name
	if err := listdb.CheckName(name); err != nil {
		return nil, err
	}
	_, prev, err := db.List(ctx, name)
	switch {
	case errors.Is(err, listdb.ErrNotFound):
		if o.Meta.Kind == "" || o.Meta.Model == "" {
			return nil, fmt.Errorf("list %s is new: give its kind and model", name)
		}
		im.created = true
	case err != nil:
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	im.prev = prev
	kind, err := lists.ParseKind(o.Meta.Kind)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	if im.norm, err = lists.NewNormaliser(kind, region(o.Region, o.Meta)); err != nil {
		return nil, fmt.Errorf("list %s: %w", name, err)
	}
	im.digests = listdb.NewDigester(o.Key, kind.String())
	im.distinct = newDistinctSet(distinctRun)
	return im, nil
}

// region is the default region for national phone numbers: the one
// given, else the list's single country.
func region(given string, m listdb.Meta) string {
	if given != "" || len(m.Countries) != 1 {
		return given
	}
	return m.Countries[0]
}

func (im *importer) run(ctx context.Context, src io.Reader) error {
	if err := im.read(src); err != nil {
		return im.fail(ctx, err)
	}
	if im.counts.Valid == 0 {
		// Taking the file would empty the list.
		return im.fail(ctx, lists.NoValidRow(im.o.File, im.counts.Rows))
	}
	if err := im.begin(ctx); err != nil {
		return err
	}
	if err := im.store(ctx); err != nil {
		return im.fail(ctx, err)
	}
	if err := im.checkRemoved(); err != nil {
		return im.fail(ctx, err)
	}
	return im.finish(ctx)
}

func (im *importer) report() Report {
	return Report{List: im.meta.Name, File: im.o.File, DryRun: im.o.DryRun, Created: im.created,
		Version: im.counts, Previous: im.prev, Added: im.added, Removed: im.removed(), Invalid: im.shown}
}

// progress tells the caller how far the import got.
func (im *importer) progress(s Stage) {
	if im.o.Progress != nil {
		im.o.Progress(Progress{Stage: s, Bytes: im.bytes.n, Rows: im.counts.Rows, Valid: im.counts.Valid, Invalid: im.counts.Invalid})
	}
}

// read takes every row of the file and checksums all of it.
func (im *importer) read(f io.Reader) error {
	sum := sha256.New()
	im.bytes = &countingReader{r: f}
	src := io.TeeReader(im.bytes, sum)
	rd, err := lists.NewReader(src, im.o.Read)
	if err != nil {
		return fmt.Errorf("%s: %w", im.o.File, err)
	}
	defer rd.Close()
	column := im.o.Column
	if column == "" {
		column = "1"
	}
	col, err := rd.Column(column)
	if err != nil {
		return fmt.Errorf("%s: --column: %w", im.o.File, err)
	}
	feed := startDigesting(im.digests, im.distinct)
	for row, err := range rd.All() {
		if err != nil {
			feed.close()
			return fmt.Errorf("%s: %w", im.o.File, err)
		}
		im.counts.Rows++
		im.take(row, col, feed)
		im.progress(Reading)
	}
	if err := feed.close(); err != nil {
		return err
	}
	// The reader may stop short of trailing bytes (after a compressed
	// stream): the checksum is of the whole file all the same.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return fmt.Errorf("%s: %w", im.o.File, err)
	}
	im.counts.FileSHA256 = hex.EncodeToString(sum.Sum(nil))
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (im *importer) begin(ctx context.Context) error {
	if im.o.DryRun {
		return nil
	}
	// A version belongs to a list: a new one must exist first.
	if im.created {
		if err := im.db.PutList(ctx, im.meta); err != nil {
			return fmt.Errorf("creating list %s: %w", im.meta.Name, err)
		}
		im.put = true
	}
	// Valid rows bound the entries from above: near enough for a store
	// to size its layout by.
	w, err := im.db.BeginVersion(ctx, im.meta.Name, im.counts.Valid)
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
		if derr := im.db.DropList(ctx, im.meta.Name); derr != nil {
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
		if len(im.shown) < MaxShownInvalid {
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
	im.progress(Storing)
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
	held, err := im.db.Contains(ctx, im.meta.Name, batch...)
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
	now := time.Now
	if im.o.Now != nil {
		now = im.o.Now
	}
	im.counts.ImportedAt, im.counts.ImportedBy = now().UTC(), im.o.By
	// Kept with the version, for its history.
	im.counts.Added, im.counts.Removed, im.counts.Compared = im.added, im.removed(), true
	if im.o.DryRun {
		return nil
	}
	v, err := im.writer.Commit(ctx, im.counts)
	if err != nil {
		im.writer = nil // a failed commit leaves nothing to abort
		return im.fail(ctx, fmt.Errorf("committing: %w", err))
	}
	im.counts = v
	// The description changes only once the new version is in.
	if !im.created {
		if err := im.db.PutList(ctx, im.meta); err != nil {
			return fmt.Errorf("list %s imported as version %s, but updating its description: %w", im.meta.Name, v.ID, err)
		}
	}
	return nil
}

// checkRemoved refuses a new version that removes more of the entries in
// force than the limit, unless forced.
func (im *importer) checkRemoved() error {
	limit := DefaultMaxRemoval
	if im.o.MaxRemoval != nil {
		limit = *im.o.MaxRemoval
	}
	held, removed := im.prev.Entries, im.removed()
	if im.o.Force || im.created || held == 0 || float64(removed) <= limit*float64(held) {
		return nil
	}
	return tooManyRemoved{file: im.o.File, held: held, entries: im.counts.Entries, removed: removed, limit: limit}
}

// tooManyRemoved gives the counts that refused a file.
type tooManyRemoved struct {
	file                   string
	held, entries, removed int64
	limit                  float64
}

func (e tooManyRemoved) Error() string {
	return fmt.Sprintf("%s would remove %s of the entries in force, more than the limit of %s "+
		"(in force %d, in the new file %d, removed %d); check the file, or take it with --force or a higher --max-removal",
		e.file, percent(float64(e.removed)/float64(e.held)), percent(e.limit), e.held, e.entries, e.removed)
}

func (e tooManyRemoved) Is(target error) bool { return target == ErrTooManyRemoved }

// percent writes a share as a percentage with at most one decimal.
func percent(f float64) string {
	return strconv.FormatFloat(math.Round(f*1000)/10, 'f', -1, 64) + "%"
}

// removed is how many entries of the version in force the new one lacks:
// those it had less those the new one kept, which are the new entries
// that were not added.
func (im *importer) removed() int64 {
	return max(0, im.prev.Entries-(im.counts.Entries-im.added))
}
