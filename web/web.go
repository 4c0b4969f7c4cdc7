// Package web is dncgate's HTTP side: the health endpoints an operator's
// load balancer and orchestrator poll, and whatever other handlers the
// binary mounts beside them (the unsubscribe endpoint, later the managers'
// pages).
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// Pinger is what readiness asks: does the store answer?
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP listener.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// Mount is a handler served under a pattern of net/http.ServeMux
// ("/u/" serves every path below /u/).
type Mount struct {
	Pattern string
	Handler http.Handler
}

// New listens on addr. The mux answers /healthz (the process is up) and
// /readyz (the store answers within a second, so sending would work), and
// each mount under its pattern.
func New(addr string, store Pinger, log *slog.Logger, mounts ...Mount) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		plain(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := store.Ping(ctx); err != nil {
			log.Warn("readiness: store does not answer", "err", err)
			plain(w, http.StatusServiceUnavailable, "store unavailable")
			return
		}
		plain(w, http.StatusOK, "ready")
	})
	for _, m := range mounts {
		mux.Handle(m.Pattern, m.Handler)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	return &Server{srv: srv, ln: ln, log: log}, nil
}

// Wrap replaces the listener by wrap(listener), before Serve: for a
// listener behind a load balancer that reads PROXY headers.
func (s *Server) Wrap(wrap func(net.Listener) net.Listener) { s.ln = wrap(s.ln) }

// Addr is the address actually listened on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve runs until Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting and waits for running requests until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func plain(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write([]byte(text + "\n"))
}
