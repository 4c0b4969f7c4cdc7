package console

import "github.com/dncgate/dncgate/store"

// Paths of the built-in pages.
const (
	HomePath      = Prefix + "log"
	LoginPath     = Prefix + "login"
	LogoutPath    = Prefix + "logout"
	LogoutAllPath = Prefix + "logout-all"
	LanguagePath  = Prefix + "language"
)

// builtinPages are the pages of this package; a page defined in another
// file of the package is added here.
func (c *Console) builtinPages() []Page {
	return append([]Page{
		{Pattern: "GET " + LoginPath, Public: true, Template: "login.html.tmpl", Serve: c.loginForm},
		{Pattern: "POST " + LoginPath, Public: true, Template: "login.html.tmpl", Serve: c.loginPost},
		{Pattern: "POST " + LogoutPath, Role: store.RoleRep, Serve: c.logout},
		{Pattern: "POST " + LogoutAllPath, Role: store.RoleRep, Serve: c.logoutAll},
		{Pattern: "GET " + LanguagePath, Public: true, Serve: c.chooseLanguage},
		{Pattern: "GET " + TOTPPath, Role: store.RoleRep, Step: stepTOTP, Template: "code.html.tmpl", Serve: c.codeForm},
		{Pattern: "POST " + TOTPPath, Role: store.RoleRep, Step: stepTOTP, Template: "code.html.tmpl", Serve: c.codePost},
		{Pattern: "GET " + EnrolPath, Role: store.RoleRep, Step: stepEnrol, Template: "enrol.html.tmpl", Serve: c.enrolForm},
		{Pattern: "POST " + EnrolPath, Role: store.RoleRep, Step: stepEnrol, Template: "enrol.html.tmpl", Serve: c.enrolPost},
		{Pattern: "GET " + AccountPath, Role: store.RoleRep, Nav: "nav.account", Template: "enrol.html.tmpl", Serve: c.account},
		{Pattern: "POST " + AccountPath, Role: store.RoleRep, Template: "enrol.html.tmpl", Serve: c.accountPost},
		{Pattern: "GET " + HomePath, Role: store.RoleRep, Nav: "nav.log", Template: "log.html.tmpl", Serve: c.logPage},
		{Pattern: "GET " + ExportPath, Role: store.RoleRep, Serve: c.exportCSV},
		{Pattern: "GET " + ResetPath, Role: store.RoleAdmin, Nav: "nav.reset", Template: "reset.html.tmpl", Serve: c.resetForm},
		{Pattern: "POST " + ResetPath, Role: store.RoleAdmin, Template: "reset.html.tmpl", Serve: c.resetPost},
		{Pattern: "GET " + TransactionPath + "{ref}", Role: store.RoleRep, Template: "tx.html.tmpl", Serve: c.transaction},

		// The audit trail, for managers and admins.
		{Pattern: "GET " + AuditPath, Role: store.RoleManager, Nav: "nav.audit", Template: "audit.html.tmpl", Serve: c.auditPage},
		{Pattern: "GET " + AuditExportPath, Role: store.RoleManager, Serve: c.auditExport},
	}, append(c.reviewPages(), c.userPages()...)...)
}

// stepPath is the page of a pending login step.
func (c *Console) stepPath(step string) string {
	switch step {
	case stepTOTP:
		return TOTPPath
	case stepEnrol:
		return EnrolPath
	}
	return LoginPath
}
