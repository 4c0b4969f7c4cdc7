package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dncgate/dncgate/console/importjob"
	"github.com/dncgate/dncgate/contactimport"
	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/listimport"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/store"
)

// Paths of the upload pages.
const (
	UploadPath = Prefix + "upload"
	JobPath    = Prefix + "upload/" // + job id
)

// DefaultMaxUpload bounds one uploaded file (compressed, as sent).
const DefaultMaxUpload = 512 << 20

// uploadKind is what an upload holds.
const (
	uploadList     = "list"
	uploadContacts = "contacts"
)

// refreshSeconds is how often a running job's page reloads itself: a
// Refresh header, which every browser follows without script.
const refreshSeconds = "2"

type uploadData struct {
	Lists    []string
	Problem  string
	MaxMiB   int64
	Contacts bool // contacts can be uploaded
}

func (c *Console) maxUpload() int64 {
	if c.o.MaxUpload > 0 {
		return c.o.MaxUpload
	}
	return DefaultMaxUpload
}

func (c *Console) uploadForm(rq *Request) { c.renderUpload(rq, http.StatusOK, "") }

func (c *Console) renderUpload(rq *Request, status int, problem string) {
	ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
	defer cancel()
	infos, err := c.o.Lists.Lists(ctx)
	if err != nil {
		c.unavailable(rq, "lists", err)
		return
	}
	data := uploadData{Problem: problem, MaxMiB: c.maxUpload() >> 20, Contacts: c.o.Contacts != nil}
	for _, in := range infos {
		data.Lists = append(data.Lists, in.Meta.Name)
	}
	rq.RenderStatus(status, data)
}

// uploadPost saves the file to a temporary one (the import reads it from
// the start, and a zip needs to seek) and starts its import.
func (c *Console) uploadPost(rq *Request) {
	// The form was parsed for its CSRF token before this runs; the size
	// is checked as the file is copied.
	file, hdr, err := rq.R.FormFile("file")
	if err != nil {
		c.renderUpload(rq, http.StatusBadRequest, rq.T("upload.nofile"))
		return
	}
	defer file.Close()
	kind, name := rq.R.PostFormValue("kind"), strings.TrimSpace(rq.R.PostFormValue("list"))
	run, problem := c.importRun(rq, kind, name, hdr.Filename)
	if problem != "" {
		c.renderUpload(rq, http.StatusBadRequest, problem)
		return
	}
	tmp, err := saveUpload(file, c.maxUpload())
	if errors.Is(err, errTooBig) {
		c.renderUpload(rq, http.StatusRequestEntityTooLarge, rq.T("upload.toobig", c.maxUpload()>>20))
		return
	}
	if err != nil {
		c.o.Log.Error("console: saving an upload", "err", err)
		rq.Fail(http.StatusInternalServerError, "error.internal")
		return
	}
	what := rq.T("upload.what."+kind, name, hdr.Filename)
	id, err := c.jobs.Start(c.o.Background, what, rq.User.Email, func(ctx context.Context, p func(importjob.Counts)) (any, error) {
		f, err := os.Open(tmp)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return run(ctx, f, p)
	}, func() { os.Remove(tmp) })
	if err != nil {
		os.Remove(tmp)
		c.renderUpload(rq, http.StatusServiceUnavailable, rq.T("upload.busy"))
		return
	}
	rq.Redirect(JobPath + id)
}

var errTooBig = errors.New("upload too large")

