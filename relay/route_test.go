package relay

import (
	"slices"
	"strings"
	"testing"

	"github.com/dncgate/dncgate/caps"
	"github.com/dncgate/dncgate/lists"
)

func withRecipients(t *testing.T, rerouteOK ...string) option {
	r, err := lists.NewRecipients(rerouteOK)
	if err != nil {
		t.Fatal(err)
	}
	return func(o *Options) { o.Recipients = r }
}

// TestReroutableRefusedAtRCPT: the spellings a stock upstream would
// reroute to the opted-out suppressed@example.net are refused at RCPT in
// both modes, naming the reason, before the check or a cap is asked; and
// nothing of them is forwarded.
func TestReroutableRefusedAtRCPT(t *testing.T) {
	for _, mode := range []RefusalMode{Reject, DropAndNotify} {
		t.Run(mode.String(), func(t *testing.T) {
			chk := newTableCheck()
			chk.answers["suppressed@example.net"] = optedOut
			capper := newFakeCapper()
			e := testServer(t, withCheck(chk), withMode(mode), withCaps(capper), withRecipients(t, "legacy.acme.example"))
			c := e.login(t)
			c.must("MAIL FROM:<rep@acme.fr>", 250)
			for rcpt, char := range map[string]string{
				"suppressed%example.net@mail.acme.example":   "%",
				"example.net!suppressed@mail.acme.example":   "!",
				"suppressed+x%example.net@mail.acme.example": "%",
				// go-smtp unquotes a quoted local part: the '%' is still seen.
				`"suppressed%example.net"@mail.acme.example`: "%",
			} {
				shown := strings.ReplaceAll(rcpt, `"`, "")
				want := "553 5.1.3 <" + shown + ">: local part contains '" + char + "', which a mail server may reroute (ref "
				if got := c.cmd("RCPT TO:<" + rcpt + ">"); !strings.HasPrefix(got, want) {
					t.Errorf("RCPT %s:\n got %q\nwant %q…", rcpt, got, want)
				}
			}
			// At the domain configured for them, '%' is an ordinary character.
			c.must("RCPT TO:<dept%sales@legacy.acme.example>", 250)
			c.must("DATA", 354)
			c.send(message(repEmail, "reroutes") + ".\r\n")
			c.expect(250)
			calls := e.fwd.got()
			if len(calls) != 1 || len(calls[0].env.Rcpts) != 1 || calls[0].env.Rcpts[0].Addr != "dept%sales@legacy.acme.example" {
				t.Fatalf("forwarded %+v, want only dept%%sales@legacy.acme.example", calls)
			}
			if want := []string{repEmail + ">dept%sales@legacy.acme.example"}; !slices.Equal(chk.asked, want) {
				t.Errorf("the check was asked %q, want %q", chk.asked, want)
			}
			wantCalls(t, capper, "reserve dept%sales@legacy.acme.example", "commit dept%sales@legacy.acme.example")
		})
	}
}

// TestSourceRouteCannotReroute: go-smtp drops a source route (RFC 5321
// §3.3 and Appendix C let a server ignore it) and hands the session the
// mailbox alone, so the mailbox is what is checked and what is forwarded:
// the route never reaches the upstream, and cannot hide an opted-out
// person or a '%'.
func TestSourceRouteCannotReroute(t *testing.T) {
	chk := newTableCheck()
	chk.answers["suppressed@example.net"] = optedOut
	e := testServer(t, withCheck(chk), withMode(Reject))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for rcpt, want := range map[string]string{
		"@a.example,@b.example:suppressed@example.net": "550 5.7.1 <suppressed@example.net>: the recipient opted out",
		"@a.example:suppressed%example.net@c.example":  "553 5.1.3 <suppressed%example.net@c.example>: local part contains '%', which a mail server may reroute (ref ",
	} {
		if got := c.cmd("RCPT TO:<" + rcpt + ">"); !strings.HasPrefix(got, want) {
			t.Errorf("RCPT %s:\n got %q\nwant %q…", rcpt, got, want)
		}
	}
	c.must("RCPT TO:<@relay.example:ok@firma.fr>", 250)
	c.must("DATA", 354)
	c.send(message(repEmail, "source route") + ".\r\n")
	c.expect(250)
	calls := e.fwd.got()
	if len(calls) != 1 || len(calls[0].env.Rcpts) != 1 || calls[0].env.Rcpts[0].Addr != "ok@firma.fr" {
		t.Fatalf("forwarded %+v, want ok@firma.fr alone", calls)
	}
}

// TestOneCopyPerPerson: two spellings of one person in one message are
// one recipient: one check, one cap slot, one copy, to the first spelling.
func TestOneCopyPerPerson(t *testing.T) {
	chk := newTableCheck()
	capper := newFakeCapper()
	e := testServer(t, withCheck(chk), withCaps(capper))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for _, r := range []string{"Jean.Dupont+1@gmail.com", "jeandupont@googlemail.com", "j.e.a.n.dupont@GMAIL.com", "paul@firma.fr"} {
		c.must("RCPT TO:<"+r+">", 250)
	}
	c.must("DATA", 354)
	c.send(message(repEmail, "one person") + ".\r\n")
	if got := c.expect(250); !strings.Contains(got, "Delivered to 2 recipient(s)") {
		t.Errorf("DATA reply %q", got)
	}
	calls := e.fwd.got()
	if len(calls) != 1 || len(calls[0].env.Rcpts) != 2 || calls[0].env.Rcpts[0].Addr != "Jean.Dupont+1@gmail.com" {
		t.Fatalf("forwarded %+v, want Jean.Dupont+1@gmail.com and paul@firma.fr", calls)
	}
	if len(chk.asked) != 2 {
		t.Errorf("the check was asked %q, want once per person", chk.asked)
	}
	wantCalls(t, capper, "reserve Jean.Dupont+1@gmail.com", "reserve paul@firma.fr",
		"commit Jean.Dupont+1@gmail.com", "commit paul@firma.fr")
}

// TestCapAddressErrorRefuses: a recipient no cap can count is refused as
// an address in error, not answered 451 as if the store were down; a rep
// whose account address cannot be counted is the administrator's to fix.
func TestCapAddressErrorRefuses(t *testing.T) {
	capper := newFakeCapper()
	_, err := lists.NormaliseEmail("jean@localhost")
	capper.fail["jean@localhost"] = &caps.AddressError{Role: "recipient", Err: err}
	capper.fail["odd@firma.fr"] = &caps.AddressError{Role: "rep", Err: err}
	e := testServer(t, withCaps(capper), withMode(Reject))
	c := e.login(t)
	c.must("MAIL FROM:<rep@acme.fr>", 250)
	for rcpt, want := range map[string]string{
		"jean@localhost": "550 5.1.3 <jean@localhost>: cannot be counted by the frequency caps: domain has a single label; want a name such as example.com [address] (ref ",
		"odd@firma.fr":   "451 4.3.5 Your account's address cannot be counted by the frequency caps; ask the administrator (ref ",
	} {
		if got := c.cmd("RCPT TO:<" + rcpt + ">"); !strings.HasPrefix(got, want) {
			t.Errorf("RCPT %s:\n got %q\nwant %q…", rcpt, got, want)
		}
	}
}
