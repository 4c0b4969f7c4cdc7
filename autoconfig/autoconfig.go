// Package autoconfig serves the files mail clients read to set
// themselves up, so a rep types an address and a password and the client
// finds the submission listener, its port, its TLS mode and the user
// name: Thunderbird's autoconfig (config-v1.1.xml), Outlook's Autodiscover
// (the plain old XML form) and an Apple configuration profile to
// download. Nothing here is secret; no password is ever put in a file.
package autoconfig

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// TLS is how a client secures a connection to a server.
type TLS string

const (
	StartTLS TLS = "starttls" // plain connection, then STARTTLS (port 587)
	Implicit TLS = "implicit" // TLS from the first byte (port 465, 993)
)

// Server is where a client connects.
type Server struct {
	Host string
	Port int
	TLS  TLS
}

// Settings are what the files say.
type Settings struct {
	// Submission is dncgate's listener the reps send through.
	Submission Server
	// IMAP is the company's mailbox server, when known, so a client can
	// make a whole account; an Apple profile needs it.
	IMAP *Server
	// DisplayName names the provider in the client ("Acme sales mail").
	DisplayName string
	// Domain is the mail domain the files speak for when the client
	// gives no address.
	Domain string
}

// maxAddress is RFC 5321's limit on a path, which an address fits in.
const maxAddress = 254

// errAddress is the reason every malformed address gets.
var errAddress = errors.New("not an e-mail address (local@domain)")

// parseAddress accepts one bare address, as a client sends it.
func parseAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxAddress || strings.ContainsAny(s, "<>\"\r\n\t ") {
		return "", errAddress
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", errAddress
	}
	if i := strings.LastIndexByte(s, '@'); i <= 0 || i == len(s)-1 {
		return "", errAddress
	}
	return s, nil
}

// domainOf is the part after the last @.
func domainOf(addr string) string { return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:]) }

// Check reports what is wrong with the settings.
func (s Settings) Check() error {
	if err := s.Submission.check("submission"); err != nil {
		return err
	}
	if s.IMAP != nil {
		return s.IMAP.check("imap")
	}
	return nil
}

func (v Server) check(what string) error {
	switch {
	case v.Host == "":
		return fmt.Errorf("%s: no host name", what)
	case v.Port < 1 || v.Port > 65535:
		return fmt.Errorf("%s: port %d out of range", what, v.Port)
	case v.TLS != StartTLS && v.TLS != Implicit:
		return fmt.Errorf("%s: TLS mode %q; want starttls or implicit (clients must not send passwords in the clear)", what, v.TLS)
	}
	return nil
}
