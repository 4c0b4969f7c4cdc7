package console

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dncgate/dncgate/ledger"
	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/suppression"
)

// Paths of the rep's own page and the prospect file check.
const (
	MinePath  = Prefix + "mine"
	ScrubPath = Prefix + "mine/scrub"
)

// mineShown is how many of their refused recipients a rep's page lists.
const mineShown = 50

// defaultScrubColumn is the addresses' column when the form names none,
// as for dncgate scrub.
const defaultScrubColumn = "email"

// scrubTimeout bounds one prospect file check.
const scrubTimeout = 10 * time.Minute

type mineData struct {
	Refused   []ledger.Decision
	LedgerOff bool
	CanScrub  bool
	MaxMiB    int64
	Problem   string
}

// minePage lists the user's own refused recipients of the last 30 days,
// with the reasons, and offers the prospect file check.
func (c *Console) minePage(rq *Request) { c.renderMine(rq, http.StatusOK, "") }

func (c *Console) renderMine(rq *Request, status int, problem string) {
	data := mineData{LedgerOff: c.o.Ledger == nil, CanScrub: c.o.Checker != nil, MaxMiB: c.maxUpload() >> 20, Problem: problem}
	if c.o.Ledger != nil {
		ctx, cancel := context.WithTimeout(rq.R.Context(), trendsTimeout)
		defer cancel()
		p, err := c.o.Ledger.Query(ctx, ledger.Query{Rep: rq.User.Email, Verdict: ledger.Refused,
			Since: c.o.Now().AddDate(0, 0, -ledger.DefaultTrendDays), Limit: mineShown})
		if err != nil {
			c.o.Log.Error("console: a rep's refusals", "err", err)
			rq.Fail(http.StatusServiceUnavailable, "trends.unavailable")
			return
		}
		data.Refused = p.Decisions
	}
	rq.RenderStatus(status, data)
}

// scrubPost checks an uploaded prospect file as the gateway would at RCPT,
// sent as the user, and answers the file back with a verdict and a reason
// on every row. The result goes to a temporary file first: a check that
// fails midway sends nothing.
func (c *Console) scrubPost(rq *Request) {
	if c.o.Checker == nil {
		rq.Fail(http.StatusNotFound, "error.notfound")
		return
	}
	file, hdr, err := rq.R.FormFile("file")
	if err != nil {
		c.renderMine(rq, http.StatusBadRequest, rq.T("upload.nofile"))
		return
	}
	defer file.Close()
	out, err := os.CreateTemp("", "dncgate-scrub-*")
	if err != nil {
		c.o.Log.Error("console: scrub", "err", err)
		rq.Fail(http.StatusInternalServerError, "error.internal")
		return
	}
	defer os.Remove(out.Name())
	defer out.Close()
	ctx, cancel := context.WithTimeout(rq.R.Context(), scrubTimeout)
	defer cancel()
	col := strings.TrimSpace(rq.R.PostFormValue("column"))
	if col == "" {
		col = defaultScrubColumn
	}
	src := &capped{r: file, left: c.maxUpload()}
	counts, err := c.o.Checker.Scrub(ctx, src, out, suppression.ScrubOptions{Column: col,
		From: rq.User.Email, Now: c.o.Now})
	switch {
	case src.over:
		c.renderMine(rq, http.StatusRequestEntityTooLarge, rq.T("upload.toobig", c.maxUpload()>>20))
		return
	case errors.Is(err, lists.ErrNoValidRow) || err != nil && counts.Rows() == 0:
		c.renderMine(rq, http.StatusBadRequest, rq.T("mine.scrubrefused", err.Error()))
		return
	case err != nil:
		c.o.Log.Error("console: scrub", "err", err)
		c.renderMine(rq, http.StatusServiceUnavailable, rq.T("mine.scrubfailed"))
		return
	}
	c.o.Log.Info("console: prospect file checked", "by", rq.User.Email, "rows", counts.Rows(), "allowed", counts.Allowed,
		"refused", counts.Refused, "tempfail", counts.TempFailed, "invalid", counts.Invalid)
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		rq.Fail(http.StatusInternalServerError, "error.internal")
		return
	}
	name := strings.TrimSuffix(filepath.Base(hdr.Filename), filepath.Ext(hdr.Filename))
	rq.W.Header().Set("Content-Type", "text/csv; charset=utf-8")
	rq.W.Header().Set("Content-Disposition", `attachment; filename="`+safeName(name)+`-checked.csv"`)
	io.Copy(rq.W, out)
}

// safeName keeps a file name's letters, digits, '-', '_' and '.'.
func safeName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, s)
	if s == "" {
		return "prospects"
	}
	return s
}

// capped reads at most left bytes and says when the source held more.
type capped struct {
	r    io.Reader
	left int64
	over bool
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			c.over = true
			return 0, errTooBig
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}
