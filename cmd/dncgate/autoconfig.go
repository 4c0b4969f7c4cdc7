package main

import (
	"strings"

	"github.com/dncgate/dncgate/autoconfig"
	"github.com/dncgate/dncgate/config"
	"github.com/dncgate/dncgate/web"
)

// autoconfigMounts serves the mail clients' set-up files when
// [autoconfig] is enabled; Validate has refused a configuration where no
// listener with TLS fits.
func autoconfigMounts(cfg *config.Config) []web.Mount {
	if !cfg.Autoconfig.Enabled {
		return nil
	}
	s := autoconfigSettings(cfg)
	h := autoconfig.Handler(s)
	var ms []web.Mount
	for _, p := range autoconfig.Patterns {
		ms = append(ms, web.Mount{Pattern: p, Handler: h})
	}
	return ms
}

func autoconfigSettings(cfg *config.Config) autoconfig.Settings {
	a := cfg.Autoconfig
	host, port, tls, _ := cfg.AutoconfigServer()
	s := autoconfig.Settings{Submission: autoconfig.Server{Host: host, Port: port, TLS: autoconfig.TLS(tls)},
		DisplayName: a.DisplayName, Domain: a.Domain}
	if h, p, t, ok := a.IMAP(); ok {
		s.IMAP = &autoconfig.Server{Host: h, Port: p, TLS: autoconfig.TLS(t)}
	}
	if s.DisplayName == "" {
		s.DisplayName = host
		if f, samples := cfg.FooterDetails(); !samples {
			s.DisplayName = f.Company
		}
	}
	if s.Domain == "" {
		s.Domain = cfg.Server.Hostname
		if _, parent, ok := strings.Cut(s.Domain, "."); ok && strings.Contains(parent, ".") {
			s.Domain = parent
		}
	}
	return s
}
