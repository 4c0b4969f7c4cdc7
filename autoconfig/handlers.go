package autoconfig

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"howett.net/plist"
)

// Paths the handlers answer. Thunderbird asks autoconfig.DOMAIN/mail/…
// and DOMAIN/.well-known/autoconfig/mail/…; Outlook posts to
// autodiscover.DOMAIN/autodiscover/autodiscover.xml (any case).
const (
	PathThunderbird         = "/mail/config-v1.1.xml"
	PathThunderbirdWellKnow = "/.well-known/autoconfig/mail/config-v1.1.xml"
	PathAutodiscover        = "/autodiscover/autodiscover.xml"
	PathAutodiscoverUpper   = "/Autodiscover/Autodiscover.xml"
	PathApple               = "/autoconfig/apple.mobileconfig"
)

// maxRequest bounds an Autodiscover request body; real ones are ~400 bytes.
const maxRequest = 16 << 10

// Handler serves the three formats under their paths.
func Handler(s Settings) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathThunderbird, s.thunderbird)
	mux.HandleFunc("GET "+PathThunderbirdWellKnow, s.thunderbird)
	mux.HandleFunc("POST "+PathAutodiscover, s.autodiscover)
	mux.HandleFunc("POST "+PathAutodiscoverUpper, s.autodiscover)
	mux.HandleFunc("GET "+PathApple, s.apple)
	return mux
}

// Patterns are the mux patterns to mount Handler under.
var Patterns = []string{PathThunderbird, PathThunderbirdWellKnow, PathAutodiscover, PathAutodiscoverUpper, PathApple}

func writeXML(w http.ResponseWriter, v any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	b.WriteByte('\n')
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(b.Bytes())
}

// --- Thunderbird: clientConfig version 1.1 -------------------------------

type tbConfig struct {
	XMLName  xml.Name   `xml:"clientConfig"`
	Version  string     `xml:"version,attr"`
	Provider tbProvider `xml:"emailProvider"`
}

type tbProvider struct {
	ID       string     `xml:"id,attr"`
	Domain   string     `xml:"domain"`
	Display  string     `xml:"displayName"`
	Short    string     `xml:"displayShortName"`
	Incoming []tbServer `xml:"incomingServer"`
	Outgoing []tbServer `xml:"outgoingServer"`
}

type tbServer struct {
	Type     string `xml:"type,attr"`
	Hostname string `xml:"hostname"`
	Port     int    `xml:"port"`
	Socket   string `xml:"socketType"`
	Auth     string `xml:"authentication"`
	Username string `xml:"username"`
}

func tbSocket(t TLS) string {
	if t == Implicit {
		return "SSL"
	}
	return "STARTTLS"
}

func (s Settings) thunderbird(w http.ResponseWriter, r *http.Request) {
	domain := s.Domain
	if q := r.URL.Query().Get("emailaddress"); q != "" {
		addr, err := parseAddress(q)
		if err != nil {
			http.Error(w, "emailaddress: "+err.Error(), http.StatusBadRequest)
			return
		}
		domain = domainOf(addr)
	}
	p := tbProvider{ID: domain, Domain: domain, Display: s.DisplayName, Short: s.DisplayName,
		Outgoing: []tbServer{{Type: "smtp", Hostname: s.Submission.Host, Port: s.Submission.Port,
			Socket: tbSocket(s.Submission.TLS), Auth: "password-cleartext", Username: "%EMAILADDRESS%"}}}
	if s.IMAP != nil {
		p.Incoming = []tbServer{{Type: "imap", Hostname: s.IMAP.Host, Port: s.IMAP.Port,
			Socket: tbSocket(s.IMAP.TLS), Auth: "password-cleartext", Username: "%EMAILADDRESS%"}}
	}
	writeXML(w, tbConfig{Version: "1.1", Provider: p})
}

// --- Outlook: Autodiscover, plain old XML ---------------------------------

const (
	nsResponse = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	nsOutlook  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

type adRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		Email  string `xml:"EMailAddress"`
		Schema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

type adResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	NS       string   `xml:"xmlns,attr"`
	Response any      `xml:"Response"`
}

type adOutlook struct {
	NS      string    `xml:"xmlns,attr"`
	Account adAccount `xml:"Account"`
}

type adAccount struct {
	Type      string       `xml:"AccountType"`
	Action    string       `xml:"Action"`
	Protocols []adProtocol `xml:"Protocol"`
}

type adProtocol struct {
	Type         string `xml:"Type"`
	Server       string `xml:"Server"`
	Port         int    `xml:"Port"`
	LoginName    string `xml:"LoginName"`
	DomainReq    string `xml:"DomainRequired"`
	SPA          string `xml:"SPA"`
	SSL          string `xml:"SSL"`
	Encryption   string `xml:"Encryption,omitempty"`
	AuthRequired string `xml:"AuthRequired"`
}

type adError struct {
	Error struct {
		Code    int    `xml:"ErrorCode"`
		Message string `xml:"Message"`
	} `xml:"Error"`
}

