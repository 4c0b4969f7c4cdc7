package metrics

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/dncgate/dncgate/internal/teststore"
	"github.com/dncgate/dncgate/listdb"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gauges gathers reg and returns family -> list -> value.
func gauges(t *testing.T, reg *prometheus.Registry) map[string]map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]float64{}
	for _, f := range fams {
		out[f.GetName()] = map[string]float64{}
		for _, m := range f.GetMetric() {
			out[f.GetName()][listLabel(m)] = m.GetGauge().GetValue()
		}
	}
	return out
}

func listLabel(m *dto.Metric) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == "list" {
			return l.GetValue()
		}
	}
	return ""
}

func importAt(t *testing.T, st listdb.Store, name string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	w, err := st.BeginVersion(ctx, name, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, []listdb.Digest{{1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Commit(ctx, listdb.Version{ImportedAt: at, ImportedBy: "test"}); err != nil {
		t.Fatal(err)
	}
}

func TestListAgeOnEachStore(t *testing.T) {
	teststore.Each(t, func(t *testing.T, st teststore.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		for _, m := range []listdb.Meta{
			{Name: "fr-bloctel", Kind: "phone", Model: "deny", MaxAge: 30 * 24 * time.Hour},
			{Name: "never", Kind: "email", Model: "deny", MaxAge: time.Hour},
		} {
			if err := st.PutList(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		importAt(t, st, "fr-bloctel", now.Add(-48*time.Hour))
		reg := prometheus.NewRegistry()
		clock := now
		reg.MustRegister(NewLists(st, ListsOptions{CacheFor: time.Minute, Now: func() time.Time { return clock }}))

		g := gauges(t, reg)
		if got := g["dncgate_list_age_seconds"]["fr-bloctel"]; got != 48*3600 {
			t.Errorf("fr-bloctel age %v, want %v", got, 48*3600)
		}
		if got := g["dncgate_list_max_age_seconds"]["fr-bloctel"]; got != 30*24*3600 {
			t.Errorf("fr-bloctel max age %v", got)
		}
		if got := g["dncgate_list_age_seconds"]["never"]; !math.IsInf(got, 1) {
			t.Errorf("a list never imported has age %v, want +Inf", got)
		}

		// A new import shows once the cache has run out, not before.
		importAt(t, st, "fr-bloctel", now)
		clock = now.Add(30 * time.Second)
		if got := gauges(t, reg)["dncgate_list_age_seconds"]["fr-bloctel"]; got != 48*3600+30 {
			t.Errorf("within the cache: age %v, want the cached version's %v", got, 48*3600+30)
		}
		clock = now.Add(2 * time.Minute)
		if got := gauges(t, reg)["dncgate_list_age_seconds"]["fr-bloctel"]; got != 120 {
			t.Errorf("after the cache: age %v, want 120", got)
		}
	})
}

type failingLists struct{}

func (failingLists) Lists(context.Context) ([]listdb.Info, error) {
	return nil, errors.New("connection refused")
}

func TestListAgeStoreDownIsAScrapeError(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewLists(failingLists{}, ListsOptions{}))
	if _, err := reg.Gather(); err == nil {
		t.Fatal("Gather hid that the lists could not be read")
	}
}
