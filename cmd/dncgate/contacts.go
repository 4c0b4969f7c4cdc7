package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/contactdb"
	"github.com/dncgate/dncgate/listdb"
	"github.com/dncgate/dncgate/lists"
)

func (a *app) contacts(ctx context.Context, args []string) error {
	return a.dispatch(ctx, "dncgate contacts", []command{
		{"import", "import a CRM export as the new set of contacts", (*app).contactsImport},
		{"show", "show what the contacts hold for one address", (*app).contactsShow},
		{"status", "show the current contacts version", (*app).contactsStatus},
		{"help", "print this help", nil},
	}, args)
}

// contactsCmd holds what every contacts subcommand parses.
type contactsCmd struct {
	common
	fs *flagSet
}

func (a *app) newContactsCmd(name, args, summary string) *contactsCmd {
	c := &contactsCmd{fs: a.newFlags("dncgate contacts "+name, args, summary)}
	c.register(c.fs)
	return c
}

// contactsEnv is what a contacts subcommand works with once the store is
// open.
type contactsEnv struct {
	cfg *config.Config
	db  contactdb.Store
	key []byte // nil unless asked for
}

// withStore loads the configuration, opens the store and runs f with its
// contacts; withKey also reads the digest key.
func (c *contactsCmd) withStore(ctx context.Context, withKey bool, f func(contactsEnv) error) error {
	return c.withConfigStore(ctx, func(cfg *config.Config, st backend) error {
		env := contactsEnv{cfg: cfg, db: st.Contacts()}
		if withKey {
			var err error
			if env.key, err = cfg.HMACKey(); err != nil {
				return fmt.Errorf("digest key: %w", err)
			}
		}
		return f(env)
	})
}

func (a *app) contactsShow(ctx context.Context, args []string) error {
	c := a.newContactsCmd("show", "ADDRESS", "Show what the current contacts hold for ADDRESS: country, recipient type\n"+
		"and how many phone numbers (stored as digests, they cannot be shown).")
	asJSON := jsonFlag(c.fs)
	pos, err := c.fs.parse(args, 1, 1)
	if err != nil {
		return err
	}
	addr, err := lists.NormaliseEmail(pos[0])
	if err != nil {
		return c.fs.usageError("%q: %v", pos[0], err)
	}
	return c.withStore(ctx, true, func(env contactsEnv) error {
		ct, ok, err := env.db.Contact(ctx, listdb.Key(env.key, lists.KindEmail.String(), addr))
		if err != nil {
			return fmt.Errorf("contact %s: %w", addr, err)
		}
		if !ok {
			return fmt.Errorf("no contact for %s in the current contacts", addr)
		}
		if *asJSON {
			return a.writeJSON(struct {
				Address  string `json:"address"`
				Country  string `json:"country"`  // "" unknown
				Type     string `json:"type"`     // "" unknown
				Language string `json:"language"` // "" unknown
				Phones   int    `json:"phones"`
			}{addr, ct.Country, ct.Type, ct.Language, len(ct.Phones)})
		}
		tw := tabwriter.NewWriter(a.stdout, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "address:\t%s\ncountry:\t%s\ntype:\t%s\nlanguage:\t%s\nphones:\t%d\n",
			addr, orUnknown(ct.Country), orUnknown(ct.Type), orUnknown(ct.Language), len(ct.Phones))
		return tw.Flush()
	})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (a *app) contactsStatus(ctx context.Context, args []string) error {
	c := a.newContactsCmd("status", "", "Show the current contacts version: when and by whom it was imported,\n"+
		"the file's SHA-256 and the import's counts.")
	asJSON := jsonFlag(c.fs)
	if _, err := c.fs.parse(args, 0, 0); err != nil {
		return err
	}
	return c.withStore(ctx, false, func(env contactsEnv) error {
		v, err := env.db.Current(ctx)
		if err != nil {
			return fmt.Errorf("reading the contacts version: %w", err)
		}
		if *asJSON {
			var out *versionJSON // null: nothing imported yet
			if v.ID != "" {
				out = newVersionJSON(listdb.Version{ID: v.ID, ImportedAt: v.ImportedAt, ImportedBy: v.ImportedBy, FileSHA256: v.FileSHA256,
					Rows: v.Rows, Valid: v.Valid, Invalid: v.Invalid, Duplicates: v.Duplicates, Entries: v.Entries})
			}
			return a.writeJSON(struct {
				Version *versionJSON `json:"version"`
			}{out})
		}
		return writeContactsVersion(a.stdout, v)
	})
}

func writeContactsVersion(w io.Writer, v contactdb.Version) error {
	if v.ID == "" {
		_, err := fmt.Fprintln(w, "no contacts imported yet")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "version:\t%s\nimported:\t%s UTC by %s\nfile sha-256:\t%s\n", v.ID,
		v.ImportedAt.UTC().Format(time.DateTime), v.ImportedBy, v.FileSHA256)
	fmt.Fprintf(tw, "rows:\t%d\nvalid:\t%d\ninvalid:\t%d\nduplicates:\t%d\nentries:\t%d\n",
		v.Rows, v.Valid, v.Invalid, v.Duplicates, v.Entries)
	return tw.Flush()
}
