package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/testredis"
	"github.com/dncgate/dncgate/webhook"
)

const webhookSecret = "e2e-webhook-secret-0123456789"

// crmReceiver answers 500 until ok is set, verifying every signature,
// and keeps the events it accepted.
type crmReceiver struct {
	mu       sync.Mutex
	ok       bool
	failures int
	got      map[string]webhook.Event
	bad      []string
}

func (c *crmReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := webhook.Verify([]byte(webhookSecret), r.Header.Get(webhook.SignatureHeader), body, time.Now(), 5*time.Minute); err != nil {
		c.bad = append(c.bad, err.Error())
	}
	if !c.ok {
		c.failures++
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	var ev webhook.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		c.bad = append(c.bad, err.Error())
	}
	c.got[ev.ID] = ev
}

func (c *crmReceiver) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		done := cond()
		c.mu.Unlock()
		if done {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func TestWebhooksSurviveRestartEmbedded(t *testing.T) { webhookRestart(t, "") }

func TestWebhooksSurviveRestartRedis(t *testing.T) {
	webhookRestart(t, fmt.Sprintf("\n[store]\nbackend = \"redis\"\nredis_url = \"redis://%s/0\"\n\n[privacy]\nhmac_key = %q\n",
		testredis.Start(t), hmacKey))
}

// webhookRestart: an opt-out made with the CLI while the CRM fails is
// retried by the gateway; the gateway is stopped with it still queued,
// and once restarted it delivers it, signed, address included.
func webhookRestart(t *testing.T, extra string) {
	dir := t.TempDir()
	rec := &crmReceiver{got: map[string]webhook.Event{}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	secret := filepath.Join(dir, "crm.secret")
	os.WriteFile(secret, []byte(webhookSecret+"\n"), 0o600)
	up := startUpstream(t)
	addr := freeAddr(t)
	hooks := fmt.Sprintf("\n[[webhooks]]\nname = \"crm\"\nurl = %q\nsecret_file = %q\ntimeout = \"2s\"\n", srv.URL+"/hook", secret)
	cfg := writeConfig(t, dir, relayConfig(dir, addr, up.addr, hooks+extra))
	if extra != "" {
		mustCLI(t, "", "init", "--config", cfg)
	}
	addUser(t, "rep@acme.test", "--config", cfg)
	g := startGateway(t, addr, "--config", cfg)
	mustCLI(t, "", "optout", "add", "Gone@Firma.fr", "--reason", "asked by phone", "--by", "ops", "--config", cfg)
	rec.wait(t, "a failed attempt", func() bool { return rec.failures >= 1 })
	if err := g.stop(t); err != nil {
		t.Fatalf("stop: %v", err)
	}
	out := mustCLI(t, "", "webhooks", "ls", "--config", cfg)
	if !strings.Contains(out, "/crm") || !strings.Contains(out, "500") {
		t.Fatalf("webhooks ls with the gateway stopped:\n%s", out)
	}
	rec.mu.Lock()
	rec.ok = true
	rec.mu.Unlock()
	startGateway(t, addr, "--config", cfg)
	rec.wait(t, "the delivery after the restart", func() bool { return len(rec.got) == 1 })
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.bad) > 0 {
		t.Fatalf("the receiver refused: %v", rec.bad)
	}
	for _, ev := range rec.got {
		if ev.Type != webhook.OptOut || ev.Address != "gone@firma.fr" || ev.Source != "cli" || ev.Actor != "ops" || ev.Digest == "" {
			t.Fatalf("event %+v", ev)
		}
	}
}