// saveUpload copies the upload to a temporary file of its own.
func saveUpload(src io.Reader, max int64) (string, error) {
	f, err := os.CreateTemp("", "dncgate-upload-*")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(src, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > max {
		err = errTooBig
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

type importFunc func(ctx context.Context, f io.Reader, p func(importjob.Counts)) (any, error)

// importRun checks the form and returns the import to run: the same
// listimport and contactimport calls as the CLI's, audited as it does.
func (c *Console) importRun(rq *Request, kind, name, file string) (importFunc, string) {
	by := rq.User.Email
	file = filepath.Base(file)
	ro := lists.ReadOptions{Header: rq.R.PostFormValue("header") == "on"}
	switch kind {
	case uploadList:
		ctx, cancel := context.WithTimeout(rq.R.Context(), listsTimeout)
		defer cancel()
		m, _, err := c.o.Lists.List(ctx, name)
		if err != nil {
			return nil, rq.T("upload.nolist", name)
		}
		opts := listimport.Options{Meta: m, Key: c.o.DigestKey, File: file, Read: ro,
			Column: strings.TrimSpace(rq.R.PostFormValue("column")), By: by, Now: c.o.Now}
		if c.o.MaxRemoval != nil {
			opts.MaxRemoval = c.o.MaxRemoval(name)
		}
		return func(ctx context.Context, f io.Reader, p func(importjob.Counts)) (any, error) {
			opts.Progress = func(pr listimport.Progress) {
				p(importjob.Counts{Bytes: pr.Bytes, Rows: pr.Rows, Valid: pr.Valid, Invalid: pr.Invalid, Storing: pr.Stage == listimport.Storing})
			}
			rep, err := listimport.Import(ctx, c.o.Lists, f, opts)
			if err == nil {
				c.o.Log.Info("console: list imported", "list", rep.List, "version", rep.Version.ID, "by", by,
					"sha256", rep.Version.FileSHA256, "entries", rep.Version.Entries, "added", rep.Added, "removed", rep.Removed)
				err = c.auditChange(ctx, rep.AuditEvent())
			}
			return rep, err
		}, ""
	case uploadContacts:
		if c.o.Contacts == nil {
			return nil, rq.T("upload.nocontacts")
		}
		ro.Header = true
		opts := contactimport.Options{Key: c.o.DigestKey, File: file, Read: ro, By: by, Now: c.o.Now}
		return func(ctx context.Context, f io.Reader, p func(importjob.Counts)) (any, error) {
			opts.Progress = func(pr contactimport.Progress) {
				p(importjob.Counts{Bytes: pr.Bytes, Rows: pr.Rows, Valid: pr.Valid, Invalid: pr.Invalid})
			}
			rep, err := contactimport.Import(ctx, c.o.Contacts, f, opts)
			if err == nil {
				c.o.Log.Info("console: contacts imported", "version", rep.Version.ID, "by", by, "entries", rep.Version.Entries)
			}
			return rep, err
		}, ""
	}
	return nil, rq.T("upload.nokind")
}

// auditChange records a change made; a failure says the trail lacks it.
func (c *Console) auditChange(ctx context.Context, e ledger.AuditEvent) error {
	if err := c.o.Audit.Audit(ctx, e); err != nil {
		return fmt.Errorf("the change is made, but the audit trail lacks it: %w", err)
	}
	return nil
}

type jobData struct {
	importjob.Status
	Refused  bool
	List     *listimport.Report
	Contacts *contactimport.Report
	Problem  string
}

func (c *Console) jobPage(rq *Request) {
	j := c.jobs.Job(rq.R.PathValue("id"))
	if j == nil {
		rq.Fail(http.StatusNotFound, "upload.nojob")
		return
	}
	st := j.Status(c.o.Now())
	data := jobData{Status: st}
	switch rep := st.Report.(type) {
	case listimport.Report:
		data.List = &rep
	case contactimport.Report:
		data.Contacts = &rep
	}
	if st.Err != nil {
		data.Refused = listimport.Refused(st.Err) || errors.Is(st.Err, lists.ErrNoValidRow)
		data.Problem = st.Err.Error()
	}
	if !st.Done {
		rq.W.Header().Set("Refresh", refreshSeconds)
	}
	rq.Render(data)
}

// Uploads at once and how long a finished one's report stays readable.
const (
	maxJobs = 2
	jobKeep = time.Hour
)

// reviewPages are the trends, lists and upload pages; the lists and
// upload pages only with a list store.
func (c *Console) reviewPages() []Page {
	ps := []Page{{Pattern: "GET " + TrendsPath, Role: store.RoleRep, Nav: "nav.trends", Template: "trends.html.tmpl", Serve: c.trendsPage},
		{Pattern: "GET " + MinePath, Role: store.RoleRep, Nav: "nav.mine", Template: "mine.html.tmpl", Serve: c.minePage},
		{Pattern: "POST " + ScrubPath, Role: store.RoleRep, Template: "mine.html.tmpl", Serve: c.scrubPost}}
	if c.o.Lists == nil {
		return ps
	}
	return append(ps,
		Page{Pattern: "GET " + ListsPath, Role: store.RoleManager, Nav: "nav.lists", Template: "lists.html.tmpl", Serve: c.listsPage},
		Page{Pattern: "GET " + ListPath + "{name}", Role: store.RoleManager, Template: "list.html.tmpl", Serve: c.listPage},
		Page{Pattern: "POST " + ListPath + "{name}/rollback", Role: store.RoleAdmin, Template: "list.html.tmpl", Serve: c.rollback},
		Page{Pattern: "GET " + OptOutsPath, Role: store.RoleManager, Nav: "nav.optouts", Template: "optouts.html.tmpl", Serve: c.optoutPage},
		Page{Pattern: "POST " + OptOutsPath, Role: store.RoleManager, Template: "optouts.html.tmpl", Serve: c.optoutAdd},
		Page{Pattern: "POST " + ErasePath, Role: store.RoleAdmin, Template: "optouts.html.tmpl", Serve: c.optoutErase},
		Page{Pattern: "GET " + UploadPath, Role: store.RoleAdmin, Nav: "nav.upload", Template: "upload.html.tmpl", Serve: c.uploadForm},
		Page{Pattern: "POST " + UploadPath, Role: store.RoleAdmin, Template: "upload.html.tmpl", Serve: c.uploadPost},
		Page{Pattern: "GET " + JobPath + "{id}", Role: store.RoleAdmin, Template: "job.html.tmpl", Serve: c.jobPage},
	)
}
