package lists

import "github.com/dncgate/dncgate/datamap"

// LogDataMap declares what the operational log (stderr, the journal
// under systemd) holds of people: addresses as MaskEmail writes them.
var LogDataMap = []datamap.Entry{{
	Kind: "operational log", What: "decisions, opt-outs and admin actions as they happen, for the operator",
	Where: "stderr (the systemd journal under the unit)", Form: datamap.FormMasked + " (with the keyed digest where a line names a person)",
	Retention: "the journal's or the log collector's rotation", Readers: "the operator (journalctl, the log collector)",
}}
