// Command latency times SMTP transactions one at a time against a relay:
// from connect to the reply after the final "." of DATA. It prints the
// percentiles in milliseconds as one line of JSON, for the bench script.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/emersion/go-smtp"
)

type result struct {
	Label  string  `json:"label"`
	N      int     `json:"n"`
	Errors int     `json:"errors"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Mean   float64 `json:"mean_ms"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:2525", "relay address")
	n := flag.Int("n", 1000, "transactions to time")
	size := flag.Int("size", 4096, "approximate message size in bytes")
	from := flag.String("from", "bench@example.com", "envelope sender and From: header")
	to := flag.String("to", "rcpt@example.net", "recipient")
	label := flag.String("label", "", "label copied into the output")
	flag.Parse()

	body := message(*from, *to, *size)
	var times []float64
	errs := 0
	for i := 0; i < *n; i++ {
		start := time.Now()
		if err := send(*addr, *from, *to, body); err != nil {
			errs++
			if errs == 1 {
				fmt.Fprintln(os.Stderr, "latency:", err)
			}
			continue
		}
		times = append(times, float64(time.Since(start).Microseconds())/1000)
	}
	out := summarize(times)
	out.Label, out.N, out.Errors = *label, *n, errs
	json.NewEncoder(os.Stdout).Encode(out)
	if errs > 0 {
		os.Exit(1)
	}
}

// send runs one whole transaction on a new connection, as a mail client does.
func send(addr, from, to string, body []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("latency.localhost"); err != nil {
		return err
	}
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message builds a plain-text message of about size bytes with CRLF endings.
func message(from, to string, size int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <%s>\r\nSubject: latency probe\r\n\r\n", from, to)
	line := bytes.Repeat([]byte("x"), 76)
	for b.Len() < size {
		b.Write(line)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func summarize(ms []float64) result {
	if len(ms) == 0 {
		return result{}
	}
	slices.Sort(ms)
	sum := 0.0
	for _, v := range ms {
		sum += v
	}
	at := func(q float64) float64 { return ms[int(q*float64(len(ms)-1))] }
	return result{P50: at(0.50), P99: at(0.99), Mean: sum / float64(len(ms))}
}
