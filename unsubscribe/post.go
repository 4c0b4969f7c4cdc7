package unsubscribe

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
)

// How a POST asked for the opt-out, as the log records it.
const (
	viaOneClick = "one-click"
	viaForm     = "form"
	viaMailto   = "mailto"
)

// Form fields. oneClickField and oneClickValue are fixed by RFC 8058 §3.1.
const (
	oneClickField = "List-Unsubscribe"
	oneClickValue = "One-Click"
	csrfField     = "csrf"
)

// classify reads the body and says which kind of POST this is, or the
// status to refuse it with.
//
// Why a one-click POST needs no CSRF field: CSRF is a third party making a
// visitor's browser use the visitor's ambient authority (a cookie, a
// session). This endpoint has none: the only authority is the sealed token
// in the URL, a capability for one recipient that nobody can forge. A site
// that could make a browser POST to the URL already knows the token and
// could POST it itself; RFC 8058 §3.2 wants exactly that to work, from a
// mail provider, without cookies. The CSRF field on our own form only
// keeps any other cross-site form (one without the one-click body) from
// counting as a click on our button.
func (h *Handler) classify(w http.ResponseWriter, r *http.Request, tok string) (string, int) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "", http.StatusRequestEntityTooLarge
	}
	if err != nil {
		return "", http.StatusBadRequest
	}
	// RFC 8058 §3.2 names the body; an empty one is accepted too, as some
	// senders of the POST leave it out.
	if len(bytes.TrimSpace(raw)) == 0 {
		return viaOneClick, 0
	}
	form, status := parseForm(r.Header.Get("Content-Type"), raw)
	switch {
	case status != 0:
		return "", status
	case form.Get(oneClickField) == oneClickValue:
		return viaOneClick, 0
	case h.csrf.valid(tok, form.Get(csrfField)):
		return viaForm, 0
	}
	return "", http.StatusForbidden
}

// parseForm reads a form-urlencoded (also when the type is missing) or
// multipart/form-data body.
func parseForm(contentType string, raw []byte) (url.Values, int) {
	if contentType == "" {
		contentType = "application/x-www-form-urlencoded"
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(strings.TrimSpace(string(raw)))
		if err != nil {
			return nil, http.StatusBadRequest
		}
		return v, 0
	case "multipart/form-data":
		return parseMultipart(raw, params["boundary"])
	}
	return nil, http.StatusUnsupportedMediaType
}

func parseMultipart(raw []byte, boundary string) (url.Values, int) {
	if boundary == "" {
		return nil, http.StatusBadRequest
	}
	r := multipart.NewReader(bytes.NewReader(raw), boundary)
	// The body is already bounded by maxBody, so all of it may sit in
	// memory; files are not expected and are dropped.
	f, err := r.ReadForm(maxBody)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	defer f.RemoveAll()
	return url.Values(f.Value), 0
}

// csrf makes and checks the confirmation form's hidden field: an HMAC of
// the token, so it is bound to this one link and needs no server state.
type csrf struct{ key []byte }

// csrfContext separates this use of the key from any other.
const csrfContext = "dncgate unsubscribe csrf v1\x00"

func (c csrf) field(tok string) string {
	return base64.RawURLEncoding.EncodeToString(c.mac(tok))
}

func (c csrf) valid(tok, given string) bool {
	got, err := base64.RawURLEncoding.DecodeString(given)
	return err == nil && hmac.Equal(got, c.mac(tok))
}

func (c csrf) mac(tok string) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(csrfContext))
	m.Write([]byte(tok))
	return m.Sum(nil)
}
