package bounce

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// copyMarkers begin the returned copy of the original message in the
// plain-text bounces of qmail, Exim, Postfix and the large providers;
// nothing after one is read, since the original's words are ours (or the
// forger's), not the remote server's.
var copyMarkers = []string{
	"--- below this line is a copy of the message",
	"------ this is a copy of the message",
	"--- enclosed is a copy of the message",
	"--- original message follows",
	"----- original message -----",
	"original message headers",
}

// phrases stand for a status in bounces that give none; the first match
// wins, so the permanent ones come first.
var phrases = []struct{ text, status string }{
	{"no mailbox here by that name", "5.1.1"},
	{"user unknown", "5.1.1"},
	{"unknown user", "5.1.1"},
	{"no such user", "5.1.1"},
	{"doesn't have a", "5.1.1"}, // "This user doesn't have a yahoo.com account"
	{"does not exist", "5.1.1"},
	{"recipient not found", "5.1.1"},
	{"account has been disabled", "5.2.1"},
	{"mailbox is full", "5.2.2"},
	{"mailbox full", "5.2.2"},
	{"over quota", "5.2.2"},
	{"quota exceeded", "5.2.2"},
}

// readText reads a bounce in words: the first enhanced status code in a
// server's reply quoted by the text, else the first known phrase.
func readText(texts [][]byte) (Report, error) {
	var words []string
	for _, t := range texts {
		words = append(words, beforeCopy(t)...)
	}
	for _, line := range words {
		if m := statusInText.FindStringSubmatch(line); m != nil {
			return Report{Format: FormatText, Status: m[1], Kind: Classify(m[1])}, nil
		}
	}
	for _, line := range words {
		l := strings.ToLower(line)
		for _, p := range phrases {
			if strings.Contains(l, p.text) {
				return Report{Format: FormatText, Status: p.status, Kind: Classify(p.status)}, nil
			}
		}
	}
	return Report{}, fmt.Errorf("%w: no status code or known phrase in the text", ErrMalformed)
}

// beforeCopy returns the lines of t up to the returned copy.
func beforeCopy(t []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(t))
	sc.Buffer(nil, maxPartBytes)
	for sc.Scan() {
		line := sc.Text()
		l := strings.ToLower(strings.TrimSpace(line))
		for _, m := range copyMarkers {
			if strings.HasPrefix(l, m) {
				return out
			}
		}
		out = append(out, line)
	}
	return out
}
