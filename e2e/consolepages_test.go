package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	gotp "github.com/pquerna/otp/totp"
)

// consoleGet fetches a console page and returns its status and body.
func consoleGet(t *testing.T, c *http.Client, web, path string) (int, string) {
	t.Helper()
	resp, err := c.Get("http://" + web + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token of a page's form.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in\n%s", page)
	}
	return m[1]
}

// consolePost posts a form (a multipart one when file is set) and returns
// the status, the Location and the body.
func consolePost(t *testing.T, c *http.Client, web, path string, form url.Values, file string) (int, string, string) {
	t.Helper()
	var body bytes.Buffer
	ctype := "application/x-www-form-urlencoded"
	if file != "" {
		w := multipart.NewWriter(&body)
		for k, vs := range form {
			for _, v := range vs {
				w.WriteField(k, v)
			}
		}
		fw, _ := w.CreateFormFile("file", "prospects.csv")
		fw.Write([]byte(file))
		w.Close()
		ctype = w.FormDataContentType()
	} else {
		body.WriteString(form.Encode())
	}
	resp, err := c.Post("http://"+web+path, ctype, &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestConsolePagesThroughTheBinary: `serve` wires every console page. An
// admin enrols a second factor at the first login, then reads the log,
// trends, lists and a list, uploads a list and follows the job to its
// end, searches and adds an opt-out, and checks a prospect file, whose
// verdicts show the upload and the opt-out in force; a rep is refused
// the admin pages.
func TestConsolePagesThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	direct, behind, web := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := writeConfig(t, dir, lockoutConfig(dir, direct, behind, web)+`
[console]
enabled = true
insecure_cookie = true

[[lists]]
name = "fr-dnc"
kind = "email"
model = "deny"
countries = ["FR"]
max_age = "5d"
`)
	addUser(t, "admin@acme.test", "--config", cfg, "--role", "admin", "--send-as", "@acme.test")
	addUser(t, "rep@acme.test", "--config", cfg)
	startGateway(t, direct, "--config", cfg)

	c, code := consoleLogin(t, web, "admin@acme.test", password)
	if code != http.StatusSeeOther {
		t.Fatalf("admin login: %d, want 303 to the enrolment", code)
	}
	status, page := consoleGet(t, c, web, "/console/login/enrol")
	m := regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("enrolment page: %d\n%s", status, page)
	}
	totpCode, err := gotp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	status, _, page = consolePost(t, c, web, "/console/login/enrol", url.Values{"csrf": {csrfOf(t, page)}, "secret": {m[1]}, "code": {totpCode}}, "")
	if status != http.StatusOK || !strings.Contains(page, `class="codes"`) {
		t.Fatalf("enrolment: %d\n%s", status, page)
	}

	for path, want := range map[string]string{
		"/console/log":          "/console/log.csv",
		"/console/trends":       "Trends",
		"/console/lists":        "fr-dnc",
		"/console/lists/fr-dnc": "fr-dnc",
		"/console/optouts?address=someone%40example.net": "someone",
		"/console/mine": "Check a prospect file",
	} {
		if status, page := consoleGet(t, c, web, path); status != http.StatusOK || !strings.Contains(page, want) {
			t.Fatalf("admin GET %s: %d, want 200 with %q\n%s", path, status, want, page)
		}
	}

	status, page = consoleGet(t, c, web, "/console/upload")
	if status != http.StatusOK {
		t.Fatalf("upload page: %d\n%s", status, page)
	}
	status, loc, page := consolePost(t, c, web, "/console/upload", url.Values{"csrf": {csrfOf(t, page)}, "kind": {"list"}, "list": {"fr-dnc"}},
		"jean@firma.fr\nmarie@firma.fr\n")
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/console/upload/") {
		t.Fatalf("upload: %d %q\n%s", status, loc, page)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, page = consoleGet(t, c, web, loc)
		if status == http.StatusOK && strings.Contains(page, "done: the new version is in force") {
			break
		}
		if status != http.StatusOK || strings.Contains(page, `<div class="error" role="alert">`) || time.Now().After(deadline) {
			t.Fatalf("job page %s: %d\n%s", loc, status, page)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(page, "+2") {
		t.Fatalf("job report lacks the 2 entries added:\n%s", page)
	}

	_, page = consoleGet(t, c, web, "/console/optouts")
	status, _, page = consolePost(t, c, web, "/console/optouts", url.Values{"csrf": {csrfOf(t, page)}, "address": {"paul@example.net"}, "reason": {"asked on the phone"}}, "")
	if status != http.StatusOK || !strings.Contains(page, "is opted out") {
		t.Fatalf("opt-out added: %d\n%s", status, page)
	}
	if _, code := cli(t, "", "optout", "check", "paul@example.net", "--config", cfg); code != 1 {
		t.Fatalf("optout check after the console's opt-out: exit %d, want 1 (opted out)", code)
	}

	_, page = consoleGet(t, c, web, "/console/mine")
	status, _, page = consolePost(t, c, web, "/console/mine/scrub", url.Values{"csrf": {csrfOf(t, page)}, "column": {"email"}},
		"email\njean@firma.fr\npaul@example.net\nann@example.net\n")
	if status != http.StatusOK {
		t.Fatalf("scrub: %d\n%s", status, page)
	}
	rows := strings.Split(strings.TrimSpace(page), "\n")
	if len(rows) != 4 || !strings.Contains(rows[1], "fr-dnc") || !strings.Contains(rows[2], "opt") || strings.Contains(rows[3], "refused") {
		t.Fatalf("scrubbed file: want jean refused by fr-dnc, paul opted out, ann not refused:\n%s", page)
	}

	r, code := consoleLogin(t, web, "rep@acme.test", password)
	if code != http.StatusSeeOther {
		t.Fatalf("rep login: %d", code)
	}
	if status, _ := consoleGet(t, r, web, "/console/mine"); status != http.StatusOK {
		t.Fatalf("rep's own page: %d", status)
	}
	for _, path := range []string{"/console/lists", "/console/lists/fr-dnc", "/console/upload", "/console/optouts", "/console/users"} {
		if status, _ := consoleGet(t, r, web, path); status != http.StatusForbidden && status != http.StatusNotFound {
			t.Fatalf("rep GET %s: %d, want 403 or 404", path, status)
		}
	}
	disableThroughTheConsole(t, cfg, c, r, direct, web)
}

// disableThroughTheConsole: the admin disables the rep on the users page;
// the rep's console session ends and SMTP AUTH and the check API refuse
// their right password as a wrong one; enabled again from the command
// line, they log in, and users ls shows when.
func disableThroughTheConsole(t *testing.T, cfg string, admin, rep *http.Client, direct, web string) {
	t.Helper()
	status, page := consoleGet(t, admin, web, "/console/users")
	if status != http.StatusOK || !strings.Contains(page, `href="/console/users/user?email=rep%40acme.test"`) {
		t.Fatalf("users page: %d\n%s", status, page)
	}
	_, page = consoleGet(t, admin, web, "/console/users/user?email=rep%40acme.test")
	status, loc, page := consolePost(t, admin, web, "/console/users/disable", url.Values{"csrf": {csrfOf(t, page)}, "email": {"rep@acme.test"}}, "")
	if status != http.StatusSeeOther || !strings.Contains(loc, "done=disabled") {
		t.Fatalf("disable: %d %q\n%s", status, loc, page)
	}
	if status, _ := consoleGet(t, rep, web, "/console/mine"); status != http.StatusSeeOther {
		t.Fatalf("the disabled rep's session: %d, want 303 to the login", status)
	}
	if code := smtpLogin(t, direct, "", password); code != 535 {
		t.Fatalf("SMTP AUTH of the disabled rep: %d, want 535", code)
	}
	if code := apiLogin(t, web, password); code != http.StatusUnauthorized {
		t.Fatalf("check API login of the disabled rep: %d, want 401", code)
	}
	if out, code := cli(t, "", "users", "enable", "rep@acme.test", "--config", cfg); code != 0 {
		t.Fatalf("users enable: exit %d\n%s", code, out)
	}
	if code := smtpLogin(t, direct, "", password); code != 235 {
		t.Fatalf("SMTP AUTH of the enabled rep: %d, want 235", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := cli(t, "", "users", "ls", "--json", "--config", cfg)
		var users []struct {
			Email     string  `json:"email"`
			Disabled  bool    `json:"disabled"`
			LastLogin *string `json:"last_login"`
		}
		if err := json.Unmarshal([]byte(out), &users); err != nil {
			t.Fatalf("users ls --json: %v\n%s", err, out)
		}
		if len(users) == 2 && users[1].Email == "rep@acme.test" && !users[1].Disabled && users[1].LastLogin != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("users ls --json shows no last login of the rep:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
