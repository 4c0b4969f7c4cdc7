// Package bounce reads what comes back to a copy's return path: delivery
// status notifications (RFC 3464), the plain-text bounces some mail
// servers still send, and complaints (RFC 5965), and says what each means
// for the recipient. Which recipient it is about is never read from the
// report, which anyone can write, but from the return path's token.
package bounce
