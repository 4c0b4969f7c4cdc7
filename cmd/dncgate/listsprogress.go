package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dncgate/dncgate/listimport"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Progress tuning.
const (
	// progressEvery is how many rows pass between progress lines.
	progressEvery = 500_000
	// barRefresh bounds how often the bar is redrawn: enough to look
	// alive, few enough writes not to slow a fast import.
	barRefresh = 100 * time.Millisecond
	// barWidth is the bar's length in characters, leaving room on an
	// 80-column terminal for the figures around it.
	barWidth = 30
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// importProgress tells how far an import got: on a terminal, a bar over
// the bytes of the file read (compressed as they are on disk, since that
// is the size known in advance) with rate and ETA, cleared at the end;
// elsewhere, where stderr is a log, a line every progressEvery rows.
type importProgress struct {
	w        io.Writer
	name     string
	terminal bool
	bar      *progressbar.ProgressBar // nil: lines, or cleared
	bytes    int64                    // on the bar
}

// newImportProgress reports on w for list name reading a file of size
// bytes (0 or less when unknown); terminal chooses the bar.
func newImportProgress(w io.Writer, terminal bool, name string, size int64) *importProgress {
	p := &importProgress{w: w, name: name, terminal: terminal}
	if !terminal {
		return p
	}
	if size <= 0 {
		size = -1 // a spinner: the bar needs a total
	}
	p.bar = progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("lists import "+name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(barWidth),
		progressbar.OptionThrottle(barRefresh),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionUseANSICodes(true),
	)
	return p
}

// update is the import's progress callback: called after each row read,
// and once when the import starts storing.
func (p *importProgress) update(pr listimport.Progress) {
	switch {
	case pr.Stage == listimport.Storing:
		if p.terminal || pr.Rows >= progressEvery {
			p.stage(fmt.Sprintf("%d valid rows read, storing the distinct ones", pr.Valid))
		}
	case p.bar != nil:
		if pr.Bytes != p.bytes {
			p.bar.Add64(pr.Bytes - p.bytes)
			p.bytes = pr.Bytes
		}
	case !p.terminal && pr.Rows%progressEvery == 0:
		fmt.Fprintf(p.w, "lists import %s: %d rows read, %d valid, %d invalid\n", p.name, pr.Rows, pr.Valid, pr.Invalid)
	}
}

// stage says what the import does after reading the file, which the bar
// cannot show: sorting out repeats and storing the entries.
func (p *importProgress) stage(msg string) {
	p.done()
	fmt.Fprintf(p.w, "lists import %s: %s\n", p.name, msg)
}

// done clears the bar, leaving the terminal as it was.
func (p *importProgress) done() {
	if p.bar == nil {
		return
	}
	p.bar.Finish()
	p.bar.Clear()
	p.bar = nil
}
