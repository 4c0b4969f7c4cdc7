// Package upstream hands accepted messages to the company's mail server (or
// to an outbox folder), one transaction per recipient, and remembers which
// recipients were delivered so that a client's retry reaches only the others.
//
// A Forwarder reads the delivered marks once per message, sends to each
// remaining recipient through a Target, and marks each acceptance. When the
// marks cannot be read it sends nothing and every recipient gets 451 4.3.0:
// sending unchecked could deliver twice.
//
// The SMTP Target keeps idle connections for reuse. A pooled connection
// found dead before MAIL is accepted is replaced once, transparently; a
// failure after that is never retried, since the upstream may already hold
// the message. Upstream refusals keep their code and text; network, TLS and
// timeout failures become 451 4.4.1 (while connecting) or 4.4.2, with the
// detail kept in Error.Cause for the log only.
//
// To an upstream that announces PIPELINING (RFC 2920) each transaction's
// MAIL, RCPT and DATA go in one write, their replies read in order
// (pipeline.go); to others one command at a time, through go-smtp's client.
//
// The outbox Target writes DIR/<UTC time>-<random>.eml per recipient, with
// X-Dncgate-Envelope-From and X-Dncgate-Envelope-To prepended to the body,
// through a hidden temporary file renamed into place.
package upstream
