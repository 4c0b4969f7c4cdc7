package smtpreply

import (
	"errors"
	"fmt"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestReply(t *testing.T) {
	e := New(Denied, List, "<jan@firma.be>: on the be-dncm list", errors.New("list be-dncm v7"))
	r := Reply(fmt.Errorf("rcpt: %w", e), "ABCDEFGH")
	if r.Code != 550 || r.EnhancedCode != (smtp.EnhancedCode{5, 7, 1}) || r.Message != "<jan@firma.be>: on the be-dncm list (ref ABCDEFGH)" {
		t.Errorf("Reply = %+v", r)
	}
	if got := Reply(e, "").Message; got != e.Text {
		t.Errorf("without a ref: %q", got)
	}
	if got := e.Error(); got != "550 5.7.1 <jan@firma.be>: on the be-dncm list [list]: list be-dncm v7" {
		t.Errorf("Error() = %q", got)
	}
}

// TestPlainErrorIsTemporary: an error that is no *Error never reaches the
// client as a permanent refusal, nor with its text.
func TestPlainErrorIsTemporary(t *testing.T) {
	r := Reply(errors.New("disk on fire at /var/lib"), "R")
	if r.Code != 451 || r.EnhancedCode != (smtp.EnhancedCode{4, 3, 0}) || r.Message != "Local error, try again later (ref R)" {
		t.Errorf("Reply = %+v", r)
	}
	if e := As(errors.New("x")); e.Reason != Internal || !e.Temporary() {
		t.Errorf("As = %+v", e)
	}
}

func TestFromSMTP(t *testing.T) {
	tests := []struct {
		in     smtp.SMTPError
		code   int
		reason Reason
		text   string
	}{
		{smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such\r\nuser"}, 550, UpstreamPermanent, "no such  user"},
		{smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "later"}, 452, UpstreamTemporary, "later"},
		{smtp.SMTPError{Code: 354, Message: "?"}, 451, UpstreamTemporary, "upstream protocol error"},
	}
	for _, tt := range tests {
		e := FromSMTP(&tt.in, 200)
		if e.Code != tt.code || e.Reason != tt.reason || e.Text != tt.text || e.Cause == nil {
			t.Errorf("FromSMTP(%d %q) = %+v", tt.in.Code, tt.in.Message, e)
		}
	}
}

func TestReasonsClosed(t *testing.T) {
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if seen[r] || r == "" {
			t.Errorf("reason %q listed twice or empty", r)
		}
		seen[r] = true
		if !r.Known() {
			t.Errorf("%q not known", r)
		}
	}
	if Reason("list:be-dncm").Known() || Reason("cap recipient-30d").Known() {
		t.Error("a reason with a list or cap name in it is known")
	}
}

// TestPath: a reply names the address the client gave, quoted as the
// client had to quote it (RFC 5321 §4.1.2).
func TestPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jan@firma.be", "<jan@firma.be>"},
		{"jan.de.wit+x@firma.be", "<jan.de.wit+x@firma.be>"},
		{"jan de wit@firma.be", `<"jan de wit"@firma.be>`},
		{`a"b@firma.be`, `<"a\"b"@firma.be>`},
		{`a\b@firma.be`, `<"a\\b"@firma.be>`},
		{"a@b@firma.be", `<"a@b"@firma.be>`},
		{".jan@firma.be", `<".jan"@firma.be>`},
		{"jan..x@firma.be", `<"jan..x"@firma.be>`},
		{"jöran@firma.se", "<jöran@firma.se>"},
		{"x\r\n250 ok@firma.be", `<"x??250 ok"@firma.be>`},
		{"", "<>"},
	}
	for _, tt := range tests {
		if got := Path(tt.in); got != tt.want {
			t.Errorf("Path(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClientText(t *testing.T) {
	if got := ClientText(" a\r\nb\x00é ", 10); got != "a  b" {
		t.Errorf("ClientText = %q", got)
	}
	if got := ClientText("abcdefghijkl", 5); got != "abcde..." {
		t.Errorf("ClientText long = %q", got)
	}
}
