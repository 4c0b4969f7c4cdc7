// Package lang reads the language tags footers are chosen by and names the
// default one. It imports nothing of the module, so the configuration can
// state its default without loading the templates.
package lang

import (
	"regexp"
	"strings"
)

// Default is the fallback when neither the requested language nor a
// configured fallback has a template.
const Default = "en"

// Shipped are the languages the gateway has footer templates for; the
// footer package's test holds them to the files.
var Shipped = []string{"de", "en", "es", "fr", "it", "nl"}

// pattern is the language tags accepted: a 2-3 letter primary subtag and
// optional subtags (BCP 47 §2.1, simplified), once normalised.
var pattern = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{1,8})*$`)

// Norm lower-cases a language tag and writes "_" as "-" (BCP 47 §2.1.1:
// tags are case-insensitive).
func Norm(s string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", "-"))
}

// Valid reports whether a normalised tag is one a template file may be
// named for.
func Valid(tag string) bool { return pattern.MatchString(tag) }
