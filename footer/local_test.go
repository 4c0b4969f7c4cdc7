package footer

import (
	"strings"
	"testing"
	"time"
)

// French elides "de" before a vowel, in both formats; other languages
// keep their preposition as written.
func TestFrenchElision(t *testing.T) {
	tpl := mustNew(t)
	for company, want := range map[string]string{
		"Acme":         "pour le compte d'Acme",
		"Élan Conseil": "pour le compte d'Élan Conseil",
		"Société X":    "pour le compte de Société X",
		"Hachette":     "pour le compte de Hachette",
	} {
		v := fullVars()
		v.Company = NewText(company)
		text, html, err := tpl.Render("fr", v)
		if err != nil {
			t.Fatal(err)
		}
		flat := strings.Join(strings.Fields(text), " ")
		if !strings.Contains(flat, want) || !strings.Contains(strings.ReplaceAll(html, "&#39;", "'"), want) {
			t.Errorf("company %q: want %q in\n%s\n%s", company, want, flat, html)
		}
	}
	v := fullVars()
	v.Local = map[string]Local{"fr": {Source: NewText("annuaires professionnels")}}
	text, _, _ := tpl.Render("fr", v)
	if flat := strings.Join(strings.Fields(text), " "); !strings.Contains(flat, "auprès d'annuaires professionnels") {
		t.Errorf("source not elided:\n%s", flat)
	}
}

// A language's own wording replaces the configured values in its footer
// only; a language without one shows them as written.
func TestLocalWording(t *testing.T) {
	tpl := mustNew(t)
	v := fullVars()
	v.Local = map[string]Local{
		"fr": {Source: NewText("la liste des exposants du salon Widget Expo 2026"), Purpose: NewText("des offres de pièces industrielles"),
			LegalBasis: NewText("intérêt légitime, art. 6, paragraphe 1, point f) du RGPD")},
		"de": {Purpose: NewText("Angebote für Industriebauteile")},
	}
	fr, _, _ := tpl.Render("fr-BE", v)
	fr = strings.Join(strings.Fields(fr), " ")
	if !strings.Contains(fr, "auprès de la liste des exposants") || !strings.Contains(fr, "pour des offres de pièces industrielles") ||
		strings.Contains(fr, "exhibitor list") || strings.Contains(fr, "legitimate interest") {
		t.Errorf("fr-BE footer:\n%s", fr)
	}
	de, _, _ := tpl.Render("de", v)
	de = strings.Join(strings.Fields(de), " ")
	if !strings.Contains(de, "Angebote für Industriebauteile") || !strings.Contains(de, "the exhibitor list of Widget Expo 2026") {
		t.Errorf("de footer, purpose own and source as written:\n%s", de)
	}
	en, _, _ := tpl.Render("en", v)
	if strings.Contains(en, "exposants") || strings.Contains(en, "Angebote") {
		t.Errorf("en footer took another language's wording:\n%s", en)
	}
}

// A footer for several languages holds each, in order, and resolves each
// tag on its own.
func TestSeveralLanguages(t *testing.T) {
	tpl := mustNew(t)
	for in, want := range map[string]string{"nl+fr": "nl+fr", "fr-BE+nl": "fr+nl", "xx+fr": "en+fr", "fr+fr-ca": "fr", "de": "de"} {
		if got := tpl.Resolve(in); got != want {
			t.Errorf("Resolve(%q) = %q, want %q", in, got, want)
		}
	}
	text, html, err := tpl.Render("nl+fr", fullVars())
	if err != nil {
		t.Fatal(err)
	}
	nl, fr := strings.Index(text, "Deze e-mail is verzonden"), strings.Index(text, "Ce message vous a été envoyé")
	if nl < 0 || fr < nl || strings.Count(text, fullVars().UnsubscribeURL.String()) != 2 {
		t.Errorf("bilingual text footer:\n%s", text)
	}
	if !strings.Contains(html, "Deze e-mail") || !strings.Contains(html, "Ce message") {
		t.Errorf("bilingual HTML footer:\n%s", html)
	}
	if Primary("nl+fr") != "nl" || Primary("fr") != "fr" {
		t.Error("Primary")
	}
}

// The notice says how long the address is kept, in the footer's
// language, and names the phone numbers when they are kept.
func TestRetentionSentence(t *testing.T) {
	tpl := mustNew(t)
	v := fullVars()
	v.Retention, v.KeepsPhones = 1096*24*time.Hour, true
	for tag, want := range map[string]string{
		"en": "We keep your address and the phone numbers we hold for you for 3 years after our last contact.",
		"fr": "pendant 3 ans après notre dernier contact.",
		"nl": "tot 3 jaar na ons laatste contact.",
		"de": "bis zu 3 Jahre nach unserem letzten Kontakt.",
		"es": "durante 3 años tras nuestro último contacto.",
		"it": "per 3 anni dopo l'ultimo contatto.",
	} {
		text, html, _ := tpl.Render(tag, v)
		if flat := strings.Join(strings.Fields(text), " "); !strings.Contains(flat, want) {
			t.Errorf("%s text lacks %q:\n%s", tag, want, flat)
		}
		if !strings.Contains(strings.ReplaceAll(html, "&#39;", "'"), want) {
			t.Errorf("%s HTML lacks %q", tag, want)
		}
	}
	v.KeepsPhones, v.Retention = false, 200*24*time.Hour
	text, _, _ := tpl.Render("en", v)
	if flat := strings.Join(strings.Fields(text), " "); !strings.Contains(flat, "We keep your address for 6 months") || strings.Contains(flat, "phone") {
		t.Errorf("six months, no phones:\n%s", flat)
	}
	v.Retention = 0
	if text, _, _ := tpl.Render("en", v); strings.Contains(text, "We keep") {
		t.Errorf("no retention, yet a sentence:\n%s", text)
	}
	if got := retentionText("fr", 24*time.Hour); got != "1 jour" {
		t.Errorf("one day: %q", got)
	}
}
