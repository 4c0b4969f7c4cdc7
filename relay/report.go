package relay

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"strings"
	"time"

	"github.com/dncgate/dncgate/relay/upstream"

	"github.com/dncgate/dncgate/smtpreply"
)

// maxDroppedInReply is how many left-out recipients a refusal of the whole
// message names with their reasons; the report names them all.
const maxDroppedInReply = 3

// allDropped refuses a message whose every recipient was left out: there
// is nobody to send it to, and the reply says why for each.
func allDropped(ds []dropped) *smtpreply.Error {
	parts := make([]string, 0, maxDroppedInReply+1)
	for i, d := range ds {
		if i == maxDroppedInReply {
			parts = append(parts, fmt.Sprintf("and %d more", len(ds)-i))
			break
		}
		parts = append(parts, d.reply.Text)
	}
	text := "No recipient may be written to: " + strings.Join(parts, "; ")
	return smtpreply.New(ds[0].reply.Status, smtpreply.AllLeftOut, text, nil)
}

// notifyDropped sends the rep the report of the recipients left out, once
// the message's fate is final (a 4xx means the client sends it again, and
// the report comes with that attempt). A report that cannot be sent is
// logged; the rep's message is not held back for it.
func (s *session) notifyDropped(tx *transaction, body []byte, delivered int) {
	if len(tx.dropped) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.opts.ForwardTimeout)
	defer cancel()
	now := s.opts.Now()
	rep := buildReport(reportInput{
		host: s.opts.Hostname, rep: s.user.Email, ref: tx.ref, arrived: tx.start, now: now,
		header: headerOf(body), dropped: tx.dropped, delivered: delivered,
	})
	env := upstream.Envelope{From: "", Rcpts: []upstream.Rcpt{{Addr: s.user.Email}}, Ref: tx.ref}
	res := s.srv.fwd.Forward(ctx, env, rep)
	if len(res) == 1 && res[0].Err == nil {
		s.log.Info("left-out report sent", "ref", tx.ref, "rep", s.user.Email, "left_out", len(tx.dropped))
		return
	}
	err := fmt.Errorf("no result")
	if len(res) == 1 {
		err = res[0].Err
	}
	s.log.Error("left-out report not sent", "ref", tx.ref, "rep", s.user.Email, "err", err.Error())
}

// reportInput is what a left-out report says.
type reportInput struct {
	host, rep, ref string
	arrived, now   time.Time
	header         []byte // the message's header, as the client sent it
	dropped        []dropped
	delivered      int
}

// buildReport writes a delivery status notification (RFC 3464) in a
// multipart/report (RFC 6522): a readable part, one machine-readable
// status per left-out recipient, and the message's header so the rep's
// client can tell which message it is about.
func buildReport(in reportInput) []byte {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	writePart(mw, "text/plain; charset=utf-8", reportText(in))
	writePart(mw, "message/delivery-status", deliveryStatus(in))
	writePart(mw, "text/rfc822-headers", string(in.header))
	mw.Close()

	var msg bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	h("From", "Mail Delivery System <MAILER-DAEMON@"+in.host+">")
	h("To", "<"+in.rep+">")
	h("Subject", fmt.Sprintf("Not sent to %d recipient(s) (ref %s)", len(in.dropped), in.ref))
	h("Date", in.now.UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+randomID()+".report@"+in.host+">")
	h("Auto-Submitted", "auto-replied") // RFC 3834 §5: no auto-reply to this
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/report; report-type=delivery-status; boundary="`+mw.Boundary()+`"`)
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes()
}

func writePart(mw *multipart.Writer, ctype, content string) {
	w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {ctype}}) // a bytes.Buffer never fails
	w.Write([]byte(crlf(content)))
}

func reportText(in reportInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Your message (ref %s) was delivered to %d recipient(s), but not to the\n", in.ref, in.delivered)
	fmt.Fprintf(&b, "%d below: the company may not write to them.\n\n", len(in.dropped))
	for _, d := range in.dropped {
		fmt.Fprintf(&b, "  %s\n", d.reply.Text)
	}
	b.WriteString("\nDo not resend to them. Quote the reference to a manager if you think\nthis is wrong.\n")
	return b.String()
}

// deliveryStatus is the message/delivery-status part (RFC 3464 §2.2, §2.3).
func deliveryStatus(in reportInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Reporting-MTA: dns; %s\n", in.host)
	fmt.Fprintf(&b, "X-Dncgate-Ref: %s\n", in.ref)
	fmt.Fprintf(&b, "Arrival-Date: %s\n", in.arrived.UTC().Format(time.RFC1123Z))
	for _, d := range in.dropped {
		e := d.reply.Enhanced
		fmt.Fprintf(&b, "\nFinal-Recipient: rfc822; %s\n", smtpreply.Mailbox(d.addr))
		b.WriteString("Action: failed\n")
		fmt.Fprintf(&b, "Status: %d.%d.%d\n", e[0], e[1], e[2])
		fmt.Fprintf(&b, "Diagnostic-Code: smtp; %d %d.%d.%d %s\n", d.reply.Code, e[0], e[1], e[2], d.reply.Text)
		fmt.Fprintf(&b, "X-Dncgate-Reason: %s\n", d.reply.Reason) // the log's reason (RFC 3464 §2.4 extension field)
	}
	return b.String()
}

// headerOf returns the header section of a message, up to the empty line.
func headerOf(msg []byte) []byte {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+2]
	}
	return msg
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

func randomID() string {
	var b [12]byte
	rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}
