package relay

import (
	"strings"
	"testing"
	"time"
)

// TestTraceFields: every copy starts with a Received field naming the
// gateway and the authenticated submission (RFC 5321 §4.4, RFC 3848), the
// client only when configured, and gets a Date when it has none.
func TestTraceFields(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)
	const stamp = "Thu, 03 Dec 2026 14:05:00 +0000"
	clock := func(o *Options) { o.Now = func() time.Time { return now } }
	tests := []struct {
		name   string
		opts   []option
		header string
		want   string // the copy's start, with REF for the reference
	}{
		{"gateway only", nil, "",
			"Received: by relay.test (dncgate) with ESMTPA id REF;\r\n\t" + stamp + "\r\nDate: " + stamp + "\r\nFrom: "},
		{"client named", []option{func(o *Options) { o.ReceivedClient = true }}, "",
			"Received: from client.test ([127.0.0.1])\r\n\tby relay.test (dncgate) with ESMTPA id REF;\r\n\t" + stamp + "\r\nDate: " + stamp + "\r\nFrom: "},
		{"date kept", nil, "Date: Wed, 02 Dec 2026 09:00:00 +0100\r\n",
			"Received: by relay.test (dncgate) with ESMTPA id REF;\r\n\t" + stamp + "\r\nDate: Wed, 02 Dec 2026 09:00:00 +0100\r\nFrom: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testServer(t, append(tt.opts, clock)...)
			c := e.login(t)
			startData(t, c, "p@prospect.test")
			c.send(tt.header + message(repEmail, "trace") + ".\r\n")
			ref := refOf(t, c.expect(250))
			got := e.fwd.copies["p@prospect.test"]
			if want := strings.ReplaceAll(tt.want, "REF", ref); !strings.HasPrefix(got, want) {
				t.Errorf("copy starts\n%q\nwant\n%q", got[:min(len(got), len(want)+20)], want)
			}
			if strings.Count(got, "Date: ") != 1 || strings.Count(got, "Received: ") != 1 {
				t.Errorf("copy has %d Date and %d Received fields:\n%s", strings.Count(got, "Date: "), strings.Count(got, "Received: "), got)
			}
			if tt.name != "client named" && strings.Contains(got, "127.0.0.1") {
				t.Errorf("the client's address is named though not configured:\n%s", got)
			}
		})
	}
}
