package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

type pinger struct{ down atomic.Bool }

func (p *pinger) Ping(context.Context) error {
	if p.down.Load() {
		return errors.New("connection refused")
	}
	return nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestHealthAndReadiness(t *testing.T) {
	p := &pinger{}
	s, err := New("127.0.0.1:0", p, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr().String()

	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok" {
		t.Fatalf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 || body != "ready" {
		t.Fatalf("/readyz with store up = %d %q", code, body)
	}
	p.down.Store(true)
	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with store down = %d, want 503", code)
	}
	if code, _ := get(t, base+"/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown path = %d, want 404", code)
	}
}

func TestMounts(t *testing.T) {
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("mounted " + r.URL.Path))
	})
	s, err := New("127.0.0.1:0", &pinger{}, slog.New(slog.DiscardHandler), Mount{Pattern: "/u/", Handler: hello})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	defer s.Shutdown(context.Background())
	base := "http://" + s.Addr().String()
	if code, body := get(t, base+"/u/abc"); code != 200 || body != "mounted /u/abc" {
		t.Fatalf("/u/abc = %d %q", code, body)
	}
	if code, body := get(t, base+"/healthz"); code != 200 || body != "ok" {
		t.Fatalf("/healthz beside a mount = %d %q", code, body)
	}
	if code, _ := get(t, base+"/v/abc"); code != http.StatusNotFound {
		t.Fatalf("path outside the mounts = %d, want 404", code)
	}
}
