package bounce

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
)

// Kind is what a report means for its recipient.
type Kind string

// The kinds, as the log, the ledger and the metrics name them.
const (
	Hard      Kind = "hard"      // the mailbox does not exist or takes no mail: suppress now
	Soft      Kind = "soft"      // delivery failed for now (or the mailbox is full): count
	Other     Kind = "other"     // a failure not about the mailbox (policy, size), a delay, a success
	Complaint Kind = "complaint" // the recipient reported the mail as spam: opt them out
)

// Formats a report came in.
const (
	FormatDSN  = "dsn"  // multipart/report; report-type=delivery-status
	FormatARF  = "arf"  // multipart/report; report-type=feedback-report
	FormatText = "text" // a bounce in words, with a status code or a known phrase
)

// Report is what a bounce or complaint says.
type Report struct {
	Kind   Kind
	Format string
	// Status is the RFC 3463 enhanced status code ("5.1.1"), "" for a
	// complaint; FeedbackType the RFC 5965 §3.1 type of a complaint.
	Status       string
	FeedbackType string
	// Recipients are the addresses the report says it is about (ARF's
	// Original-Rcpt-To and Removal-Recipient, a DSN's Original-Recipient
	// and Final-Recipient), as written: a sender may forge them, so they
	// count only where they match the copy's sealed recipient digest.
	Recipients []string
}

// ErrMalformed is the answer to a message that is no report dncgate can
// read: a broken MIME structure, a report without its machine-readable
// part, a text with no status. It changes nothing.
var ErrMalformed = errors.New("bounce: not a readable bounce or complaint")

// Limits on what is read, against a hostile sender.
const (
	maxParts     = 64
	maxDepth     = 4
	maxPartBytes = 256 << 10
)

// Parse reads one message as it arrived at the return path.
func Parse(r io.Reader) (Report, error) {
	e, err := message.Read(r)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return Report{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var p parser
	if err := p.walk(e, 0); err != nil {
		return Report{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return p.report()
}

// parser gathers the parts of a message that tell what happened.
type parser struct {
	parts    int
	report_  string   // the outer multipart/report's report-type
	status   []byte   // the message/delivery-status part
	feedback []byte   // the message/feedback-report part
	texts    [][]byte // the human-readable text parts, in order
}

func (p *parser) walk(e *message.Entity, depth int) error {
	if p.parts++; p.parts > maxParts || depth > maxDepth {
		return errors.New("too many parts")
	}
	t, params, err := e.Header.ContentType()
	if err != nil {
		t = "text/plain" // RFC 2045 §5.2: a broken Content-Type is text/plain
	}
	if mr := e.MultipartReader(); mr != nil {
		if t == "multipart/report" && depth == 0 {
			p.report_ = strings.ToLower(params["report-type"])
		}
		return p.walkParts(mr, depth)
	}
	body, err := io.ReadAll(io.LimitReader(e.Body, maxPartBytes))
	if err != nil {
		return err
	}
	switch t {
	case "message/delivery-status", "message/global-delivery-status":
		p.status = body
	case "message/feedback-report":
		p.feedback = body
	case "text/plain":
		p.texts = append(p.texts, body)
	}
	return nil
}

func (p *parser) walkParts(mr message.MultipartReader, depth int) error {
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return err
		}
		if err := p.walk(part, depth+1); err != nil {
			return err
		}
	}
}

// report reads the machine-readable part when there is one, the text
// otherwise. A report that announces a machine-readable part and lacks
// it, or holds one that cannot be read, is malformed: guessing from its
// words would let a broken report decide.
func (p *parser) report() (Report, error) {
	switch {
	case p.report_ == "feedback-report" || p.feedback != nil:
		return readFeedback(p.feedback)
	case p.report_ == "delivery-status" || p.status != nil:
		return readStatus(p.status)
	}
	return readText(p.texts)
}

// readFeedback reads an ARF report (RFC 5965 §3.1): every feedback type
// but not-spam and virus says the recipient did not want the mail.
func readFeedback(body []byte) (Report, error) {
	groups := fieldGroups(body)
	if len(groups) == 0 {
		return Report{}, fmt.Errorf("%w: no feedback-report part", ErrMalformed)
	}
	ft := strings.ToLower(groups[0]["feedback-type"])
	rcpts := namedRecipients(groups[0], "original-rcpt-to", "removal-recipient")
	switch ft {
	case "abuse", "fraud", "other":
		return Report{Kind: Complaint, Format: FormatARF, FeedbackType: ft, Recipients: rcpts}, nil
	case "not-spam", "virus", "auth-failure":
		return Report{Kind: Other, Format: FormatARF, FeedbackType: ft, Recipients: rcpts}, nil
	}
	return Report{}, fmt.Errorf("%w: feedback type %q", ErrMalformed, ft)
}

// readStatus reads a DSN's per-recipient fields (RFC 3464 §2.3): the
// first recipient group with an Action. A copy has one recipient.
func readStatus(body []byte) (Report, error) {
	for _, g := range fieldGroups(body) {
		action := strings.ToLower(firstWord(g["action"]))
		if action == "" {
			continue
		}
		status := firstWord(g["status"])
		if !statusRE.MatchString(status) {
			return Report{}, fmt.Errorf("%w: recipient status %q", ErrMalformed, status)
		}
		// A class-only code (5.0.0) says less than the remote server's
		// own reply often does: "smtp; 550 5.1.1 user unknown".
		if strings.HasSuffix(status, ".0.0") {
			if m := statusInText.FindStringSubmatch(g["diagnostic-code"]); m != nil && m[1][0] == status[0] {
				status = m[1]
			}
		}
		r := Report{Format: FormatDSN, Status: status, Kind: Classify(status),
			Recipients: namedRecipients(g, "original-recipient", "final-recipient")}
		if action != "failed" {
			r.Kind = Other // delayed, delivered, relayed, expanded: no final failure
		}
		return r, nil
	}
	return Report{}, fmt.Errorf("%w: no recipient with an action in the delivery-status part", ErrMalformed)
}

// fieldGroups splits an RFC 3464 §2.1 body into groups of fields separated
// by blank lines, names lower-cased, continuation lines unfolded.
func fieldGroups(body []byte) []map[string]string {
	var groups []map[string]string
	cur, last := map[string]string{}, ""
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = map[string]string{}, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, maxPartBytes)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			if _, seen := cur[last]; !seen {
				cur[last] = strings.TrimSpace(value)
			}
		}
	}
	flush()
	return groups
}

