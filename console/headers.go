package console

import (
	"embed"
	"net/http"
	"strconv"
)

// contentSecurityPolicy allows the console's own stylesheet and images
// (the logo, the QR code as data:) and nothing else: no script at all,
// no frame, forms posting only here.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// setSecurityHeaders: nothing is cached (the pages name people), framed
// (no clickjacking), leaked through Referer (paths carry filters and
// references) or loaded from elsewhere.
func setSecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

//go:embed static/*
var staticFS embed.FS

// LogoPath is where the configured logo is served.
const LogoPath = Prefix + "static/logo"

// static serves the stylesheet and the logo; they hold nothing personal,
// so they may be cached for an hour.
func (c *Console) static(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body []byte
	var ctype string
	switch name {
	case "console.css":
		body, _ = staticFS.ReadFile("static/console.css")
		ctype = "text/css; charset=utf-8"
	case "logo":
		body, ctype = c.o.Logo, c.o.LogoType
	}
	if len(body) == 0 {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Header().Set("Cache-Control", "private, max-age=3600")
	w.Write(body)
}
