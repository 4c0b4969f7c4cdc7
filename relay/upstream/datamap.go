package upstream

import "github.com/dncgate/dncgate/datamap"

// DataMap declares the outbox (outbox.go), the upstream for trying
// dncgate out.
var DataMap = []datamap.Entry{{
	Kind: "outbox", What: "with upstream.url = outbox:DIR only: every copy forwarded, whole (envelope, headers, body), one .eml file per recipient",
	Where: "the outbox folder (DATA_DIR/outbox by default)", Form: datamap.FormPlain,
	Retention: "until someone deletes the files: nothing expires them; use a real upstream in production", Readers: "the dncgate user and root",
}}
