package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/contactimport"
	"github.com/dncgate/dncgate/lists"
)

// contactFlags are the flags of contacts import.
type contactFlags struct {
	emailColumn, countryColumn, typeColumn, languageColumn, region, delimiter, encoding, by string
	phoneColumns                                                                            listFlag
	dryRun                                                                                  bool
}

func (o *contactFlags) register(fs *flagSet) {
	fs.StringVar(&o.emailColumn, "email-column", "", "the e-mail column: header `NAME` or position N (default: found by header: email, e-mail, mail, …)")
	fs.Var(&o.phoneColumns, "phone-column", "a phone column: header `NAME` or position N, repeatable (default: every column headed phone, mobile, telephone, tel, phone2, …)")
	fs.StringVar(&o.countryColumn, "country-column", "", "the country column: header `NAME`, position N or none (default: found by header: country, pays, land, …)")
	fs.StringVar(&o.languageColumn, "language-column", "", "the language column (ISO 639-1: fr, nl): header `NAME`, position N or none (default: found by header: language, lang, langue, …)")
	fs.StringVar(&o.typeColumn, "type-column", "", "the recipient type column: header `NAME`, position N or none (default: found by header: type, recipient_type, segment, …)")
	fs.StringVar(&o.region, "region", "", "country `CC` national phone numbers are read in when the row has no country (default: only international numbers)")
	fs.StringVar(&o.delimiter, "delimiter", "", "field `DELIMITER`: comma, semicolon, tab, pipe (default: sniffed)")
	fs.StringVar(&o.encoding, "encoding", "utf-8", "`ENCODING` of a file without a byte-order mark: utf-8, windows-1252, latin-1, utf-16le, utf-16be")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read and check the file, write nothing")
	fs.StringVar(&o.by, "by", "", "`NAME` of who imports (default: $SUDO_USER, else $USER, else the account name)")
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
		return a.importContacts(ctx, env, contactimport.Options{Key: env.key, File: pos[0], Read: ro,
			Columns: contactimport.Columns{Email: o.emailColumn, Phones: o.phoneColumns, Country: o.countryColumn, Type: o.typeColumn, Language: o.languageColumn},
			Region:  region.String(), DryRun: o.dryRun, By: operator(o.by)})
	})
}

// importContacts opens the file, runs the import, and logs and prints what
// it did; a file with no valid row gets its counts printed too.
func (a *app) importContacts(ctx context.Context, env contactsEnv, opts contactimport.Options) error {
	f, err := os.Open(opts.File)
	if err != nil {
		return err
	}
	defer f.Close()
	rep, err := contactimport.Import(ctx, env.db, f, opts)
	if errors.Is(err, lists.ErrNoValidRow) {
		writeContactsReport(a.stdout, rep)
	}
	if err != nil {
		return err
	}
	if v := rep.Version; !rep.DryRun {
		newLogger(env.cfg.Log, a.stderr).Info("contacts imported", "version", v.ID, "by", v.ImportedBy,
			"sha256", v.FileSHA256, "rows", v.Rows, "valid", v.Valid, "invalid", v.Invalid,
			"duplicates", v.Duplicates, "entries", v.Entries)
	}
	writeContactsReport(a.stdout, rep)
	return nil
}

func writeContactsReport(w io.Writer, rep contactimport.Report) {
	v := rep.Version
	switch {
	case rep.DryRun:
		fmt.Fprintln(w, "dry run: contacts not changed")
	case v.ID == "":
		fmt.Fprintln(w, "contacts not imported")
	default:
		fmt.Fprintf(w, "imported contacts: version %s\n", v.ID)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "file:\t%s\nsha-256:\t%s\nrows:\t%d\nvalid:\t%d\ninvalid:\t%d\n", rep.File, v.FileSHA256, v.Rows, v.Valid, v.Invalid)
	if v.ID != "" {
		fmt.Fprintf(tw, "duplicates:\t%d\nentries:\t%d\n", v.Duplicates, v.Entries)
	}
	tw.Flush()
	writeInvalidRows(w, rep.Invalid)
}