// namedRecipients reads the address fields of one field group, in the
// order given: "rfc822; a@b.example" (RFC 3464 §2.3.1, §2.3.2), or a bare
// or bracketed address (RFC 5965 §3.2). Other address types are skipped.
func namedRecipients(g map[string]string, fields ...string) []string {
	var out []string
	for _, f := range fields {
		v := strings.TrimSpace(g[f])
		if v == "" {
			continue
		}
		if typ, addr, ok := strings.Cut(v, ";"); ok {
			if !strings.EqualFold(strings.TrimSpace(typ), "rfc822") {
				continue
			}
			v = addr
		}
		v = strings.Trim(strings.TrimSpace(v), "<>")
		if v != "" && len(v) <= 320 && strings.Contains(v, "@") {
			out = append(out, v)
		}
	}
	return out
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// statusRE is an RFC 3463 §2 status code.
var statusRE = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`)

// statusInText finds an enhanced code in words: "550 5.1.1", "550-5.1.1",
// "(#5.1.1)", "#5.1.1", "550 5.1.10 RESOLVER".
var statusInText = regexp.MustCompile(`(?:\b[245]\d\d[ -]|#|\(#)([245]\.\d{1,3}\.\d{1,3})\b`)

// Classify says what a status code means for the recipient (RFC 3463 §3).
func Classify(status string) Kind {
	switch status {
	case "5.1.1", // bad destination mailbox address
		"5.1.2",  // bad destination system address
		"5.1.3",  // bad destination mailbox address syntax
		"5.1.6",  // destination mailbox has moved
		"5.1.10", // no such recipient (Microsoft); null MX (RFC 7505)
		"5.2.1":  // mailbox disabled, not accepting messages
		return Hard
	case "5.2.2": // mailbox full: it may be emptied
		return Soft
	}
	if strings.HasPrefix(status, "4.") {
		return Soft
	}
	return Other
}
