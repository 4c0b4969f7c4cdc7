package main

import (
	"strings"
	"testing"
)

func TestFooterPreview(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "dncgate.toml", `
[footer]
company = "Acme"
postal_address = "1 rue X, Paris"
privacy_url = "https://acme.example/privacy"
source = "public company websites"
purpose = "offers of our services"
legal_basis = "legitimate interest"
[footer.lang.fr]
source = "annuaires professionnels"
purpose = "des offres de nos services"
legal_basis = "intérêt légitime"
`)
	fr := dncgate(t, "", "footer", "preview", "--country", "FR", "--config", cfg)
	fr.want(t, 0, "stdout", "pour le compte d'Acme", "auprès d'annuaires", "pendant 3 ans", "/u/PREVIEW-TOKEN")
	fr.want(t, 0, "stderr", "language: fr", "footers in de, es, it, nl show footer.source")
	if strings.Contains(fr.stdout, "public company websites") {
		t.Errorf("the French footer shows the English source:\n%s", fr.stdout)
	}
	be := dncgate(t, "", "footer", "preview", "--country", "BE", "--format", "html", "--rep", "Ann <b>", "--config", cfg)
	be.want(t, 0, "stdout", "Deze e-mail is verzonden door Ann &lt;b&gt;", "Ce message vous a été envoyé par Ann &lt;b&gt;")
	be.want(t, 0, "stderr", "language: nl+fr")
	dncgate(t, "", "footer", "preview", "--language", "de", "--config", cfg).want(t, 0, "stdout", "public company websites")
	dncgate(t, "", "footer", "preview", "--country", "FRA", "--config", cfg).want(t, 2, "stderr", `--country`)
	dncgate(t, "", "footer", "preview", "--format", "pdf", "--config", cfg).want(t, 2, "stderr", `use text or html`)
}