func adProto(kind string, v Server, login string) adProtocol {
	p := adProtocol{Type: kind, Server: v.Host, Port: v.Port, LoginName: login, DomainReq: "off", SPA: "off", SSL: "on", AuthRequired: "on"}
	if v.TLS == StartTLS {
		p.Encryption = "TLS"
	} else {
		p.Encryption = "SSL"
	}
	return p
}

func (s Settings) autodiscover(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	var req adRequest
	if err == nil && len(body) <= maxRequest {
		err = xml.Unmarshal(body, &req)
	}
	addr, aerr := parseAddress(req.Request.Email)
	if err != nil || len(body) > maxRequest || aerr != nil {
		// Outlook's own error form: 600 is "invalid request".
		var e adError
		e.Error.Code, e.Error.Message = 600, "Invalid Request"
		w.WriteHeader(http.StatusOK) // clients read the XML, not the status
		writeXML(w, adResponse{NS: nsResponse, Response: e})
		return
	}
	acct := adAccount{Type: "email", Action: "settings", Protocols: []adProtocol{adProto("SMTP", s.Submission, addr)}}
	if s.IMAP != nil {
		acct.Protocols = append([]adProtocol{adProto("IMAP", *s.IMAP, addr)}, acct.Protocols...)
	}
	writeXML(w, adResponse{NS: nsResponse, Response: adOutlook{NS: nsOutlook, Account: acct}})
}

// --- Apple: a configuration profile with one mail payload ------------------

type appleProfile struct {
	Content     []appleMail `plist:"PayloadContent"`
	DisplayName string      `plist:"PayloadDisplayName"`
	Identifier  string      `plist:"PayloadIdentifier"`
	Type        string      `plist:"PayloadType"`
	UUID        string      `plist:"PayloadUUID"`
	Version     int         `plist:"PayloadVersion"`
	Description string      `plist:"PayloadDescription"`
}

type appleMail struct {
	AccountName     string `plist:"EmailAccountName"`
	AccountType     string `plist:"EmailAccountType"`
	Address         string `plist:"EmailAddress"`
	InAuth          string `plist:"IncomingMailServerAuthentication"`
	InHost          string `plist:"IncomingMailServerHostName"`
	InPort          int    `plist:"IncomingMailServerPortNumber"`
	InSSL           bool   `plist:"IncomingMailServerUseSSL"`
	InUser          string `plist:"IncomingMailServerUsername"`
	OutAuth         string `plist:"OutgoingMailServerAuthentication"`
	OutHost         string `plist:"OutgoingMailServerHostName"`
	OutPort         int    `plist:"OutgoingMailServerPortNumber"`
	OutSSL          bool   `plist:"OutgoingMailServerUseSSL"`
	OutUser         string `plist:"OutgoingMailServerUsername"`
	OutPasswordSame bool   `plist:"OutgoingPasswordSameAsIncomingPassword"`
	DisplayName     string `plist:"PayloadDisplayName"`
	Identifier      string `plist:"PayloadIdentifier"`
	Type            string `plist:"PayloadType"`
	UUID            string `plist:"PayloadUUID"`
	Version         int    `plist:"PayloadVersion"`
	PreventMove     bool   `plist:"PreventMove"`
	SMIMEEnabled    bool   `plist:"SMIMEEnabled"`
}

// uuidFor is a stable UUID (version 5 layout over SHA-256) for a name, so
// downloading the profile again replaces the one installed.
func uuidFor(name string) string {
	h := sha256.Sum256([]byte("dncgate autoconfig " + name))
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

func (s Settings) apple(w http.ResponseWriter, r *http.Request) {
	if s.IMAP == nil {
		http.Error(w, "no Apple profile: an Apple mail account needs its incoming server; the administrator sets autoconfig.imap_host", http.StatusNotFound)
		return
	}
	addr, err := parseAddress(r.URL.Query().Get("email"))
	if err != nil {
		http.Error(w, "email: "+err.Error()+"; add ?email=you@example.com", http.StatusBadRequest)
		return
	}
	id := "dncgate." + s.Submission.Host + ".mail"
	m := appleMail{AccountName: s.DisplayName, AccountType: "EmailTypeIMAP", Address: addr,
		InAuth: "EmailAuthPassword", InHost: s.IMAP.Host, InPort: s.IMAP.Port, InSSL: true, InUser: addr,
		OutAuth: "EmailAuthPassword", OutHost: s.Submission.Host, OutPort: s.Submission.Port, OutSSL: true, OutUser: addr,
		OutPasswordSame: true, DisplayName: s.DisplayName, Identifier: id + ".account", Type: "com.apple.mail.managed",
		UUID: uuidFor(addr + " account"), Version: 1}
	p := appleProfile{Content: []appleMail{m}, DisplayName: s.DisplayName, Identifier: id, Type: "Configuration",
		UUID: uuidFor(addr + " profile"), Version: 1,
		Description: "Sets up sending through " + s.Submission.Host + " for " + addr + ". The password is asked on install."}
	out, err := plist.MarshalIndent(p, plist.XMLFormat, "  ")
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="`+s.Submission.Host+`.mobileconfig"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(out)
}
