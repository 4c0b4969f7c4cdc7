package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsOnByDefaultWithoutToken(t *testing.T) {
	c, err := Load(writeConfig(t, "[web]\nlisten = \"127.0.0.1:8080\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.MetricsToken()
	if !c.Web.Metrics || tok != nil || err != nil {
		t.Errorf("metrics %v, token %q, err %v; want on, none, nil", c.Web.Metrics, tok, err)
	}
	c, err = Load(writeConfig(t, "[web]\nmetrics = false\n"))
	if err != nil || c.Web.Metrics {
		t.Errorf("metrics = false gave %v, %v", c.Web.Metrics, err)
	}
}

func TestMetricsTokenIsTheFilesOneLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "metrics.token")
	if err := os.WriteFile(p, []byte("  s3cr3t-s3cr3t-s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(writeConfig(t, "[web]\nmetrics_token_file = \""+p+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.MetricsToken()
	if err != nil || string(tok) != "s3cr3t-s3cr3t-s3cr3t" {
		t.Errorf("token %q, %v", tok, err)
	}
	if err := os.WriteFile(p, []byte("two words-that-are-long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(writeConfig(t, "[web]\nmetrics_token_file = \""+p+"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "one word on one line") || strings.Contains(err.Error(), "words-that") {
		t.Errorf("a two-word token: %v", err)
	}
}

func TestPprofOffByDefaultAndNeedsItsToken(t *testing.T) {
	c, err := Load(writeConfig(t, "[web]\nlisten = \"127.0.0.1:8080\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.PprofToken(); c.Web.Pprof || tok != nil || err != nil {
		t.Errorf("pprof %v, token %q, err %v; want off, none, nil", c.Web.Pprof, tok, err)
	}
	p := filepath.Join(t.TempDir(), "pprof.token")
	if err := os.WriteFile(p, []byte("pprof-s3cr3t-s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Load(writeConfig(t, "[web]\nlisten = \"127.0.0.1:8080\"\npprof = true\npprof_token_file = \""+p+"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := c.PprofToken(); string(tok) != "pprof-s3cr3t-s3cr3t" || err != nil {
		t.Errorf("token %q, %v", tok, err)
	}
	os.WriteFile(p, []byte("short\n"), 0o600)
	_, err = Load(writeConfig(t, "[web]\nlisten = \"127.0.0.1:8080\"\npprof = true\npprof_token_file = \""+p+"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "web.pprof_token_file") || strings.Contains(err.Error(), "short") {
		t.Errorf("a short token: %v", err)
	}
	_, err = Load(writeConfig(t, "[web]\npprof = true\npprof_token_file = \""+p+"\"\n"))
	if err == nil || !strings.Contains(err.Error(), "needs web.listen") {
		t.Errorf("pprof without web.listen: %v", err)
	}
}
