package upstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestErrorMapping(t *testing.T) {
	timeout := fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
	tests := []struct {
		name string
		got  *Error
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
			451, ecConnLost, true, "upstream protocol error"},
		{"refused at setup", fromTransport(errors.New("connect: connection refused"), true),
			451, ecUnreachable, true, "upstream unreachable"},
		{"EOF", fromTransport(io.EOF, false), 451, ecConnLost, true, "upstream connection lost"},
		{"socket timeout", fromTransport(timeout, false), 451, ecConnLost, true, "upstream timed out"},
		{"dial timeout", fromTransport(timeout, true), 451, ecUnreachable, true, "upstream timed out"},
		{"cancelled", fromTransport(context.Canceled, false), 451, ecConnLost, true, "upstream transaction cancelled"},
	}
	for _, tt := range tests {
		e := tt.got
		if e.Code != tt.code || e.Enhanced != tt.ec || e.Temporary != tt.temp || e.Message != tt.msg {
			t.Errorf("%s: got %d %v %v %q, want %d %v %v %q", tt.name,
				e.Code, e.Enhanced, e.Temporary, e.Message, tt.code, tt.ec, tt.temp, tt.msg)
		}
		if e.Cause == nil {
			t.Errorf("%s: cause lost", tt.name)
		}
	}
}

func TestErrorSMTPReply(t *testing.T) {
	e := temporary(ecUnreachable, "upstream unreachable", errors.New("dial tcp 10.1.2.3:25: refused"))
	r := e.SMTP()
	if r.Code != 451 || r.EnhancedCode != ecUnreachable || r.Message != "upstream unreachable" {
		t.Fatalf("reply = %+v", r)
	}
	if got := e.Error(); got != "451 4.4.1 upstream unreachable: dial tcp 10.1.2.3:25: refused" {
		t.Fatalf("Error() = %q", got)
	}
}
