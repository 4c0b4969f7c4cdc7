package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/dncgate/dncgate/store/embedded"
	"github.com/dncgate/dncgate/suppression"
)

// alertFile is docs/alerts.yml as Prometheus reads a rule file.
type alertFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var familyRef = regexp.MustCompile(`\bdncgate_[a-z0-9_]+`)

// TestAlertRulesNameExportedFamilies parses the example rules strictly
// and checks that every expression names only families serve exports.
func TestAlertRulesNameExportedFamilies(t *testing.T) {
	b, err := os.ReadFile("../../docs/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f alertFile
	if err := yaml.UnmarshalStrict(b, &f); err != nil {
		t.Fatalf("docs/alerts.yml: %v", err)
	}
	exported := exportedSeries(t)
	if len(f.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || seen[r.Alert] || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %q: needs a unique name, a severity and a summary", r.Alert)
			}
			seen[r.Alert] = true
			if _, err := model.ParseDuration(r.For); err != nil {
				t.Errorf("rule %s: for %q: %v", r.Alert, r.For, err)
			}
			if strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")") || strings.Count(r.Expr, "{") != strings.Count(r.Expr, "}") {
				t.Errorf("rule %s: unbalanced brackets in %q", r.Alert, r.Expr)
			}
			refs := familyRef.FindAllString(r.Expr, -1)
			if len(refs) == 0 {
				t.Errorf("rule %s names no dncgate family", r.Alert)
			}
			for _, name := range refs {
				if !exported[name] {
					t.Errorf("rule %s: %s is not a series the gateway exports", r.Alert, name)
				}
			}
		}
	}
	for _, want := range []string{"DncgateListGoingStale", "DncgateLedgerSpoolGrowing", "DncgateLedgerWritesFailing"} {
		if !seen[want] {
			t.Errorf("no rule %s", want)
		}
	}
}

// exportedSeries are the names serve's registry exports, histograms with
// their _bucket, _sum and _count series.
func exportedSeries(t *testing.T) map[string]bool {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "dncgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The lists' families have a series once a list exists.
	if err := suppression.EnsureOptOut(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	fams, err := newGatewayMetrics(st).reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range fams {
		name := mf.GetName()
		out[name] = true
		if mf.GetType() != dto.MetricType_HISTOGRAM {
			continue
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			out[name+suffix] = true
		}
	}
	for _, want := range []string{"dncgate_list_age_seconds", "dncgate_messages_total", "dncgate_ledger_spool_bytes"} {
		if !out[want] {
			t.Fatalf("the registry does not export %s: the check would prove nothing", want)
		}
	}
	return out
}
