package relay

import (
	"errors"
	"fmt"
	"io"
)

// errBareLineEnd marks a CR or LF that is not part of a CRLF pair.
var errBareLineEnd = errors.New("bare CR or LF in message")

// errNUL marks a NUL byte. RFC 5322 §2.3 and RFC 6152 §3 (8BITMIME) forbid
// it; only BINARYMIME (RFC 3030) would allow it, and it is not offered. A
// NUL is refused even in a part the gateway passes through untouched:
// servers downstream truncate at it or refuse the message.
var errNUL = errors.New("NUL byte in message")

// strictReader passes data through unchanged but fails on the first bare CR
// or bare LF, or NUL byte (errNUL). RFC 5321 §2.3.8 and RFC 5322 §2.3 allow CR and LF only as the
// CRLF pair; servers that accept them alone are the ones SMTP smuggling
// (Postfix CVE-2023-51764 and kin) exploits, because a downstream server may
// see an end-of-data sequence where this one did not. Refusing the whole
// message, as Postfix's smtpd_forbid_bare_newline does, is the safe choice.
// It also covers a quirk of go-smtp's DATA reader, which misses the end of
// data in "\r\r\n.\r\n": whatever it takes for the message holds that bare
// CR and is refused, so no server downstream ever sees the ambiguity.
type strictReader struct {
	r      io.Reader
	pos    int64 // bytes passed so far, for the log
	prevCR bool  // the last byte seen was CR
}

func (s *strictReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if off, bad := s.scan(p[:n]); bad != nil {
		return 0, fmt.Errorf("%w at byte %d", bad, s.pos+int64(off))
	}
	s.pos += int64(n)
	if err == io.EOF && s.prevCR {
		return 0, fmt.Errorf("%w at byte %d (CR at end)", errBareLineEnd, s.pos-1)
	}
	return n, err
}

// scan returns the error of the first bad byte in b, if any, and its
// offset in b (-1 for a CR that ended the previous read). A CR's verdict
// waits for the next byte, which may come in the next read.
func (s *strictReader) scan(b []byte) (int, error) {
	for i, c := range b {
		switch {
		case s.prevCR && c != '\n':
			return i - 1, errBareLineEnd
		case !s.prevCR && c == '\n':
			return i, errBareLineEnd
		case c == 0:
			return i, errNUL
		}
		s.prevCR = c == '\r'
	}
	return 0, nil
}
