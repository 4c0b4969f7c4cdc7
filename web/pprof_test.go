package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

const pprofToken = "pprof-token-0123456789"

// pprofServer serves the web side with the profiles behind token, or
// without them when token is empty.
func pprofServer(t *testing.T, token string) string {
	t.Helper()
	var mounts []Mount
	if m, ok := Pprof([]byte(token)); ok {
		mounts = append(mounts, m)
	}
	s, err := New("127.0.0.1:0", &pinger{}, slog.New(slog.DiscardHandler), mounts...)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "http://" + s.Addr().String()
}

func TestPprofNeedsTheToken(t *testing.T) {
	base := pprofServer(t, pprofToken)
	for _, path := range []string{PprofPath, PprofPath + "goroutine?debug=1", PprofPath + "cmdline", PprofPath + "heap"} {
		for _, auth := range []string{"", "Bearer wrong", "Bearer " + pprofToken[:len(pprofToken)-1], pprofToken} {
			if code, body := scrape(t, base+path, auth); code != http.StatusUnauthorized || strings.Contains(body, "goroutine") {
				t.Errorf("%s with Authorization %q: %d %q, want 401 and no profile", path, auth, code, body)
			}
		}
	}
	code, body := scrape(t, base+PprofPath+"goroutine?debug=1", "Bearer "+pprofToken)
	if code != http.StatusOK || !strings.Contains(body, "goroutine profile:") {
		t.Fatalf("goroutines with the token: %d\n%.300s", code, body)
	}
	if code, body := scrape(t, base+PprofPath, "Bearer "+pprofToken); code != http.StatusOK || !strings.Contains(body, "heap") {
		t.Errorf("index with the token: %d\n%.300s", code, body)
	}
}

func TestPprofOffIsNotFound(t *testing.T) {
	if _, ok := Pprof(nil); ok {
		t.Fatal("Pprof mounted the profiles without a token")
	}
	base := pprofServer(t, "")
	for _, auth := range []string{"", "Bearer " + pprofToken} {
		if code, body := scrape(t, base+PprofPath+"goroutine?debug=1", auth); code != http.StatusNotFound {
			t.Errorf("pprof off, Authorization %q: %d %q, want 404", auth, code, body)
		}
	}
	// Importing net/http/pprof registers on http.DefaultServeMux; the web
	// side must not serve that mux.
	if code, _ := scrape(t, base+"/debug/pprof/cmdline", ""); code != http.StatusNotFound {
		t.Errorf("default mux's pprof reachable: %d", code)
	}
}
