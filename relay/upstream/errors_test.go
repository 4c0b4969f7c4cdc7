package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/dncgate/dncgate/smtpreply"
	"github.com/emersion/go-smtp"
)

func TestErrorMapping(t *testing.T) {
	timeout := fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
	tests := []struct {
		name string
		got  *smtpreply.Error
		code int
		ec   smtp.EnhancedCode
		temp bool
		msg  string
	}{
		{"upstream 550", fromReply(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "no"}),
			550, smtp.EnhancedCode{5, 7, 1}, false, "no"},
		{"upstream 452", fromReply(&smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 5, 3}, Message: "too many"}),
			452, smtp.EnhancedCode{4, 5, 3}, true, "too many"},
		{"upstream odd code", fromReply(&smtp.SMTPError{Code: 354, Message: "?"}),
			451, smtpreply.ConnLost.Enhanced, true, "upstream protocol error"},
		{"refused at setup", fromTransport(errors.New("connect: connection refused"), true),
			451, smtpreply.Unreachable.Enhanced, true, "upstream unreachable"},
		{"EOF", fromTransport(io.EOF, false), 451, smtpreply.ConnLost.Enhanced, true, "upstream connection lost"},
		{"socket timeout", fromTransport(timeout, false), 451, smtpreply.ConnLost.Enhanced, true, "upstream timed out"},
		{"dial timeout", fromTransport(timeout, true), 451, smtpreply.Unreachable.Enhanced, true, "upstream timed out"},
		{"cancelled", fromTransport(context.Canceled, false), 451, smtpreply.ConnLost.Enhanced, true, "upstream transaction cancelled"},
	}
	for _, tt := range tests {
		e := tt.got
		if e.Code != tt.code || e.Enhanced != tt.ec || e.Temporary() != tt.temp || e.Text != tt.msg {
			t.Errorf("%s: got %d %v %v %q, want %d %v %v %q", tt.name,
				e.Code, e.Enhanced, e.Temporary(), e.Text, tt.code, tt.ec, tt.temp, tt.msg)
		}
		if e.Cause == nil {
			t.Errorf("%s: cause lost", tt.name)
		}
	}
}

func TestErrorSMTPReply(t *testing.T) {
	e := temporary(smtpreply.Unreachable, "upstream unreachable", errors.New("dial tcp 10.1.2.3:25: refused"))
	r := smtpreply.Reply(e, "")
	if r.Code != 451 || r.EnhancedCode != smtpreply.Unreachable.Enhanced || r.Message != "upstream unreachable" {
		t.Fatalf("reply = %+v", r)
	}
	if got := e.Error(); got != "451 4.4.1 upstream unreachable [upstream-temporary]: dial tcp 10.1.2.3:25: refused" {
		t.Fatalf("Error() = %q", got)
	}
}
