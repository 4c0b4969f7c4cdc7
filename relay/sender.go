package relay

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/dncgate/dncgate/lists"
	"github.com/dncgate/dncgate/smtpreply"
)

// maxPathLen bounds an address: RFC 5321 §4.5.3.1.3 allows a 256-octet path
// including the angle brackets.
const maxPathLen = 254

// mayUse reports whether a user with these SendAs entries may send as addr.
// "a@b.fr" matches that address, "@b.fr" any address at exactly that domain
// (not its subdomains); both case-insensitively. Local parts are compared
// case-insensitively too although RFC 5321 §2.4 lets a host distinguish
// them: a rep is not meant to pick "Boss@" next to an allowed "boss@".
func mayUse(sendAs []string, addr string) bool {
	local, domain, ok := splitAddr(addr)
	if !ok {
		return false
	}
	want := strings.ToLower(local + "@" + domain)
	for _, a := range sendAs {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == want || (strings.HasPrefix(a, "@") && a[1:] == strings.ToLower(domain)) {
			return true
		}
	}
	return false
}

// splitAddr splits at the last "@", as a quoted local part may hold others.
func splitAddr(addr string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(addr, '@')
	if i <= 0 || i == len(addr)-1 {
		return "", "", false
	}
	return addr[:i], addr[i+1:], true
}

// checkAddr validates an envelope address as go-smtp parsed it (go-smtp takes
// anything up to a space or ">" as the domain). Non-ASCII needs SMTPUTF8
// (RFC 6531 §3.2). syntax is the status for a malformed address.
func checkAddr(addr string, smtputf8 bool, syntax smtpreply.Status) error {
	_, domain, ok := splitAddr(addr)
	switch {
	case !ok || len(addr) > maxPathLen || hasControl(addr) || !validDomain(domain):
		return smtpreply.New(syntax, smtpreply.Syntax, smtpreply.Path(addr)+": bad address syntax", nil)
	case !smtputf8 && !isASCII(addr):
		return smtpreply.New(smtpreply.NeedUTF8, smtpreply.Syntax, smtpreply.Path(addr)+": non-ASCII address needs SMTPUTF8", nil)
	}
	return nil
}

// validDomain accepts a dot-separated host name, letters (any script, so
// that U-labels pass for SMTPUTF8), digits and hyphens, or an address
// literal in brackets (RFC 5321 §4.1.3).
func validDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		return strings.HasSuffix(d, "]") && len(d) > 2 && !strings.ContainsAny(d[1:len(d)-1], "[]\\")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if r < utf8.RuneSelf && !isLDH(byte(r)) {
				return false
			}
		}
	}
	return utf8.ValidString(d)
}

func isLDH(c byte) bool {
	return c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0
}

// logAddr is an address as the log shows it: masked (README, "Logs").
func logAddr(s string) string { return safeAddr(lists.MaskEmail(s)) }

// safeAddr keeps an address fit for one log value; replies use
// smtpreply.Path.
func safeAddr(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, s)
	if len(s) > maxPathLen {
		s = s[:maxPathLen] + "..."
	}
	return s
}

// headerParser reads From: and Sender: addresses. Display names may be
// RFC 2047 encoded in any charset; only the addresses matter here, so the
// name's bytes are passed through undecoded rather than failing on a
// charset net/mail does not know.
var headerParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// checkHeaders applies the sender rules to the message header: the envelope
// sender is not what recipients see, so every From: address (and Sender:,
// RFC 5322 §3.6.2) must be one the user may send as. RFC 5322 §3.6 demands
// exactly one From: field and at most one Sender:; a message that breaks
// that is refused with 550 5.6.0, a permanent content error, because
// recipients' filters (DMARC) judge it by a From: we could not check.
func checkHeaders(body []byte, sendAs []string) error {
	msg, err := mail.ReadMessage(bytes.NewReader(body))
	if err != nil {
		return smtpreply.New(smtpreply.BadHeader, smtpreply.HeaderSyntax, "Message header cannot be parsed", err)
	}
	if err := checkFrom(fields(msg.Header, "From"), sendAs); err != nil {
		return err
	}
	return checkSender(fields(msg.Header, "Sender"), sendAs)
}

// fields returns every field called name. net/mail keeps "From :" (white
// space before the colon, obsolete syntax that RFC 5322 §4.5.1 says readers
// must accept) under its own key; mail clients display it as From, so it is
// one.
func fields(h mail.Header, name string) []string {
	var vs []string
	for k, v := range h {
		if strings.EqualFold(strings.TrimRight(k, " \t"), name) {
			vs = append(vs, v...)
		}
	}
	return vs
}

func checkFrom(fields []string, sendAs []string) error {
	if len(fields) != 1 {
		return smtpreply.New(smtpreply.BadHeader, smtpreply.HeaderSyntax,
			fmt.Sprintf("Message must have exactly one From: header, it has %d (RFC 5322 section 3.6)", len(fields)), nil)
	}
	list, err := headerParser.ParseList(fields[0])
	if err != nil || len(list) == 0 {
		return smtpreply.New(smtpreply.BadHeader, smtpreply.HeaderSyntax, "From: header has no valid address", err)
	}
	for _, a := range list {
		if err := checkNoEncodedWord("From", a.Address); err != nil {
			return err
		}
		if !mayUse(sendAs, a.Address) {
			return smtpreply.New(smtpreply.Denied, smtpreply.SenderRule,
				"From: header "+smtpreply.Path(a.Address)+" not permitted for this account", nil)
		}
	}
	return nil
}

func checkSender(fields []string, sendAs []string) error {
	switch len(fields) {
	case 0:
		return nil
	case 1:
	default:
		return smtpreply.New(smtpreply.BadHeader, smtpreply.HeaderSyntax, "Message must have at most one Sender: header (RFC 5322 section 3.6)", nil)
	}
	a, err := headerParser.Parse(fields[0])
	if err != nil {
		return smtpreply.New(smtpreply.BadHeader, smtpreply.HeaderSyntax, "Sender: header has no valid address", err)
	}
	if err := checkNoEncodedWord("Sender", a.Address); err != nil {
		return err
	}
	if !mayUse(sendAs, a.Address) {
		return smtpreply.New(smtpreply.Denied, smtpreply.SenderRule,
			"Sender: header "+smtpreply.Path(a.Address)+" not permitted for this account", nil)
	}
	return nil
}

// checkNoEncodedWord refuses an address holding an RFC 2047 encoded word
// ("=?utf-8?q?boss=40evil.example?=@acme.example"). RFC 2047 §5 allows
// none in an addr-spec, but some mail programs decode one anyway and show
// the address it spells, whatever domain the sender rules checked.
// net/mail leaves it undecoded, so it is seen here as written.
func checkNoEncodedWord(field, addr string) error {
	i := strings.Index(addr, "=?")
	if i < 0 || !strings.Contains(addr[i+2:], "?=") {
		return nil
	}
	return smtpreply.New(smtpreply.BadHeader, smtpreply.EncodedWord,
		field+": header address holds an encoded word, not allowed in an address (RFC 2047 section 5)", nil)
}
