package web

import (
	"net/http"
	"net/http/pprof"
)

// PprofPath is where Go's profiles are served when web.pprof is on.
const PprofPath = "/debug/pprof/"

// Pprof serves net/http/pprof under PprofPath to requests that carry
// "Authorization: Bearer TOKEN" (RFC 6750 §2.1), the same check as
// /metrics' token; without it, 401. A profile holds the gateway's memory
// (a heap profile's addresses, a goroutine dump's arguments), so there is
// no way to serve it without a token: an empty one is refused here, as
// config refuses web.pprof without web.pprof_token_file.
//
// The handlers are mounted on the web listener's own mux, never on
// http.DefaultServeMux (where importing net/http/pprof registers them for
// any server using it).
func Pprof(token []byte) (Mount, bool) {
	if len(token) == 0 {
		return Mount{}, false
	}
	mux := http.NewServeMux()
	mux.HandleFunc(PprofPath, pprof.Index)
	mux.HandleFunc(PprofPath+"cmdline", pprof.Cmdline)
	mux.HandleFunc(PprofPath+"profile", pprof.Profile)
	mux.HandleFunc(PprofPath+"symbol", pprof.Symbol)
	mux.HandleFunc(PprofPath+"trace", pprof.Trace)
	return Mount{Pattern: PprofPath, Handler: bearer("dncgate pprof", token, noStore(mux))}, true
}

// noStore keeps proxies and browsers from keeping a profile.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}
